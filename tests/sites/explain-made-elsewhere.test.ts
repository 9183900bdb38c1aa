import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { transformStack } from '../../main/sites/band-transform.ts';
import { blocksAround, mergeSites } from '../../main/sites/site-blocks.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { explainCommand } from '../../main/cli/commands/explain.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { cellCenterX, cellCenterY, type GridSpec } from '../../main/grid/grid-spec.ts';
import { Rng } from '../../main/util/rng.ts';
import { runCommand } from '../helpers/run-command.ts';
import { tempDir } from '../helpers/paths.ts';
import { writeRandomRun } from '../maps/random-run.ts';
import { initBackend } from '../../main/models/backend.ts';

/**
 * Issue 16: a sites file made elsewhere (one point per site, no `centre` property) made
 * `explain` fail with "no deposit (label 1) block centre among the sites". The reference is
 * the same command on the workbench's own sites file (3×3 blocks with `centre`): the inferred
 * centres must give the same explain.json (same sites, same Grad-CAM numbers, exactly).
 */
describe('explain on a sites file without centre properties', () => {
  it('infers the centres, says so, and explains the same deposit sites as the workbench\'s own sites file', async () => {
    await initBackend('auto'); // what the command uses; the random run is built on it
    const dir = tempDir('ga-explain-elsewhere-');
    const grid: GridSpec = { originX: 500_000, originY: 4_802_000, cellSizeX: 200, cellSizeY: 200, rows: 24, cols: 21, crs: crsFromEpsg(32645) };
    const rng = new Rng(5);
    const names = ['Au', 'Cu'];
    const n = grid.rows * grid.cols;
    const stack = { grid, bandNames: names, bands: names.map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.7)))) };
    const stackPath = join(dir, 'stack.tif');
    writeGeoTiff(stackPath, stack);
    const { stats } = transformStack(stack, { transform: 'log10-standardize' });
    const runDir = join(dir, 'run');
    await writeRandomRun(runDir, ['cnn'], stats, { patchSize: 9, stemFilters: 8, stageFilters: [8, 8], denseUnits: 8 }, 3);
    const deposits = [5 * grid.cols + 6, 12 * grid.cols + 14];
    const negative = 20 * grid.cols + 3;
    const ours = join(dir, 'ours.geojson');
    writeSitesGeoJson(ours, mergeSites(grid, blocksAround(grid, deposits, { label: 1, source: 'deposit' }), blocksAround(grid, [negative], { label: 0, source: 'auto' })));
    // As QGIS would save it: one point per site, a label, nothing else.
    const pt = (cell: number, label: number): object => ({ type: 'Feature', properties: { label }, geometry: { type: 'Point', coordinates: [cellCenterX(grid, cell % grid.cols), cellCenterY(grid, Math.floor(cell / grid.cols))] } });
    const elsewhere = join(dir, 'qgis.geojson');
    writeFileSync(elsewhere, JSON.stringify({ type: 'FeatureCollection', crs: { type: 'name', properties: { name: 'EPSG:32645' } }, features: [pt(deposits[0], 1), pt(deposits[1], 1), pt(negative, 0)] }));

    const common = ['--run', runDir, '--stack', stackPath, '--gradcam', '--no-maps'];
    const a = await runCommand(explainCommand, [...common, '--sites', elsewhere, '--out', join(dir, 'a')]);
    expect(a.code).toBe(0);
    expect(a.err.join('\n')).toMatch(/qgis\.geojson: no "centre" property: inferred the centre of each of 3 site\(s\)/);
    await runCommand(explainCommand, [...common, '--sites', ours, '--out', join(dir, 'b')]);
    type Sites = { sites: { row: number; col: number; models: Record<string, { gradcamPeak: number; gradcamCentre: number }> }[] };
    const ja = JSON.parse(readFileSync(join(dir, 'a', 'explain.json'), 'utf8')) as Sites;
    const jb = JSON.parse(readFileSync(join(dir, 'b', 'explain.json'), 'utf8')) as Sites;
    expect(ja.sites.map((s) => [s.row, s.col])).toEqual(jb.sites.map((s) => [s.row, s.col]));
    expect(ja.sites).toHaveLength(2);
    ja.sites.forEach((s, i) => expect(s.models).toEqual(jb.sites[i].models)); // same windows, same kernels: identical numbers
  }, 120_000);
});
