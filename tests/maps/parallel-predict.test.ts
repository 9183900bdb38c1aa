import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { initBackend } from '../../main/models/backend.ts';
import { openStackSource, type StackSource } from '../../main/maps/stack-source.ts';
import { predictMap, type NamedClassifier } from '../../main/maps/predict-map.ts';
import { loadRun, runClassifiers } from '../../main/maps/run-models.ts';
import { predictRun, predictRunToGeoTiff, planTiles } from '../../main/maps/parallel-predict.ts';
import { transformStack } from '../../main/sites/band-transform.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { Rng } from '../../main/util/rng.ts';
import { CancelledError, InvalidOptionError } from '../../main/errors.ts';
import { gdalinfo } from '../helpers/gdal.ts';
import { tempDir } from '../helpers/paths.ts';
import { writeRandomRun } from './random-run.ts';

const names = ['Au', 'Cu', 'As', 'Sb'];

function makeStack(grid: GridSpec, bandNames: readonly string[], seed: number): { grid: GridSpec; bandNames: string[]; bands: Float32Array[] } {
  const rng = new Rng(seed);
  const n = grid.rows * grid.cols;
  return { grid, bandNames: [...bandNames], bands: bandNames.map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.8)))) };
}

/** A small stack with nodata and a run of two tiny random-initialised models (CNN + DCN, real layers). */
async function fixture(): Promise<{ dir: string; stackPath: string; runDir: string; grid: GridSpec }> {
  await initBackend('wasm');
  const dir = tempDir();
  const grid: GridSpec = { originX: 0, originY: 3700, cellSizeX: 100, cellSizeY: 100, rows: 37, cols: 29, crs: crsFromEpsg(32645) };
  const stack = makeStack(grid, names, 11);
  const { stats } = transformStack(stack, { transform: 'log10-standardize' });
  stack.bands[2][12 * grid.cols + 5] = NaN; // nodata centre → nodata out, neighbours flagged
  writeGeoTiff(join(dir, 's.tif'), stack);
  await writeRandomRun(join(dir, 'run'), ['cnn', 'dcn'], stats, { patchSize: 9, stemFilters: 8, stageFilters: [8, 8], denseUnits: 8 }, 5);
  return { dir, stackPath: join(dir, 's.tif'), runDir: join(dir, 'run'), grid };
}

function collect(grid: GridSpec, models: number): { sink: (r0: number, p: Float32Array[], m: Float32Array) => void; probs: Float32Array[]; mask: Float32Array; order: number[] } {
  const probs = Array.from({ length: models }, () => new Float32Array(grid.rows * grid.cols).fill(-1));
  const mask = new Float32Array(grid.rows * grid.cols).fill(-1);
  const order: number[] = [];
  return {
    probs,
    mask,
    order,
    sink: (r0, p, m) => {
      order.push(r0);
      p.forEach((a, i) => probs[i].set(a, r0 * grid.cols));
      mask.set(m, r0 * grid.cols);
    },
  };
}

/** Bit-level equality (NaN equals NaN): the parallel path must write exactly the single-thread numbers. */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return a.length === b.length && ua.every((v, i) => v === ub[i]);
}

