import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { initBackend } from '../../main/models/backend.ts';
import { crossValidateAndFit } from '../../main/models/cross-validate.ts';
import { predictDepositProbability } from '../../main/models/train.ts';
import { crossValidateAndFitViaQueue } from '../../main/queue/train-units.ts';
import { krigeGridViaQueue } from '../../main/queue/krige-units.ts';
import { krigeGrid } from '../../main/kriging/krige-grid.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { Rng } from '../../main/util/rng.ts';
import { filesUnder } from '../../main/queue/input-hash.ts';
import { tempDir } from '../helpers/paths.ts';
import { startRedis, type RedisHarness, type WorkerChild, linesMatching } from '../helpers/redis-server.ts';
import { TINY, toyData } from '../models/toy-data.ts';

/**
 * Training and kriging through a real redis-server with 3 `geoanomaly worker` processes against
 * the local runs: crossValidateAndFit on one thread (the path tests/models/parallel-cv.test.ts
 * checks the worker threads against): 3 folds × 2 repeats × 2 models + 2 final models = 14 units;
 * krigeGrid on one thread (tests/kriging/krige-grid.test.ts, checked against gstat and kt3d there).
 */
function survey(seed: number, n: number) {
  const rng = new Rng(seed);
  const x = Float64Array.from({ length: n }, () => rng.range(440000, 450000));
  const y = Float64Array.from({ length: n }, () => rng.range(4600000, 4608000));
  const cu = Float64Array.from(x, (v, i) => Math.exp(3 + Math.sin((v - 440000) / 1500) + 0.5 * Math.cos((y[i] - 4600000) / 1100) + rng.normal(0, 0.2)));
  const au = Float64Array.from(x, (v, i) => (i % 7 === 3 ? NaN : Math.exp(1 + Math.cos((v - 440000) / 2500) + rng.normal(0, 0.3))));
  return { x, y, fields: [{ name: 'Cu', values: cu }, { name: 'Au', values: au }], source: 'synthetic' };
}
const GRID: GridSpec = { originX: 440000, originY: 4608000, cellSizeX: 250, cellSizeY: 250, rows: 32, cols: 40, crs: null };

