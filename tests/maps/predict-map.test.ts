import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { openStackSource } from '../../main/maps/stack-source.ts';
import { predictMap, predictMapToGeoTiff, MASK_LEFT_GRID, MASK_FILLED_NODATA, type NamedClassifier } from '../../main/maps/predict-map.ts';
import { extractPatches } from '../../main/sites/patches.ts';
import { transformStack } from '../../main/sites/band-transform.ts';
import type { SiteSet } from '../../main/sites/site-blocks.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { Rng } from '../../main/util/rng.ts';
import { BandMismatchError } from '../../main/errors.ts';
import { gdalinfo } from '../helpers/gdal.ts';
import { tempDir } from '../helpers/paths.ts';

const grid: GridSpec = { originX: 0, originY: 2300, cellSizeX: 100, cellSizeY: 100, rows: 23, cols: 17, crs: crsFromEpsg(32645) };
const names = ['Au', 'Cu', 'As'];

function makeStack(seed: number): { grid: GridSpec; bandNames: string[]; bands: Float32Array[] } {
  const rng = new Rng(seed);
  return { grid, bandNames: names, bands: names.map(() => Float32Array.from({ length: grid.rows * grid.cols }, () => Math.exp(rng.normal(1, 0.8)))) };
}

/** A fixed, position-sensitive scorer: sigmoid of a weighted sum of every window value. */
function linearClassifier(k: number, C: number, seed: number): NamedClassifier {
  const rng = new Rng(seed);
  const w = Float32Array.from({ length: k * k * C }, () => rng.normal(0, 0.1));
  return {
    name: `lin${seed}`,
    classify: (x, n) => {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < w.length; j++) s += w[j] * x[i * w.length + j];
        out[i] = 1 / (1 + Math.exp(-s));
      }
      return out;
    },
  };
}

describe('full-map prediction', () => {
  it('streamed tiles equal in-memory patch extraction cell for cell (reflect padding, same transform)', async () => {
    const dir = tempDir();
    const stack = makeStack(1);
    writeGeoTiff(join(dir, 's.tif'), stack);
    const { stats } = transformStack(stack, { transform: 'log10-standardize' });
    const k = 5;
    const clf = linearClassifier(k, 3, 7);
    // In memory: every cell as a site, patches from the sites module.
    const all: SiteSet = { grid, sites: [] };
    for (let r = 0; r < grid.rows; r++) for (let c = 0; c < grid.cols; c++) all.sites.push({ row: r, col: c, label: 0, siteId: `s${r}_${c}`, groupId: `s${r}_${c}`, source: 'user', centre: true });
    const patches = extractPatches(stack, all, { size: k, stats });
    const expected = clf.classify(patches.x, all.sites.length) as Float32Array;
    // Streamed, with tiny tiles (3 rows) and batches (7 windows) to exercise every boundary.
    const src = await openStackSource(join(dir, 's.tif'));
    const got = new Float32Array(grid.rows * grid.cols).fill(-1);
    const mask = new Float32Array(grid.rows * grid.cols).fill(-1);
    await predictMap(src, [clf], { window: k, bandNames: names, stats, batchSize: 7, tileRows: 3 }, (r0, p, m) => {
      got.set(p[0], r0 * grid.cols);
      mask.set(m, r0 * grid.cols);
    });
    await src.close();
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - expected[i])).toBeLessThan(1e-6); // float32 sums: 1e-6
    // Cells within 2 of the border are flagged as having left the grid, and only those.
    for (let r = 0; r < grid.rows; r++) {
      for (let c = 0; c < grid.cols; c++) {
        const edge = r < 2 || c < 2 || r >= grid.rows - 2 || c >= grid.cols - 2;
        expect(mask[r * grid.cols + c]).toBe(edge ? MASK_LEFT_GRID : 0);
      }
    }
  });

  it('nodata centre → nodata out; nodata inside a window is filled and flagged; GeoTIFF is GDAL-valid with a difference band', async () => {
    const dir = tempDir();
    const stack = makeStack(2);
    const { stats } = transformStack(stack, { transform: 'log10-standardize' });
    stack.bands[1][10 * grid.cols + 8] = NaN;
    writeGeoTiff(join(dir, 's.tif'), stack);
    const src = await openStackSource(join(dir, 's.tif'));
    const a = linearClassifier(3, 3, 1);
    const b = linearClassifier(3, 3, 2);
    const out = join(dir, 'prob.tif');
    const { bandNames } = await predictMapToGeoTiff(src, [a, b], { window: 3, bandNames: names, stats, difference: [a.name, b.name] }, out);
    await src.close();
    expect(bandNames).toEqual(['p_lin1', 'p_lin2', 'diff_lin1_minus_lin2', 'window_mask']);
    const info = gdalinfo(out);
    expect(info.size).toEqual([grid.cols, grid.rows]);
    expect(info.bands.map((x) => x.description)).toEqual(bandNames);
    const back = await readGeoTiff(out);
    const i = 10 * grid.cols + 8;
    expect(Number.isNaN(back.bands[0][i])).toBe(true);
    expect(Number.isNaN(back.bands[3][i])).toBe(true);
    expect(back.bands[3][i + 1]).toBe(MASK_FILLED_NODATA);
    expect(back.bands[2][5]).toBeCloseTo(back.bands[0][5] - back.bands[1][5], 6);
  });

  it('matches bands by name, not position, and names missing bands', async () => {
    const dir = tempDir();
    const stack = makeStack(3);
    const { stats } = transformStack(stack, { transform: 'log10-standardize' });
    const reordered = { grid, bandNames: ['As', 'Au', 'Cu'], bands: [stack.bands[2], stack.bands[0], stack.bands[1]] };
    writeGeoTiff(join(dir, 'r.tif'), reordered);
    writeGeoTiff(join(dir, 'o.tif'), stack);
    const clf = linearClassifier(3, 3, 5);
    const run = async (f: string): Promise<Float32Array> => {
      const src = await openStackSource(join(dir, f));
      const out = new Float32Array(grid.rows * grid.cols);
      await predictMap(src, [clf], { window: 3, bandNames: names, stats }, (r0, p) => out.set(p[0], r0 * grid.cols));
      await src.close();
      return out;
    };
    expect(Array.from(await run('r.tif'))).toEqual(Array.from(await run('o.tif')));
    writeGeoTiff(join(dir, 'x.tif'), { grid, bandNames: ['Au', 'Cu', 'Sb'], bands: stack.bands });
    const src = await openStackSource(join(dir, 'x.tif'));
    await expect(predictMap(src, [clf], { window: 3, bandNames: names, stats }, () => undefined)).rejects.toThrow(BandMismatchError);
    await expect(predictMap(src, [clf], { window: 3, bandNames: names, stats }, () => undefined)).rejects.toThrow(/lacks band\(s\) As/);
  });
});
