import { describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { cellCenterX, cellCenterY } from '../../main/grid/grid-spec.ts';
import { writeJsonAtomic } from '../../main/util/atomic-write.ts';
import { segmentsFromFeatures } from '../../main/faults/fault-lines.ts';
import { distanceFromFaultMask, distanceFromSegments } from '../../main/faults/distance-to-faults.ts';
import { CancelledError, GridMismatchError } from '../../main/errors.ts';
import { fitDensityPowerLaw } from '../../main/faults/power-law.ts';
import { weightMap } from '../../main/faults/weight-map.ts';
import { faultDistanceFromFile, parseWhere } from '../../main/faults/fault-inputs.ts';
import { gdalEpsg, gdalinfo, gdalStats } from '../helpers/gdal.ts';
import { tempDir } from '../helpers/paths.ts';

const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 500, cellSizeY: 500, rows: 40, cols: 60, crs: crsFromEpsg(32645) };
const CRS_MEMBER = { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32645' } };
const faultFeatures = [
  { type: 'Feature' as const, properties: { id: 'F1' }, geometry: { type: 'LineString' as const, coordinates: [[499_000, 4_590_000], [512_000, 4_581_000], [531_000, 4_579_500]] } },
  { type: 'Feature' as const, properties: { id: 'F2' }, geometry: { type: 'LineString' as const, coordinates: [[520_000, 4_601_000], [522_500, 4_579_000]] } },
];
// Deposits at increasing distance from the faults (rows/cols of the grid).
const depositCells: [number, number][] = [[20, 10], [21, 12], [19, 30], [22, 40], [15, 44], [10, 20], [5, 5], [35, 50], [30, 25], [2, 55]];

function capture(): { err: () => string; restore: () => void } {
  const chunks: string[] = [];
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (chunks.push(String(s)), true));
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  return { err: () => chunks.join(''), restore: () => (e.mockRestore(), o.mockRestore()) };
}

function setup(): { dir: string; ref: string; faults: string; deposits: string } {
  const dir = tempDir();
  const ref = join(dir, 'ref.tif');
  const band = new Float32Array(grid.rows * grid.cols).fill(1);
  band[0] = NaN; // one nodata cell: excluded from ring areas, NaN in the outputs
  writeGeoTiff(ref, { grid, bandNames: ['Au'], bands: [band] });
  const faults = join(dir, 'faults.geojson');
  writeJsonAtomic(faults, { type: 'FeatureCollection', crs: CRS_MEMBER, features: faultFeatures });
  const deposits = join(dir, 'deposits.geojson');
  writeJsonAtomic(deposits, {
    type: 'FeatureCollection',
    crs: CRS_MEMBER,
    features: depositCells.map(([r, c]) => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [cellCenterX(grid, c), cellCenterY(grid, r)] } })),
  });
  return { dir, ref, faults, deposits };
}

