import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../main/models/backend.ts';
import { buildModel, type ModelKind } from '../../main/models/architectures.ts';
import { loadModel, saveModel } from '../../main/models/run-store.ts';
import { exportTileModels, exportToOnnx } from '../../main/maps/onnx/export-model.ts';
import { loadOrt } from '../../main/onnx/onnx-runtime.ts';
import { onnxClassifier, onnxTileClassifier, type OnnxTileModel } from '../../main/maps/onnx/onnx-classifier.ts';
import { compositeClasses, tapClasses } from '../../main/maps/onnx/shared-stem.ts';
import { predictMap, type NamedClassifier } from '../../main/maps/predict-map.ts';
import { predictRun, predictRunToGeoTiff } from '../../main/maps/parallel-predict.ts';
import { modelClassifier } from '../../main/maps/run-models.ts';
import { openStackSource } from '../../main/maps/stack-source.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { transformStack, type TransformStats } from '../../main/sites/band-transform.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { CancelledError } from '../../main/errors.ts';
import { Rng } from '../../main/util/rng.ts';
import { tempDir } from '../helpers/paths.ts';
import { randomizeWeights } from './onnx-fixtures.ts';
import { writeRandomRun } from './random-run.ts';

const names = ['Au', 'Cu', 'As', 'Sb', 'Pb'];
const C = names.length;
const SMALL = { stemFilters: 8, stageFilters: [8, 16], denseUnits: 8 } as const;

/**
 * A 19 × 23 × 5 stack (odd rows and columns) with nodata: a centre cell in the interior, one
 * next to the top-right corner and one on the left edge, so windows with filled nodata lie near
 * edges and corners too.
 */
function fixtureStack(dir: string): { path: string; grid: GridSpec; stats: TransformStats; nodataCells: number[] } {
  const grid: GridSpec = { originX: 0, originY: 1900, cellSizeX: 100, cellSizeY: 100, rows: 19, cols: 23, crs: crsFromEpsg(32645) };
  const rng = new Rng(31);
  const n = grid.rows * grid.cols;
  const stack = { grid, bandNames: [...names], bands: names.map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.8)))) };
  const { stats } = transformStack(stack, { transform: 'log10-standardize' });
  const nodataCells = [9 * grid.cols + 11, 1 * grid.cols + 21, 14 * grid.cols + 0];
  nodataCells.forEach((cell, i) => (stack.bands[i + 1][cell] = NaN));
  const path = join(dir, 's.tif');
  writeGeoTiff(path, stack);
  return { path, grid, stats, nodataCells };
}

interface MapResult {
  readonly probs: Float32Array;
  readonly mask: Float32Array;
}

async function predictWith(path: string, grid: GridSpec, classifier: NamedClassifier, window: number, stats: TransformStats, tileRows: number): Promise<MapResult> {
  const src = await openStackSource(path);
  const probs = new Float32Array(grid.rows * grid.cols).fill(-1);
  const mask = new Float32Array(grid.rows * grid.cols).fill(-1);
  try {
    await predictMap(src, [classifier], { window, bandNames: names, stats, batchSize: 37, tileRows }, (r0, p, m) => {
      probs.set(p[0], r0 * grid.cols);
      mask.set(m, r0 * grid.cols);
    });
  } finally {
    await src.close();
  }
  return { probs, mask };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    expect(Number.isNaN(a[i])).toBe(Number.isNaN(b[i]));
    if (!Number.isNaN(a[i])) d = Math.max(d, Math.abs(a[i] - b[i]));
  }
  return d;
}

/** The same sharing with the first and last rows of window positions reading each other's classes (a wrong tap set). */
function swapFirstLastRows(tile: OnnxTileModel): OnnxTileModel {
  const s = tile.sharing;
  const pc = [...s.positionClass];
  const last = s.positionRows - 1;
  for (let x = 0; x < s.positionCols; x++) {
    pc[x] = s.positionClass[last * s.positionCols + x];
    pc[last * s.positionCols + x] = s.positionClass[x];
  }
  return { ...tile, sharing: { ...s, positionClass: pc } };
}

