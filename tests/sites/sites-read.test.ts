import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Feature, FeatureCollection } from 'geojson';
import { describe, expect, it } from 'vitest';
import { sitesCommand } from '../../main/cli/commands/sites.ts';
import { evaluateCommand } from '../../main/cli/commands/evaluate.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { readSitesGeoJson, sitesFromFeatures, sitesReadNote } from '../../main/sites/sites-geojson.ts';
import { SiteConflictError } from '../../main/sites/site-errors.ts';
import { runCommand } from '../helpers/run-command.ts';
import { tempDir } from '../helpers/paths.ts';

/**
 * Sites files made elsewhere: no `centre` property (centres inferred, checked against NumPy's
 * nearest-to-centroid), and duplicate sites in one cell (--dedupe refuse|first, cells checked
 * against GDAL's gdallocationinfo).
 */
const GRID: GridSpec = { originX: 499000, originY: 4610000, cellSizeX: 250, cellSizeY: 250, rows: 42, cols: 32, crs: crsFromEpsg(32645) };
const CRS = { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32645' } };
const pt = (x: number, y: number, properties: Record<string, unknown>): Feature => ({ type: 'Feature', properties, geometry: { type: 'Point', coordinates: [x, y] } });

function gridFile(dir: string): string {
  const path = join(dir, 'grid.tif');
  writeGeoTiff(path, { grid: GRID, bandNames: ['Au'], bands: [Float32Array.from({ length: GRID.rows * GRID.cols }, (_, i) => 1 + (i % 7))] });
  return path;
}

/** NumPy: per group, the index of the member nearest the group's centroid (argmin: the first on a tie). */
function numpyCentres(xy: number[][], groups: string[]): number[] {
  const py = [
    'import json, sys, numpy as np',
    'd = json.loads(sys.argv[1]); xy = np.array(d["xy"], float); g = np.array(d["g"])',
    'out = []',
    'for k in dict.fromkeys(d["g"]):',
    '    idx = np.flatnonzero(g == k); c = xy[idx].mean(axis=0)',
    '    out.append(int(idx[np.argmin(((xy[idx] - c) ** 2).sum(axis=1))]))',
    'print(json.dumps(sorted(out)))',
  ].join('\n');
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, JSON.stringify({ xy, g: groups })], { encoding: 'utf8' })) as number[];
}

/** GDAL: pixel (col) and line (row) of map coordinates on the grid file. */
function gdalCell(file: string, x: number, y: number): { row: number; col: number } {
  const out = execFileSync('gdallocationinfo', ['-geoloc', '-valonly', '-xml', file, String(x), String(y)], { encoding: 'utf8' });
  return { col: Number(/pixel="(\d+)"/.exec(out)?.[1]), row: Number(/line="(\d+)"/.exec(out)?.[1]) };
}

describe('sites without a centre property (made elsewhere)', () => {
  it('one point per site: each is its own centre, and the reader says so (explain\'s deposit centres are then found)', async () => {
    const dir = tempDir();
    const file = join(dir, 'qgis-sites.geojson');
    const fc: FeatureCollection = { type: 'FeatureCollection', features: [pt(500100, 4601100, { label: 1 }), pt(503100, 4605100, { label: 1 }), pt(505100, 4603100, { label: 0 })] };
    writeFileSync(file, JSON.stringify({ ...fc, crs: CRS }));
    const r = await readSitesGeoJson(file, GRID);
    expect(r.sites.every((s) => s.centre)).toBe(true);
    expect(r.inferredCentres).toBe(3);
    expect(r.sites.filter((s) => s.centre && s.label === 1)).toHaveLength(2); // explain's selection (main/maps/explain.ts)
    expect(sitesReadNote(file, r)).toMatch(/no "centre" property: inferred the centre of each of 3 site\(s\)/);
  });

  it('several cells per site (shared siteId): the cell nearest the site centroid, as NumPy finds it', () => {
    const xy = [
      [500125, 4601125], [500375, 4601125], [500625, 4601125], [500375, 4601375], // site A: a T of 4 cells
      [504125, 4604125], [504375, 4604375], // site B: 2 cells (a tie: the first)
      [506125, 4608125], // site C: alone
    ];
    const ids = ['A', 'A', 'A', 'A', 'B', 'B', 'C'];
    const features = xy.map(([x, y], i) => pt(x, y, { label: ids[i] === 'C' ? 0 : 1, siteId: ids[i] }));
    const r = sitesFromFeatures(GRID, features, 'made-elsewhere.geojson');
    const centres = r.sites.map((s, i) => (s.centre ? i : -1)).filter((i) => i >= 0);
    expect(centres).toEqual(numpyCentres(xy, ids));
    expect(r.inferredCentres).toBe(3);
    // A file that has centres keeps them.
    const given = sitesFromFeatures(GRID, features.map((f, i) => ({ ...f, properties: { ...f.properties, centre: i === 0 } })), 'ours.geojson');
    expect(given.inferredCentres).toBe(0);
    expect(given.sites.filter((s) => s.centre)).toHaveLength(1);
  });
});