describe('geoanomaly faults', () => {
  it('writes distance, weight, buffers and a report matching the library (checked with gdalinfo)', async () => {
    const f = setup();
    const out = (n: string): string => join(f.dir, n);
    const io = capture();
    const code = await main([
      'faults', '--faults', f.faults, '--grid', f.ref, '--deposits', f.deposits, '--ring', '1000',
      '--distance', out('dist.tif'), '--weight', out('w.tif'), '--report', out('pl.json'), '--buffers', '500,2000', '--buffers-out', out('buf.tif'),
    ]);
    io.restore();
    expect(code, io.err()).toBe(0);
    const report = JSON.parse(readFileSync(out('pl.json'), 'utf8'));
    for (const k of ['N', 'k', 'r2', 'rings']) expect(report).toHaveProperty(k);
    // Reference: the same computation through the library (itself tested against brute force and R lm).
    const d = distanceFromSegments(grid, segmentsFromFeatures(faultFeatures));
    d[0] = NaN;
    const excluded = new Uint8Array(d.length);
    excluded[0] = 1;
    const fit = fitDensityPowerLaw(grid, Float32Array.from(d), depositCells.map(([r, c]) => r * grid.cols + c), { ringWidthM: 1000, excluded });
    expect(report.k).toBe(fit.k);
    expect(report.N).toBe(fit.N);
    expect(report.r2).toBe(fit.r2);
    expect(report.rings.length).toBe(fit.maxRing);
    expect(report.rings.reduce((a: number, r: { deposits: number }) => a + r.deposits, 0)).toBe(10);
    expect(report.rings.reduce((a: number, r: { cells: number }) => a + r.cells, 0)).toBeLessThanOrEqual(grid.rows * grid.cols - 1);

    const di = gdalinfo(out('dist.tif'));
    expect(di.size).toEqual([60, 40]);
    expect(gdalEpsg(di)).toBe(32645);
    expect(di.bands[0].description).toBe('fault_distance_m');
    let max = 0;
    let sum = 0;
    for (let i = 1; i < d.length; i++) {
      max = Math.max(max, d[i]);
      sum += Math.fround(d[i]);
    }
    const ds = gdalStats(di.bands[0]);
    expect(Math.abs(ds.max - Math.fround(max))).toBeLessThan(1e-3); // Float32 metres
    expect(Math.abs(ds.mean - sum / (d.length - 1))).toBeLessThan(1e-3);
    expect(ds.validPercent).toBeCloseTo((100 * (d.length - 1)) / d.length, 2);

    const wi = gdalStats(gdalinfo(out('w.tif')).bands[0]);
    const w = weightMap(Float32Array.from(d), { k: fit.k, ringWidthM: 1000, maxRing: fit.maxRing });
    let wmin = Infinity;
    let wmax = -Infinity;
    for (let i = 1; i < w.length; i++) {
      wmin = Math.min(wmin, w[i]);
      wmax = Math.max(wmax, w[i]);
    }
    expect(wi.min).toBeCloseTo(wmin, 6);
    expect(wi.max).toBeCloseTo(wmax, 6);
    expect(wmax).toBe(1);

    const bi = gdalinfo(out('buf.tif'));
    expect(bi.bands.map((b) => b.description)).toEqual(['buffer_500m', 'buffer_2000m']);
    const frac = (m: number): number => d.filter((v, i) => i > 0 && v <= m).length / (d.length - 1);
    expect(gdalStats(bi.bands[0]).mean).toBeCloseTo(frac(500), 6);
    expect(gdalStats(bi.bands[1]).mean).toBeCloseTo(frac(2000), 6);
  });

  it('bad input exits 1 with the named error and its numbers; a missing output is a usage error (2)', async () => {
    const f = setup();
    const far = join(f.dir, 'far.geojson');
    writeJsonAtomic(far, { type: 'FeatureCollection', crs: CRS_MEMBER, features: [{ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[100_000, 100_000], [110_000, 100_000]] } }] });
    let io = capture();
    let code = await main(['faults', '--faults', far, '--grid', f.ref, '--deposits', f.deposits, '--report', join(f.dir, 'x.json')]);
    io.restore();
    expect(code).toBe(1);
    expect(io.err()).toMatch(/NoFaultsInGridError: .*none of its 1 fault segments crosses the grid/);

    const outside = join(f.dir, 'outside.geojson');
    writeJsonAtomic(outside, { type: 'FeatureCollection', crs: CRS_MEMBER, features: [{ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [400_000, 4_000_000] } }] });
    io = capture();
    code = await main(['faults', '--faults', f.faults, '--grid', f.ref, '--deposits', outside, '--report', join(f.dir, 'x.json')]);
    io.restore();
    expect(code).toBe(1);
    expect(io.err()).toMatch(/DepositsOutsideGridError: .*1 of 1 deposit point\(s\) lie outside the 40×60 grid/);

    io = capture();
    code = await main(['faults', '--faults', f.faults, '--grid', f.ref, '--deposits', f.deposits, '--ring', '100000', '--report', join(f.dir, 'x.json')]);
    io.restore();
    expect(code).toBe(1);
    expect(io.err()).toMatch(/PowerLawFitError: all 10 deposit cell\(s\) fall in 1 ring\(s\) of 100000 m/);

    io = capture();
    code = await main(['faults', '--faults', f.faults, '--grid', f.ref, '--deposits', f.deposits]);
    io.restore();
    expect(code).toBe(2);
    expect(io.err()).toMatch(/nothing to write/);

    io = capture();
    code = await main(['faults', '--faults', f.faults, '--fault-where', 'id=F9', '--grid', f.ref, '--k=-0.5', '--weight', join(f.dir, 'w.tif')]);
    io.restore();
    expect(code).toBe(1);
    expect(io.err()).toMatch(/NoFaultsInGridError: .*none of its 2 features has id = F9/);
  });

  it('a fault raster on another grid needs --align-by-index; paired, it gives the EDT of the shifted mask', async () => {
    const f = setup();
    // Fault raster 2 rows north and 3 columns west of the reference, one row/column larger.
    const fg: GridSpec = { ...grid, originX: grid.originX - 3 * 500, originY: grid.originY + 2 * 500, rows: grid.rows + 1, cols: grid.cols + 1 };
    const band = new Float32Array(fg.rows * fg.cols);
    for (let c = 0; c < fg.cols; c++) band[12 * fg.cols + c] = 1; // an E–W fault along label row 12
    band[30 * fg.cols + 7] = 5;
    const path = join(f.dir, 'faults.tif');
    writeGeoTiff(path, { grid: fg, bandNames: ['faults'], bands: [band] });
    await expect(faultDistanceFromFile(path, grid)).rejects.toThrow(GridMismatchError);
    const r = await faultDistanceFromFile(path, grid, { alignByIndex: { rows: -2, cols: -3 } });
    const mask = new Uint8Array(grid.rows * grid.cols);
    // Label columns 3…60 land on reference columns 0…57; columns 58 and 59 have no label cell.
    for (let c = 0; c <= 57; c++) mask[10 * grid.cols + c] = 1;
    mask[28 * grid.cols + 4] = 1;
    expect(r.kind).toBe('raster');
    expect(Array.from(r.distanceM)).toEqual(Array.from(distanceFromFaultMask(grid, mask)));
    expect(r.distanceM[0]).toBe(10 * 500);
  });

  it('a cancelled distance job stops with CancelledError', () => {
    const ac = new AbortController();
    ac.abort();
    expect(() => distanceFromSegments(grid, segmentsFromFeatures(faultFeatures), {}, { signal: ac.signal })).toThrow(CancelledError);
  });

  it('--fault-where keeps only the matching faults (distance equals the library on that fault alone)', async () => {
    const f = setup();
    const g = { ...grid };
    const only = await faultDistanceFromFile(f.faults, g, { where: parseWhere('id=F2') });
    const ref = distanceFromSegments(g, segmentsFromFeatures([faultFeatures[1]]));
    expect(only.elements).toBe(1);
    expect(Array.from(only.distanceM)).toEqual(Array.from(ref));
    expect(() => parseWhere('favourable')).toThrow(/KEY=VALUE/);
  });
});