describe('tap classes', () => {
  it('3×3 stem on 9 cells: first / middle / last; the first stage on the 8 pooled positions: q = 0, 1, 2…6, 7', () => {
    const stem = tapClasses(9, 1);
    expect(stem.ranges).toEqual([
      [0, 1],
      [-1, 1],
      [-1, 0],
    ]);
    expect(stem.classOf).toEqual([0, 1, 1, 1, 1, 1, 1, 1, 2]);
    const s1 = compositeClasses(9, stem.classOf, 1, 8);
    expect(s1.classOf).toEqual([0, 1, 2, 2, 2, 2, 2, 3]);
    expect(s1.range).toEqual([
      [0, 0],
      [1, 1],
      [2, 6],
      [7, 7],
    ]);
    // q = 1 reads stem position 0 (first class) with tap −1 and positions 1, 2 (middle) with taps 0, +1.
    expect(s1.pieces[1]).toEqual([
      { stemClass: 0, d0: -1, d1: -1 },
      { stemClass: 1, d0: 0, d1: 1 },
    ]);
  });
});

describe('shared stem (ONNX): per tile instead of per window, exact', () => {
  const cases: { kind: ModelKind; window: number; offsetGroups?: number; seed: number; sharedLayers: number }[] = [
    { kind: 'cnn', window: 9, seed: 11, sharedLayers: 2 },
    { kind: 'dcn', window: 9, seed: 12, sharedLayers: 1 },
    { kind: 'dcn', window: 9, offsetGroups: 2, seed: 13, sharedLayers: 1 },
    { kind: 'cnn', window: 7, seed: 14, sharedLayers: 2 },
  ];
  for (const c of cases) {
    const label = `${c.kind}${c.offsetGroups ? ` (${c.offsetGroups} offset groups)` : ''}, ${c.window}×${c.window} windows`;
    it(`${label}: shared-stem = per-window ONNX = tfjs within 1e-5 on every cell, masks identical; swapping the first/last tap classes breaks it`, { timeout: 60_000 }, async () => {
      await initBackend('wasm');
      const dir = tempDir('ga-shared-stem-');
      const f = fixtureStack(dir);
      const model = buildModel(c.kind, { ...SMALL, channels: C, patchSize: c.window, offsetGroups: c.offsetGroups ?? 1, seed: c.seed });
      randomizeWeights(model, c.seed + 100);
      const ort = await loadOrt();
      const tile = exportTileModels(model) as OnnxTileModel;
      expect(tile).not.toBeNull();
      expect(tile.sharing.sharedLayers).toBe(c.sharedLayers);
      const windowBytes = exportToOnnx(model);

      // Tiles of 5 rows (4 tiles, the last one short) and blocks of at most 200 padded cells
      // (column blocks inside each tile): every tile and block boundary is crossed.
      const tileRows = 5;
      const ref = await predictWith(f.path, f.grid, modelClassifier('m', model, c.window, C), c.window, f.stats, tileRows);
      const perWindow = await onnxClassifier(ort, 'm', windowBytes, c.window, C);
      const win = await predictWith(f.path, f.grid, perWindow, c.window, f.stats, tileRows);
      const shared = await onnxTileClassifier(ort, 'm', windowBytes, tile, { maxTileCells: 200, runBatch: 50 });
      const got = await predictWith(f.path, f.grid, shared, c.window, f.stats, tileRows);
      // One whole-grid tile, one block: the same numbers as the blocked run (different tile edges).
      const whole = await onnxTileClassifier(ort, 'm', windowBytes, tile);
      const gotWhole = await predictWith(f.path, f.grid, whole, c.window, f.stats, f.grid.rows);

      // Tolerance 1e-5 absolute on probabilities (reference: tfjs-wasm's prediction of the same
      // model, and the per-window ONNX graph): the shared path sums the same products in another order.
      expect(maxAbsDiff(got.probs, win.probs)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(got.probs, ref.probs)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(gotWhole.probs, got.probs)).toBeLessThanOrEqual(1e-5);
      // The mask is computed by predictMap's tile path from the same cells: identical.
      expect(Array.from(got.mask)).toEqual(Array.from(ref.mask));
      for (const cell of f.nodataCells) expect(Number.isNaN(got.probs[cell])).toBe(true);
      // Every cell was written, and the probabilities are spread out (the comparison means something).
      expect(got.probs.filter((p) => p === -1).length).toBe(0);
      expect(ref.probs.filter((p) => p > 0.05 && p < 0.95).length).toBeGreaterThan(f.grid.rows * f.grid.cols * 0.25);
      // The mask has windows that left the grid, held nodata, and both.
      const maskValues = new Set(Array.from(got.mask).filter((m) => !Number.isNaN(m)));
      expect([...maskValues].sort()).toEqual([0, 1, 2, 3]);

      // A wrong tap set must fail: the first row of window positions reading the last row's class.
      const swapped = await onnxTileClassifier(ort, 'm', windowBytes, swapFirstLastRows(tile));
      const bad = await predictWith(f.path, f.grid, swapped, c.window, f.stats, tileRows);
      expect(maxAbsDiff(bad.probs, ref.probs)).toBeGreaterThan(1e-3);

      for (const cl of [perWindow, shared, whole, swapped]) await cl.dispose();
      model.dispose();
    });
  }

  it('falls back to the per-window graph for a model whose first layer is not a "same" stride-1 convolution', async () => {
    await initBackend('wasm');
    const input = tfl.input({ shape: [9, 9, C] });
    let h = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'valid' }).apply(input) as tfl.SymbolicTensor;
    h = tfl.layers.globalAveragePooling2d({}).apply(h) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(h) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    expect(exportTileModels(model)).toBeNull();
    expect(exportToOnnx(model).length).toBeGreaterThan(0);
    model.dispose();
  });
});