describe('parallel full-map prediction (worker threads)', () => {
  it('2 worker threads write the same bits as 1 thread and as the plain single-thread predictMap; tiles reach the sink in row order', { timeout: 120_000 }, async () => {
    const f = await fixture();
    // Reference: the lead's single-thread path, whole grid in one tile, classifiers in this thread.
    const run = await loadRun(f.runDir);
    const src = await openStackSource(f.stackPath);
    const ref = collect(f.grid, 2);
    await predictMap(src, runClassifiers(run), { window: run.window, bandNames: run.bandNames, stats: run.stats, batchSize: 100 }, ref.sink);
    await src.close();
    expect(ref.probs[0].every((v) => Number.isNaN(v) || (v > 0 && v < 1))).toBe(true);

    // The tfjs engine's worker path (the reference above runs tfjs classifiers); the library's default engine is 'auto' since issue 17.
    const one = collect(f.grid, 2);
    const r1 = await predictRun(f.stackPath, { runDir: f.runDir, threads: 1, batchSize: 100, tileRows: 5, engine: 'tfjs' }, one.sink);
    const two = collect(f.grid, 2);
    const progress: number[] = [];
    const r2 = await predictRun(f.stackPath, { runDir: f.runDir, threads: 2, batchSize: 100, tileRows: 5, engine: 'tfjs' }, two.sink, { progress: (p) => progress.push(p) });
    expect(r1.modelNames).toEqual(['cnn', 'dcn']);
    expect(r2.modelNames).toEqual(['cnn', 'dcn']);
    for (let m = 0; m < 2; m++) {
      expect(sameBits(one.probs[m], ref.probs[m])).toBe(true);
      expect(sameBits(two.probs[m], ref.probs[m])).toBe(true);
    }
    expect(sameBits(two.mask, ref.mask)).toBe(true);
    expect(Number.isNaN(two.probs[1][12 * f.grid.cols + 5])).toBe(true);
    expect(two.order).toEqual(planTiles(f.grid.rows, 5).map(([r0]) => r0));
    expect(progress.every((p, i) => i === 0 || p >= progress[i - 1])).toBe(true); // monotone progress
    expect(progress[progress.length - 1]).toBe(1);
  });

  it('writes a GDAL-valid GeoTIFF with a difference band from worker threads, equal to the in-memory run', { timeout: 120_000 }, async () => {
    const f = await fixture();
    const out = join(f.dir, 'prob.tif');
    const { bandNames } = await predictRunToGeoTiff(f.stackPath, out, { runDir: f.runDir, threads: 2, models: ['dcn', 'cnn'], difference: ['dcn', 'cnn'] });
    expect(bandNames).toEqual(['p_dcn', 'p_cnn', 'diff_dcn_minus_cnn', 'window_mask']);
    const info = gdalinfo(out);
    expect(info.size).toEqual([f.grid.cols, f.grid.rows]);
    expect(info.bands.map((b) => b.description)).toEqual(bandNames);
    const back = await readGeoTiff(out);
    const mem = collect(f.grid, 2);
    await predictRun(f.stackPath, { runDir: f.runDir, threads: 1, models: ['dcn', 'cnn'] }, mem.sink);
    expect(sameBits(back.bands[0], mem.probs[0])).toBe(true);
    expect(sameBits(back.bands[1], mem.probs[1])).toBe(true);
    for (let i = 0; i < back.bands[2].length; i++) {
      if (Number.isNaN(back.bands[0][i])) expect(Number.isNaN(back.bands[2][i])).toBe(true);
      else expect(back.bands[2][i]).toBe(Math.fround(back.bands[0][i] - back.bands[1][i])); // float32 subtraction, exact
    }
  });

  it('cancellation terminates the workers and leaves no output file; bad options are named', { timeout: 120_000 }, async () => {
    const f = await fixture();
    const out = join(f.dir, 'cancelled.tif');
    const ac = new AbortController();
    const job = predictRunToGeoTiff(f.stackPath, out, { runDir: f.runDir, threads: 2, tileRows: 1, batchSize: 16 }, {
      signal: ac.signal,
      progress: (p) => {
        if (p > 0.1) ac.abort();
      },
    });
    await expect(job).rejects.toThrow(CancelledError);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(f.dir).filter((n) => n.includes('cancelled'))).toEqual([]); // no temporary file either
    await expect(predictRun(f.stackPath, { runDir: f.runDir, threads: 0 }, () => undefined)).rejects.toThrow(InvalidOptionError);
    await expect(predictRun(f.stackPath, { runDir: f.runDir, models: ['gk-dcn'] }, () => undefined)).rejects.toThrow(/has no trained model gk-dcn/);
  });

  it('bounded memory: reads at most one tile (+ halo) at a time, classifies at most one batch, and RSS grows far less than all windows would take', async () => {
    const dir = tempDir();
    const C = 16;
    const bands = Array.from({ length: C }, (_, b) => `e${b}`);
    const grid: GridSpec = { originX: 0, originY: 40000, cellSizeX: 100, cellSizeY: 100, rows: 400, cols: 400, crs: crsFromEpsg(32645) };
    const stack = makeStack(grid, bands, 3);
    const { stats } = transformStack(stack, { transform: 'log10-standardize' });
    writeGeoTiff(join(dir, 'big.tif'), stack);
    stack.bands.length = 0; // drop the in-memory copy before measuring
    const k = 9;
    const batchSize = 512;
    const tileRows = 16;
    // Every window at once would be cells × k² × C float32 values.
    const allWindowsBytes = grid.rows * grid.cols * k * k * C * 4;
    const inner = await openStackSource(join(dir, 'big.tif'));
    let maxRowsRead = 0;
    const src: StackSource = {
      ...inner,
      readRows: (r0, r1, b) => {
        maxRowsRead = Math.max(maxRowsRead, r1 - r0);
        return inner.readRows(r0, r1, b);
      },
    };
    let maxBatch = 0;
    let peakRss = 0;
    const meanWindow: NamedClassifier = {
      name: 'mean',
      classify: (x, n) => {
        maxBatch = Math.max(maxBatch, n);
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        const out = new Float32Array(n);
        const per = k * k * C;
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let j = 0; j < per; j++) s += x[i * per + j];
          out[i] = s / per;
        }
        return out;
      },
    };
    const rssBefore = process.memoryUsage().rss;
    let cells = 0;
    await predictMap(src, [meanWindow], { window: k, bandNames: bands, stats, batchSize, tileRows }, (_r0, p) => {
      cells += p[0].length;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    });
    await inner.close();
    expect(cells).toBe(grid.rows * grid.cols);
    expect(maxRowsRead).toBeLessThanOrEqual(tileRows + (k - 1)); // one tile plus its halo
    expect(maxBatch).toBeLessThanOrEqual(batchSize);
    // 400 × 400 × 81 × 16 × 4 B ≈ 830 MB if materialised; a streamed run adds one tile and one batch.
    // Bound: a quarter of that (≈ 207 MB), loose enough for GC timing, far below materialising.
    expect(peakRss - rssBefore).toBeLessThan(allWindowsBytes / 4);
  });
});