describe('duplicate sites in one cell: --dedupe refuse|first', () => {
  it('a sites file: refuse lists every shared cell and names --dedupe first; first keeps the first feature of each cell', () => {
    const features = [pt(500100, 4601100, { label: 1 }), pt(500200, 4601200, { label: 1 }), pt(503100, 4605100, { label: 0 }), pt(503150, 4605150, { label: 1 }), pt(505100, 4603100, { label: 0 })];
    const e = (() => { try { sitesFromFeatures(GRID, features, 's.geojson', { dedupeFlag: '--dedupe first' }); return null; } catch (x) { return x as Error; } })();
    expect(e).toBeInstanceOf(SiteConflictError);
    // Cells by hand: row = floor((4610000 − y)/250), col = floor((x − 499000)/250).
    expect(e?.message).toContain('2 cell(s) hold more than one site (row 35 col 4: features 1, 2; row 19 col 16: features 3, 4)');
    expect(e?.message).toContain('--dedupe first');
    // The app (no flags) is told to remove the extra features, without a flag it does not have.
    expect(() => sitesFromFeatures(GRID, features, 's.geojson')).toThrow(/Remove the extra features\.$/);
    const r = sitesFromFeatures(GRID, features, 's.geojson', { dedupe: 'first' });
    expect(r.sites.map((s) => s.label)).toEqual([1, 0, 0]);
    expect(r.duplicatesDropped).toBe(2);
  });

  it('geoanomaly sites: deposits of two features in one cell are refused with the cell GDAL places them in; --dedupe first keeps one', async () => {
    const dir = tempDir();
    const grid = gridFile(dir);
    const deposits = join(dir, 'deposits.geojson');
    const pts = [[500100, 4601100], [500230, 4601010], [503100, 4605100]];
    writeFileSync(deposits, JSON.stringify({ type: 'FeatureCollection', crs: CRS, features: pts.map(([x, y], i) => pt(x, y, { id: i })) }));
    const args = ['--deposits', deposits, '--grid', grid, '--negatives', 'none', '--block-radius', '0', '--out', join(dir, 's.geojson')];
    const e = await runCommand(sitesCommand, args).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SiteConflictError);
    const c = gdalCell(grid, pts[0][0], pts[0][1]);
    expect(gdalCell(grid, pts[1][0], pts[1][1])).toEqual(c);
    expect((e as Error).message).toContain(`1 grid cell(s) hold deposit points of more than one feature (row ${c.row} col ${c.col}: features 1, 2)`);
    expect((e as Error).message).toContain('--dedupe first');
    const ok = await runCommand(sitesCommand, [...args, '--dedupe', 'first']);
    expect(ok.out[0]).toContain('(2 deposit cells)');
    expect(ok.err.join('\n')).toMatch(/--dedupe first: dropped 1 deposit feature/);
    await expect(runCommand(sitesCommand, [...args, '--dedupe', 'last'])).rejects.toThrow(/--dedupe must be "first" or "refuse"/);
  });

  it('evaluate --exclude-training: a sites file with two sites in one cell names --dedupe first, which evaluate accepts', async () => {
    const dir = tempDir();
    const map = gridFile(dir);
    const deposits = join(dir, 'holdout.geojson');
    writeFileSync(deposits, JSON.stringify({ type: 'FeatureCollection', crs: CRS, features: [pt(505100, 4603100, {})] }));
    const training = join(dir, 'training.geojson');
    writeFileSync(training, JSON.stringify({ type: 'FeatureCollection', crs: CRS, features: [pt(500100, 4601100, { label: 1 }), pt(500200, 4601200, { label: 1 })] }));
    const args = ['--map', map, '--deposits', deposits, '--exclude-training', training, '--ca-segments', '2', '--out', join(dir, 'e.json')];
    await expect(runCommand(evaluateCommand, args)).rejects.toThrow(/row 35 col 4: features 1, 2.*pass --dedupe first/s);
    expect((await runCommand(evaluateCommand, [...args, '--dedupe', 'first'])).code).toBe(0);
  });
});
