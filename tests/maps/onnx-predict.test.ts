import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { initBackend } from '../../main/models/backend.ts';
import { loadModel, saveModel } from '../../main/models/run-store.ts';
import { predictRunToGeoTiff } from '../../main/maps/parallel-predict.ts';
import { OnnxRuntimeUnavailableError, type OrtLoader } from '../../main/onnx/onnx-runtime.ts';
import { transformStack } from '../../main/sites/band-transform.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { Rng } from '../../main/util/rng.ts';
import { gdalinfo } from '../helpers/gdal.ts';
import { tempDir } from '../helpers/paths.ts';
import { writeRandomRun } from './random-run.ts';
import { randomizeWeights } from './onnx-fixtures.ts';

const names = ['Au', 'Cu', 'As', 'Sb', 'Pb'];

/** A 37 × 29 × 5 stack with a nodata cell, and a run of a CNN and a DCN with random (non-trivial) weights. */
async function fixture(): Promise<{ dir: string; stackPath: string; runDir: string; grid: GridSpec }> {
  await initBackend('wasm');
  const dir = tempDir('ga-onnx-');
  const grid: GridSpec = { originX: 0, originY: 3700, cellSizeX: 100, cellSizeY: 100, rows: 37, cols: 29, crs: crsFromEpsg(32645) };
  const rng = new Rng(21);
  const n = grid.rows * grid.cols;
  const stack = { grid, bandNames: [...names], bands: names.map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.8)))) };
  const { stats } = transformStack(stack, { transform: 'log10-standardize' });
  stack.bands[1][12 * grid.cols + 5] = NaN; // nodata centre → nodata out, neighbours flagged
  writeGeoTiff(join(dir, 's.tif'), stack);
  const runDir = join(dir, 'run');
  await writeRandomRun(runDir, ['cnn', 'dcn'], stats, { patchSize: 9, stemFilters: 8, stageFilters: [8, 16], denseUnits: 8 }, 7);
  for (const [i, kind] of ['cnn', 'dcn'].entries()) {
    const model = await loadModel(runDir, kind);
    randomizeWeights(model, 40 + i);
    await saveModel(model, runDir, kind);
    model.dispose();
  }
  return { dir, stackPath: join(dir, 's.tif'), runDir, grid };
}

const failingLoader: OrtLoader = () => Promise.reject(new Error("Cannot find package 'onnxruntime-node' imported from parallel-predict.ts"));

