import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { transformStack } from '../../main/sites/band-transform.ts';
import { blocksAround, mergeSites } from '../../main/sites/site-blocks.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { cellCenterX, cellCenterY, type GridSpec } from '../../main/grid/grid-spec.ts';
import { Rng } from '../../main/util/rng.ts';
import { InvalidOptionError } from '../../main/errors.ts';
import { initBackend } from '../../main/models/backend.ts';
import { explainSite } from '../../main/api/explain-requests.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';
import { writeRandomRun } from './random-run.ts';

/**
 * The Compare view's `explainSite` request against `geoanomaly explain` (the reference): same
 * run, same stack, same sites. explain.json holds each deposit site's Grad-CAM peak and centre
 * value and each DCN's mean offset magnitude and mean mask; explain-maps.tif holds, for every
 * cell, Grad-CAM at the window centre and the centre cell's mean offset magnitude. The request
 * must give the same numbers (1e-6 absolute: float32 values computed by the same kernels, the
 * command in a batch of windows, the request one window at a time).
 */
const TOL = 1e-6;
const names = ['Au', 'Cu', 'As'];

describe('explainSite request (Compare view site panels)', () => {
  it('equals geoanomaly explain at the deposit sites (explain.json) and at any cell (explain-maps.tif)', async () => {
    await initBackend('auto'); // what the command and the request use
    const dir = tempDir('ga-explain-site-');
    const grid: GridSpec = { originX: 500_000, originY: 4_802_000, cellSizeX: 200, cellSizeY: 200, rows: 24, cols: 21, crs: crsFromEpsg(32645) };
    const rng = new Rng(23);
    const n = grid.rows * grid.cols;
    const stack = { grid, bandNames: names, bands: names.map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.7)))) };
    const stackPath = join(dir, 'stack.tif');
    writeGeoTiff(stackPath, stack);
    const { stats } = transformStack(stack, { transform: 'log10-standardize' });
    const runDir = join(dir, 'run');
    await writeRandomRun(runDir, ['cnn', 'dcn'], stats, { patchSize: 9, stemFilters: 8, stageFilters: [8, 8], denseUnits: 8 }, 7);
    // Deposit centres inside and at the edge of the grid (the edge one has a reflected window).
    const deposits = [5 * grid.cols + 6, 12 * grid.cols + 14, 1 * grid.cols + 19];
    const set = mergeSites(grid, blocksAround(grid, deposits, { label: 1, source: 'deposit' }), blocksAround(grid, [20 * grid.cols + 3], { label: 0, source: 'auto' }));
    const sitesPath = join(dir, 'sites.geojson');
    writeSitesGeoJson(sitesPath, set);

    const out = join(dir, 'explain');
    await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'main/cli/bin.mjs'), 'explain', '--run', runDir, '--stack', stackPath, '--sites', sitesPath, '--out', out], { cwd: REPO_ROOT, timeout: 240_000 });
    const ref = JSON.parse(readFileSync(join(out, 'explain.json'), 'utf8')) as {
      sites: { siteId: string; row: number; col: number; models: Record<string, { gradcamPeak: number; gradcamCentre: number; meanOffsetCells?: number; meanMask?: number }> }[];
    };
    expect(ref.sites).toHaveLength(3);
    let nonZero = 0;
    for (const s of ref.sites) {
      // A click anywhere in the cell explains that cell: use a point off the centre.
      const t0 = performance.now();
      const r = await explainSite({ runDir, stack: stackPath, x: cellCenterX(grid, s.col) + 60, y: cellCenterY(grid, s.row) - 40 });
      console.log(`explainSite ${s.siteId}: ${(performance.now() - t0).toFixed(0)} ms (2 models, 9×9 window)`);
      expect([r.row, r.col]).toEqual([s.row, s.col]);
      expect(r.models.map((m) => m.name)).toEqual(['cnn', 'dcn']);
      for (const m of r.models) {
        const e = s.models[m.name];
        expect(Math.abs(m.gradcam.peak - e.gradcamPeak)).toBeLessThanOrEqual(TOL);
        expect(Math.abs(m.gradcam.centre - e.gradcamCentre)).toBeLessThanOrEqual(TOL);
        expect(m.gradcam.values).toHaveLength(81);
        expect(Math.max(...m.gradcam.values)).toBe(m.gradcam.peak);
        if (m.gradcam.peak > 0) nonZero++;
        if (m.name === 'dcn') {
          expect(m.offsets).not.toBeNull();
          expect(Math.abs((m.offsets?.meanOffsetCells ?? NaN) - (e.meanOffsetCells ?? NaN))).toBeLessThanOrEqual(TOL);
          expect(Math.abs((m.offsets?.meanMask ?? NaN) - (e.meanMask ?? NaN))).toBeLessThanOrEqual(TOL);
          expect(m.offsets?.centreTaps).toHaveLength(9);
        } else {
          expect(m.offsets).toBeNull();
        }
      }
    }
    // Random-initialised models still give non-trivial heat maps (else the comparison proves little).
    expect(nonZero).toBeGreaterThan(0);

    // Any cell, not only deposits: the centre values of the request = the command's explanation rasters.
    const maps = await readGeoTiff(join(out, 'explain-maps.tif'));
    for (const [row, col] of [
      [0, 0],
      [10, 7],
      [23, 20],
    ]) {
      const r = await explainSite({ runDir, stack: stackPath, x: cellCenterX(grid, col), y: cellCenterY(grid, row) });
      const cell = row * grid.cols + col;
      for (const m of r.models) {
        expect(Math.abs(m.gradcam.centre - maps.bands[maps.bandNames.indexOf(`gradcam_${m.name}`)][cell])).toBeLessThanOrEqual(TOL);
      }
      const dcn = r.models.find((m) => m.name === 'dcn')?.offsets;
      if (!dcn) throw new Error('dcn has no offsets');
      const centre = Math.floor(dcn.height / 2) * dcn.width + Math.floor(dcn.width / 2);
      expect(Math.abs(dcn.meanMagnitude[centre] - maps.bands[maps.bandNames.indexOf('offset_magnitude_dcn')][cell])).toBeLessThanOrEqual(TOL);
    }

    // A chosen layer and class 0 are honoured; a click outside the grid is refused with the reason.
    const r0 = await explainSite({ runDir, stack: stackPath, x: cellCenterX(grid, 6), y: cellCenterY(grid, 5), layer: 'stem_conv', classIndex: 0 });
    expect(r0.models.map((m) => m.gradcam.layer)).toEqual(['stem_conv', 'stem_conv']);
    expect(r0.models[1].offsets?.layer).toBe(r0.models[1].deformableLayers[0]);
    await expect(explainSite({ runDir, stack: stackPath, x: grid.originX - 1000, y: grid.originY })).rejects.toThrow(InvalidOptionError);
    await expect(explainSite({ runDir, stack: stackPath, x: grid.originX - 1000, y: grid.originY })).rejects.toThrow(/outside the 24×21 grid/);
  }, 300_000);
});
