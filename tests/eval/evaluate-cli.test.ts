import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { cellCenterX, cellCenterY } from '../../main/grid/grid-spec.ts';
import { blocksAround, mergeSites } from '../../main/sites/site-blocks.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { writeJsonAtomic } from '../../main/util/atomic-write.ts';
import { evaluateMap } from '../../main/eval/success-rate.ts';
import { concentrationArea } from '../../main/eval/concentration-area.ts';
import { gdalinfo } from '../helpers/gdal.ts';
import { tempDir } from '../helpers/paths.ts';
import { Rng } from '../../main/util/rng.ts';

const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: 40, cols: 50, crs: crsFromEpsg(32645) };

function fixtureMap(): Float32Array {
  const rng = new Rng(3);
  const v = new Float32Array(grid.rows * grid.cols);
  for (let r = 0; r < grid.rows; r++) {
    for (let c = 0; c < grid.cols; c++) {
      const d = Math.hypot(r - 20, c - 25);
      v[r * grid.cols + c] = Math.min(0.999, Math.max(0.001, 0.9 * Math.exp(-d / 8) + 0.05 * rng.uniform()));
    }
  }
  for (let r = 0; r < 5; r++) for (let c = 0; c < 5; c++) v[r * grid.cols + c] = NaN;
  return v;
}

describe('geoanomaly evaluate', () => {
  it('writes auc, successRate, paIntersection and caBreaks; excludes training-site cells; counts every deposit', async () => {
    const dir = tempDir();
    const scores = fixtureMap();
    const mapPath = join(dir, 'prob.tif');
    writeGeoTiff(mapPath, { grid, bandNames: ['gk-dcn'], bands: [scores] });
    // Deposits: (20,25) and (22,27) are training deposits; (18,30), (25,20), (10,40) held out;
    // (2,2) lies on nodata; one point is outside the map.
    const cells: [number, number][] = [[20, 25], [22, 27], [18, 30], [25, 20], [10, 40], [2, 2]];
    const features = cells.map(([r, c]) => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [cellCenterX(grid, c), cellCenterY(grid, r)] } }));
    features.push({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [grid.originX - 5000, grid.originY - 5000] } });
    const depositsPath = join(dir, 'deposits.geojson');
    writeJsonAtomic(depositsPath, { type: 'FeatureCollection', crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32645' } }, features });
    const sitesPath = join(dir, 'sites.geojson');
    const pos = blocksAround(grid, [20 * grid.cols + 25, 22 * grid.cols + 27], { label: 1, source: 'deposit' });
    const neg = blocksAround(grid, [35 * grid.cols + 5, 5 * grid.cols + 45], { label: 0, source: 'auto' });
    writeSitesGeoJson(sitesPath, mergeSites(grid, pos, neg));
    const outPath = join(dir, 'eval.json');
    const classesPath = join(dir, 'classes.tif');
    const code = await main(['evaluate', '--map', mapPath, '--deposits', depositsPath, '--exclude-training', sitesPath, '--classes', classesPath, '--out', outPath]);
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(outPath, 'utf8'));
    for (const k of ['auc', 'successRate', 'paIntersection', 'caBreaks']) expect(report).toHaveProperty(k);
    // The two deposit blocks overlap in one cell: 9 + 9 − 1 + 2 × 9 = 35 excluded cells.
    expect(pos.length + neg.length).toBe(35);
    expect(report.counts).toMatchObject({ deposits: 6, depositsUsed: 3, depositsExcluded: 2, depositsInNodata: 1, depositsOutsideMap: 1, excludedCells: 35 });
    expect(report.counts.studyCells).toBe(grid.rows * grid.cols - 25 - 35);
    // Same numbers as the library called on the expected cells (reference: evaluateMap, tested against brute force).
    const exclude = new Uint8Array(grid.rows * grid.cols);
    for (const s of [...pos, ...neg]) exclude[s.row * grid.cols + s.col] = 1;
    const direct = evaluateMap(scores, cells.map(([r, c]) => r * grid.cols + c), { exclude });
    expect(report.auc).toBe(direct.auc);
    expect(report.successRate.auc).toBe(direct.successRate.auc);
    expect(report.paIntersection).toEqual(direct.paIntersection);
    expect(report.caBreaks).toEqual(concentrationArea(scores, { cellArea: 1 }).breaks);
    // The held-out deposits sit near the anomaly centre: the map ranks them high.
    expect(report.auc).toBeGreaterThan(0.7);
    // The classes raster is a valid GeoTIFF (gdalinfo) with classes 1 … breaks + 1 and nodata kept.
    const info = gdalinfo(classesPath);
    expect(info.size).toEqual([grid.cols, grid.rows]);
    expect(info.bands[0].minimum).toBe(1);
    expect(info.bands[0].maximum).toBe(report.caBreaks.length + 1);
  });

  it('accepts a deposit raster paired by index and user-edited C–A breaks', async () => {
    const dir = tempDir();
    const scores = fixtureMap();
    const mapPath = join(dir, 'prob.tif');
    writeGeoTiff(mapPath, { grid, bandNames: ['p'], bands: [scores] });
    // Label grid shifted 60 km west (like the Tianshan labels): cell (r, c) is map cell (r, c + 2) by index.
    const labelGrid: GridSpec = { ...grid, originX: grid.originX - 60_000 };
    const label = new Float32Array(grid.rows * grid.cols);
    label[18 * grid.cols + 28] = 1;
    label[25 * grid.cols + 18] = 1;
    const labelPath = join(dir, 'deposits.tif');
    writeGeoTiff(labelPath, { grid: labelGrid, bandNames: ['deposit'], bands: [label] });
    const outPath = join(dir, 'eval.json');
    // Without the explicit pairing the misaligned raster is refused.
    expect(await main(['evaluate', '--map', mapPath, '--deposits', labelPath, '--out', outPath])).toBe(1);
    const code = await main(['evaluate', '--map', mapPath, '--deposits', labelPath, '--align-by-index', '0,2', '--ca-breaks', '0.2,0.5', '--out', outPath]);
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(outPath, 'utf8'));
    expect(report.caBreaks).toEqual([0.2, 0.5]);
    expect(report.ca.source).toBe('user');
    const direct = evaluateMap(scores, [18 * grid.cols + 30, 25 * grid.cols + 20]);
    expect(report.auc).toBe(direct.auc);
    expect(report.counts.depositsUsed).toBe(2);
  });

  it('fails with a usage error when --map is missing', async () => {
    expect(await main(['evaluate', '--deposits', 'x.geojson', '--out', 'y.json'])).toBe(2);
  });
});