describe('predict --engine onnx (onnxruntime-node) vs --engine tfjs', () => {
  it('writes the same map cell for cell (≤ 1e-5), the same mask and nodata, GDAL-valid, engine in the metadata', { timeout: 180_000 }, async () => {
    const f = await fixture();
    const out = (name: string): string => join(f.dir, name);
    const common = ['--run', f.runDir, '--stack', f.stackPath, '--model', 'all', '--difference', 'dcn,cnn', '--batch', '100'];
    expect(await main(['predict', ...common, '--engine', 'tfjs', '--threads', '1', '--out', out('tfjs.tif')])).toBe(0);
    // --threads 2 (layout auto: two worker threads here, the run has a DCN; the other layouts are
    // tested in onnx-shared-stem.test.ts) and one thread in-process.
    expect(await main(['predict', ...common, '--engine', 'onnx', '--threads', '2', '--save-onnx', '--out', out('onnx2.tif')])).toBe(0);
    expect(await main(['predict', ...common, '--engine', 'onnx', '--threads', '1', '--out', out('onnx1.tif')])).toBe(0);
    const ref = await readGeoTiff(out('tfjs.tif'));
    const two = await readGeoTiff(out('onnx2.tif'));
    const one = await readGeoTiff(out('onnx1.tif'));
    // The ensemble default adds the members' spread per model (sd_<model>, maps/ensemble-bands.ts).
    expect(two.bandNames).toEqual(['p_cnn', 'p_dcn', 'diff_dcn_minus_cnn', 'sd_cnn', 'sd_dcn', 'window_mask']);
    expect(two.bandNames).toEqual(ref.bandNames);
    const cells = f.grid.rows * f.grid.cols;
    for (let b = 0; b < ref.bands.length; b++) {
      let maxDiff = 0;
      for (let i = 0; i < cells; i++) {
        const a = ref.bands[b][i];
        const o = two.bands[b][i];
        expect(Number.isNaN(o)).toBe(Number.isNaN(a));
        if (!Number.isNaN(a)) maxDiff = Math.max(maxDiff, Math.abs(o - a));
      }
      // Probabilities and their difference: ≤ 1e-5 absolute against tfjs (reference engine);
      // the mask band is computed by the same window code for both engines: identical.
      expect(maxDiff).toBeLessThanOrEqual(b === ref.bands.length - 1 ? 0 : 1e-5);
      // Thread count does not change the ONNX numbers (same tiles and batches, 1 intra-op thread).
      expect(Array.from(one.bands[b])).toEqual(Array.from(two.bands[b]));
    }
    expect(Number.isNaN(two.bands[0][12 * f.grid.cols + 5])).toBe(true);
    // The probabilities are not saturated, so the comparison above means something.
    expect(ref.bands[1].filter((p) => p > 0.05 && p < 0.95).length).toBeGreaterThan(cells / 4);

    const info = gdalinfo(out('onnx2.tif')) as ReturnType<typeof gdalinfo> & { metadata?: Record<string, Record<string, string>> };
    expect(info.size).toEqual([f.grid.cols, f.grid.rows]);
    expect(info.bands).toHaveLength(6);
    expect(info.bands[0].minimum).toBeGreaterThan(0);
    expect(info.bands[0].maximum).toBeLessThan(1);
    expect(info.metadata?.['']?.prediction_engine).toMatch(/^onnx \(onnxruntime-node \d+\.\d+\.\d+, CPU; requested\)$/);
    expect(gdalinfo(out('tfjs.tif')) as unknown).toMatchObject({ metadata: { '': { prediction_engine: 'tfjs (requested)' } } });
    // --save-onnx wrote the exported models next to the run's tfjs models.
    expect(existsSync(join(f.runDir, 'models', 'cnn', 'model.onnx'))).toBe(true);
    expect(existsSync(join(f.runDir, 'models', 'dcn', 'model.onnx'))).toBe(true);
  });

  it('--engine onnx without onnxruntime-node: a named error saying how to install it, no output file; auto falls back to tfjs', { timeout: 120_000 }, async () => {
    const f = await fixture();
    const bad = join(f.dir, 'bad.tif');
    const options = { runDir: f.runDir, threads: 1, batchSize: 100, engine: 'onnx' as const, ortLoader: failingLoader };
    const err = await predictRunToGeoTiff(f.stackPath, bad, options).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxRuntimeUnavailableError);
    expect((err as Error).message).toMatch(/needs the package onnxruntime-node.*Cannot find package.*ONNXRUNTIME_NODE_INSTALL=skip npm install.*--engine tfjs/);
    expect(existsSync(bad)).toBe(false);
    expect(readdirSync(f.dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);

    const auto = await predictRunToGeoTiff(f.stackPath, join(f.dir, 'auto.tif'), { ...options, engine: 'auto' });
    expect(auto.engine.name).toBe('tfjs');
    expect(auto.engine.detail).toMatch(/^tfjs \(auto: onnxruntime-node could not be loaded: Cannot find package/);
    expect(gdalinfo(join(f.dir, 'auto.tif')) as unknown).toMatchObject({ metadata: { '': { prediction_engine: auto.engine.detail } } });

    expect(await main(['predict', '--run', f.runDir, '--stack', f.stackPath, '--engine', 'fast', '--out', join(f.dir, 'x.tif')])).toBe(2);
  });
});