describe('training and kriging through the Redis queue (BullMQ, real redis-server, 3 worker processes)', () => {
  let h: RedisHarness;
  let workers: WorkerChild[];
  beforeAll(async () => {
    await initBackend('wasm');
    h = await startRedis();
    // One of them runs 2 units at once (--concurrency 2).
    workers = [['--concurrency', '2'], [], []].map((flags) => h.startWorker(flags));
    await Promise.all(workers.map((w) => w.waitFor(/on queue redis:\/\/127\.0\.0\.1/)));
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  }, 30_000);

  it('folds × repeats × models and final models are bit-identical to the local run (metrics, scores, saved fold models, final predictions)', { timeout: 300_000 }, async () => {
    const data = toyData({ sites: 12, perSite: 2, signal: 2, seed: 5 });
    const kinds = ['cnn', 'gk-cnn'] as const;
    const localDir = tempDir('ga-qtrain-local-');
    const queueDir = tempDir('ga-qtrain-queue-');
    const o = { folds: 3, repeats: 2, seed: 3, backend: 'wasm', train: { epochs: 2, batchSize: 8, learningRate: 3e-3, architecture: TINY } };
    const local = await crossValidateAndFit(kinds, data, { ...o, threads: 1, saveFoldModels: localDir });
    const progress: string[] = [];
    const viaQueue = await crossValidateAndFitViaQueue(kinds, data, { ...o, saveFoldModels: queueDir }, { url: h.url, workDir: queueDir }, { progress: (_f, m) => progress.push(m) });
    const all = Array.from({ length: data.n }, (_, i) => i);
    try {
      for (const k of kinds) {
        const a = local.get(k)!;
        const b = viaQueue.get(k)!;
        expect(b.cv.folds).toHaveLength(6);
        // Exact equality (toEqual on numbers is ===, NaN equal to NaN): the same seeded fits.
        expect(b.cv.folds).toEqual(a.cv.folds);
        expect(b.cv.mean).toEqual(a.cv.mean);
        expect(b.cv.ci95).toEqual(a.cv.ci95);
        expect(b.final.bestEpoch).toBe(a.final.bestEpoch);
        expect(Array.from(predictDepositProbability(b.final.model, data, all))).toEqual(Array.from(predictDepositProbability(a.final.model, data, all)));
      }
      // Fold models saved by the workers: the same files with the same bytes as the local run's.
      const files = (d: string): string[] => filesUnder(d).map((f) => relative(d, f));
      expect(files(queueDir)).toEqual(files(localDir));
      expect(files(localDir)).toHaveLength(2 * 6 * 2); // model.json + weights.bin per fold model
      // Weights: the same bytes. model.json: the same topology and weight specs once tfjs' automatic
      // layer-name counters (per process: "re_lu_ReLU7" here, "re_lu_ReLU4" in a worker) are dropped.
      const unnumbered = (f: string): string => readFileSync(f, 'utf8').replace(/([A-Za-z_]+?)_?\d+\b/g, '$1');
      for (const f of files(localDir)) {
        if (f.endsWith('.bin')) expect(readFileSync(join(queueDir, f)).equals(readFileSync(join(localDir, f))), f).toBe(true);
        else expect(unnumbered(join(queueDir, f)), f).toBe(unnumbered(join(localDir, f)));
      }
      expect(readdirSync(queueDir).filter((n) => n.startsWith('.'))).toEqual([]); // unit files removed
      const ran = await linesMatching(workers, /^ran train /, 14);
      expect(ran).toHaveLength(14);
      expect(progress.some((m) => /14 units/.test(m))).toBe(true);
    } finally {
      for (const m of [local, viaQueue]) for (const r of m.values()) r.final.model.dispose();
    }
  });

  it('final models train on the command\'s train.threads (2 ONNX intra-op threads): the bits of the local run at 2 threads', { timeout: 300_000 }, async () => {
    const data = toyData({ sites: 12, perSite: 2, signal: 2, seed: 6 });
    const kinds = ['cnn'] as const;
    const o = { folds: 3, repeats: 1, seed: 4, backend: 'wasm', train: { epochs: 2, batchSize: 8, learningRate: 3e-3, architecture: TINY, threads: 2 } };
    const local = await crossValidateAndFit(kinds, data, { ...o, threads: 2 });
    const one = await crossValidateAndFit(kinds, data, { ...o, threads: 1, train: { ...o.train, threads: 1 } });
    const viaQueue = await crossValidateAndFitViaQueue(kinds, data, o, { url: h.url, workDir: tempDir('ga-qtrain-t2-') });
    const all = Array.from({ length: data.n }, (_, i) => i);
    try {
      const a = local.get('cnn')!;
      const b = viaQueue.get('cnn')!;
      expect(b.cv.folds).toEqual(a.cv.folds);
      const pa = Array.from(predictDepositProbability(a.final.model, data, all));
      expect(Array.from(predictDepositProbability(b.final.model, data, all))).toEqual(pa);
      expect(b.final.history).toEqual(a.final.history);
      // The tfjs data-parallel replicas, whose bits depended on the thread count, are retired (issue 17):
      // the final model trains on ONNX Runtime, whose intra-op threads give the same bits as one
      // thread, so the queue, the local run at 2 threads and the local run at 1 thread all agree.
      expect(a.final.engine).toBe('onnx');
      expect(b.final.engine).toBe('onnx');
      expect(Array.from(predictDepositProbability(one.get('cnn')!.final.model, data, all))).toEqual(pa);
    } finally {
      for (const m of [local, one, viaQueue]) for (const r of m.values()) r.final.model.dispose();
    }
  });

  it('kriging row blocks of two neighbour groups (log, nmax, missing values) are bit-identical to the local run', { timeout: 120_000 }, async () => {
    const input = survey(1, 600);
    const local = await krigeGrid(input, GRID, { nmax: 24, log: true, threads: 1 });
    const workDir = tempDir('ga-qkrige-');
    const q = await krigeGridViaQueue(input, GRID, { nmax: 24, log: true }, { url: h.url, workDir, units: 8, sliceCells: 80 }); // 4 blocks of 8 rows per group, each in 2-row slices (80 cells / 40 columns)
    expect(q.prediction.bandNames).toEqual(['Cu', 'Au']);
    for (let f = 0; f < 2; f++) {
      expect(Buffer.from(q.prediction.bands[f].buffer).equals(Buffer.from(local.prediction.bands[f].buffer))).toBe(true);
      expect(Buffer.from(q.variance.bands[f].buffer).equals(Buffer.from(local.variance.bands[f].buffer))).toBe(true);
    }
    expect(q.models.map((m) => m.pointCount)).toEqual(local.models.map((m) => m.pointCount));
    expect(q.cellsWithoutNeighbours).toEqual(local.cellsWithoutNeighbours);
    expect(readdirSync(workDir)).toEqual([]);
    expect(await linesMatching(workers, /^ran krige group/, 8)).toHaveLength(8);
  });
});
