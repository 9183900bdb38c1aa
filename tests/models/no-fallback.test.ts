import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { initBackend } from '../../main/models/backend.ts';
import { MODEL_KINDS } from '../../main/models/architectures.ts';
import { trainModel } from '../../main/models/train.ts';
import { crossValidateAndFit } from '../../main/models/cross-validate.ts';
import { readManifest } from '../../main/models/run-store.ts';
import { trainWorkflow } from '../../main/workflows/train.ts';
import { predictWorkflow } from '../../main/workflows/predict.ts';
import { predictRun } from '../../main/maps/parallel-predict.ts';
import { exportRunToOnnx } from '../../main/maps/onnx/export-run.ts';
import { Rng } from '../../main/util/rng.ts';
import { tempDir } from '../helpers/paths.ts';
import { toyData } from './toy-data.ts';

/**
 * Issue 17 §2: for every model kind at default settings, training and prediction run on ONNX
 * Runtime and never silently on tfjs. Every check reads the engine the code reports (TrainedModel.
 * engine and FoldResult.engine, the workflow result and manifest, predictRun's EngineChoice and the ONNX payload's
 * origin), so a model the ONNX training graph or exporter cannot express (which falls back to
 * tfjs, or to a re-export) fails here. onnxruntime-node is a regular dependency, so it loads.
 *
 * "Default settings": no engine, architecture, batch or thread option is passed. Only the amount
 * of work is cut (1 epoch, 2 folds × 1 repeat), which does not take part in choosing the engine.
 */
beforeAll(async () => {
  await initBackend('wasm');
});

describe('no silent fallback to tfjs', () => {
  it.each(MODEL_KINDS)('%s: trainModel at the defaults trains on onnx (default architecture, 9×9 patches)', { timeout: 180_000 }, async (kind) => {
    const data = toyData({ sites: 10, perSite: 4, patchSize: 9, channels: 4, signal: 2, seed: 3 });
    const messages: string[] = [];
    const t = await trainModel(kind, data, Array.from({ length: data.n }, (_, i) => i), { epochs: 1 }, { progress: (_f, m) => void (m && messages.push(m)) });
    try {
      expect(t.engine).toBe('onnx');
      expect(messages.filter((m) => /training engine/.test(m))).toEqual([`${kind}: training engine onnx (ONNX Runtime, 1 intra-op thread)`]);
      expect(t.history).toHaveLength(1);
      expect(Number.isFinite(t.history[0].trainLoss)).toBe(true);
    } finally {
      t.model.dispose();
    }
  });

  it('crossValidateAndFit at the defaults, folds on 2 worker threads: every fold and every final model trained on onnx', { timeout: 300_000 }, async () => {
    const data = toyData({ sites: 12, perSite: 3, patchSize: 9, channels: 4, signal: 2, seed: 6 });
    const results = await crossValidateAndFit(MODEL_KINDS, data, { folds: 2, repeats: 1, threads: 2, train: { epochs: 1 } });
    try {
      for (const kind of MODEL_KINDS) {
        const r = results.get(kind)!;
        expect(r.cv.folds.map((f) => f.engine), kind).toEqual(['onnx', 'onnx']);
        expect(r.final.engine, kind).toBe('onnx');
      }
    } finally {
      for (const r of results.values()) r.final.model.dispose();
    }
  });

  describe('train and predict workflows at their defaults, every network kind', () => {
    // 16 × 16 cells, four elements, Au raised around four deposits; one knowledge raster for the gk-* models.
    const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: 16, cols: 16, crs: crsFromEpsg(32645) };
    const deposits = [3 * 16 + 3, 3 * 16 + 12, 12 * 16 + 3, 12 * 16 + 12];
    const negatives = [8 * 16 + 1, 1 * 16 + 8, 14 * 16 + 8, 8 * 16 + 14];
    let dir = '';
    let run = '';
    let stack = '';
    const logs: string[] = [];

    beforeAll(async () => {
      dir = tempDir('no-fallback-');
      const rng = new Rng(4);
      const n = grid.rows * grid.cols;
      const bands = [0, 1, 2, 3].map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.3))));
      for (const d of deposits) for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) bands[0][d + dr * 16 + dc] *= 3 + rng.uniform();
      stack = join(dir, 'stack.tif');
      writeGeoTiff(stack, { grid, bandNames: ['Au', 'Cu', 'As', 'Sb'], bands });
      writeGeoTiff(join(dir, 'w.tif'), { grid, bandNames: ['w'], bands: [Float32Array.from({ length: n }, () => rng.uniform())] });
      writeSitesGeoJson(join(dir, 'sites.geojson'), buildSites(grid, { depositCells: deposits, negatives: { kind: 'user', cells: negatives } }).set);
      run = join(dir, 'run');
      await trainWorkflow({ stack, sites: join(dir, 'sites.geojson'), knowledge: [join(dir, 'w.tif')], epochs: 1, folds: 2, repeats: 1, out: run }, { log: (m) => logs.push(m) });
    }, 600_000);

    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('train: the workflow resolves onnx, and every final model reports onnx', () => {
      const m = readManifest(run);
      expect(m.engine?.requested).toBe('auto');
      expect(m.engine?.name).toBe('onnx');
      expect(logs.find((l) => l.startsWith('training engine:'))).toMatch(/^training engine: onnx \(onnxruntime-node /);
      for (const kind of MODEL_KINDS) expect(m.models[kind]?.engine, kind).toBe('onnx');
    });

    it('predict: the engine is onnx, every graph is the one written at training (no tfjs export), the map says onnx', { timeout: 300_000 }, async () => {
      const payload = await exportRunToOnnx(run, []);
      expect(payload.origin).toEqual(Object.fromEntries(MODEL_KINDS.map((k) => [k, 'saved'])));
      const r = await predictRun(stack, { runDir: run }, () => undefined);
      expect(r.engine.name).toBe('onnx');
      expect(r.modelNames).toEqual([...MODEL_KINDS]);
      const w = await predictWorkflow({ run, stack, out: join(dir, 'p.tif') });
      expect(w.engine).toMatch(/^onnx \(onnxruntime-node \d+\.\d+\.\d+, CPU; auto\)$/);
    });
  });
});