describe('shared stem through predictRun (engine onnx)', () => {
  async function runFixture(): Promise<{ dir: string; path: string; runDir: string; grid: GridSpec }> {
    await initBackend('wasm');
    const dir = tempDir('ga-shared-run-');
    const f = fixtureStack(dir);
    const runDir = join(dir, 'run');
    await writeRandomRun(runDir, ['cnn', 'dcn'], f.stats, { patchSize: 9, ...SMALL }, 5);
    for (const [i, kind] of ['cnn', 'dcn'].entries()) {
      const m = await loadModel(runDir, kind);
      randomizeWeights(m, 60 + i);
      await saveModel(m, runDir, kind);
      m.dispose();
    }
    return { dir, path: f.path, runDir, grid: f.grid };
  }

  it('1 thread, 2 worker threads, 1 session × 2 intra-op threads and layouts auto / in-thread write the same bits; equal to the per-window graph within 1e-5', { timeout: 120_000 }, async () => {
    const f = await runFixture();
    const collect = async (threads: number, intraOpThreads: number, shareStem: boolean, layout: 'auto' | 'workers' | 'in-thread' = 'workers'): Promise<Float32Array[]> => {
      const out = [new Float32Array(f.grid.rows * f.grid.cols), new Float32Array(f.grid.rows * f.grid.cols), new Float32Array(f.grid.rows * f.grid.cols)];
      await predictRun(f.path, { runDir: f.runDir, engine: 'onnx', threads, intraOpThreads, shareStem, layout, tileRows: 4, batchSize: 64 }, (r0, p, m) => {
        out[0].set(p[0], r0 * f.grid.cols);
        out[1].set(p[1], r0 * f.grid.cols);
        out[2].set(m, r0 * f.grid.cols);
      });
      return out;
    };
    const one = await collect(1, 1, true);
    const two = await collect(2, 1, true);
    const intra = await collect(1, 2, true);
    // Layout 'auto' (workers here: the run has a DCN, see inThreadLayout) and 'in-thread' forced.
    const auto = await collect(2, 1, true, 'auto');
    const inThread = await collect(2, 1, true, 'in-thread');
    const perWindow = await collect(2, 1, false);
    for (let b = 0; b < 3; b++) {
      // Same tiles and blocks whatever the thread count, so the same bits (tested, not assumed).
      expect(Array.from(two[b])).toEqual(Array.from(one[b]));
      expect(Array.from(intra[b])).toEqual(Array.from(one[b]));
      expect(Array.from(auto[b])).toEqual(Array.from(one[b]));
      expect(Array.from(inThread[b])).toEqual(Array.from(one[b]));
      // Against the per-window graph: 1e-5 absolute (reference: the per-window ONNX graph); mask identical.
      expect(maxAbsDiff(one[b], perWindow[b])).toBeLessThanOrEqual(b === 2 ? 0 : 1e-5);
    }
  });

  it('small CNN maps (layout auto, default tiles): whole-grid tiles and one stem block, the same bits for 1 and 2 threads; equal to the worker layout (tiles of 32 rows, 8,192-cell blocks) within 1e-5', { timeout: 120_000 }, async () => {
    await initBackend('wasm');
    const dir = tempDir('ga-shared-small-');
    // 60 × 150 cells: the worker layout's 32-row tiles are 40 × 158 = 6,320 padded cells and the
    // whole grid 68 × 158 = 10,744 > 8,192, so the two plans really differ (tiles AND blocks).
    const grid: GridSpec = { originX: 0, originY: 6000, cellSizeX: 100, cellSizeY: 100, rows: 60, cols: 150, crs: crsFromEpsg(32645) };
    const rng = new Rng(77);
    const n = grid.rows * grid.cols;
    const stack = { grid, bandNames: [...names], bands: names.map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.8)))) };
    const { stats } = transformStack(stack, { transform: 'log10-standardize' });
    const path = join(dir, 'wide.tif');
    writeGeoTiff(path, stack);
    const runDir = join(dir, 'run');
    await writeRandomRun(runDir, ['cnn'], stats, { patchSize: 9, ...SMALL }, 9);
    const m = await loadModel(runDir, 'cnn');
    randomizeWeights(m, 91);
    await saveModel(m, runDir, 'cnn');
    m.dispose();
    const collect = async (threads: number, layout: 'auto' | 'workers'): Promise<{ p: Float32Array; tiles: number[] }> => {
      const p = new Float32Array(n);
      const tiles: number[] = [];
      await predictRun(path, { runDir, engine: 'onnx', threads, layout }, (r0, probs) => {
        tiles.push(r0);
        p.set(probs[0], r0 * grid.cols);
      });
      return { p, tiles };
    };
    const one = await collect(1, 'auto');
    const two = await collect(2, 'auto');
    const workers = await collect(2, 'workers');
    expect(one.tiles).toEqual([0]);
    expect(workers.tiles).toEqual([0, 32]);
    expect(Array.from(two.p)).toEqual(Array.from(one.p));
    // Reference: the worker layout's smaller tiles and blocks; 1e-5 absolute (float32 summation order).
    expect(maxAbsDiff(one.p, workers.p)).toBeLessThanOrEqual(1e-5);
    expect(one.p.every((v) => v > 0 && v < 1)).toBe(true);
  });

  it('cancellation stops the shared-stem prediction and leaves no output file', { timeout: 120_000 }, async () => {
    const f = await runFixture();
    const out = join(f.dir, 'cancelled.tif');
    const ac = new AbortController();
    const job = predictRunToGeoTiff(f.path, out, { runDir: f.runDir, engine: 'onnx', threads: 1, tileRows: 2, batchSize: 16 }, {
      signal: ac.signal,
      progress: (p) => {
        if (p > 0.1) ac.abort();
      },
    });
    await expect(job).rejects.toThrow(CancelledError);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(f.dir).filter((n) => n.includes('cancelled'))).toEqual([]);
  });
});
