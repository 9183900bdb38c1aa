import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticSample } from '../../main/xrf/synthetic.ts';
import { normalizeCube } from '../../main/xrf/cube.ts';
import { runMsfaNet, ABLATIONS } from '../../main/xrf/msfa-net.ts';
import { runAutoAd } from '../../main/xrf/auto-ad.ts';
import { spatialContrast, ranks } from '../../main/xrf/spatial.ts';
import { getTf, initBackend } from '../../main/models/backend.ts';
import { rocAuc } from '../../main/eval/metrics.ts';
import { InvalidOptionError, CancelledError } from '../../main/errors.ts';

// Small cubes and few epochs: the full 150-epoch results are produced by bench/xrf.ts (docs/micro-xrf.md).
const sample = syntheticSample({ rows: 40, cols: 40, channels: 48, seed: 21 });
const cube = normalizeCube(sample.cube, 'minmax-band');
const truth = sample.cube.truth!;
beforeAll(async () => {
  await initBackend('wasm');
});

describe('MSFA-Net', () => {
  it('trains (loss falls), is reproducible from its seed, leaks no tensors, and detects the inclusions', async () => {
    const tf = getTf();
    const before = tf.memory().numTensors;
    const a = await runMsfaNet(cube, { epochs: 12, batchSize: 800, seed: 3 });
    expect(tf.memory().numTensors).toBe(before);
    const b = await runMsfaNet(cube, { epochs: 12, batchSize: 800, seed: 3 });
    expect(Array.from(a.scores)).toEqual(Array.from(b.scores));
    expect(a.lossHistory).toHaveLength(12);
    expect(a.lossHistory[11]).toBeLessThan(0.5 * a.lossHistory[0]);
    expect(a.scores.every(Number.isFinite)).toBe(true);
    // Reference: truth mask of the generator. Few epochs on a tiny cube: a loose floor that a
    // broken model (random scores ≈ 0.5) cannot pass.
    expect(rocAuc(truth, a.scores)).toBeGreaterThan(0.85);
    const c = await runMsfaNet(cube, { epochs: 12, batchSize: 800, seed: 4 });
    expect(Array.from(c.scores)).not.toEqual(Array.from(a.scores));
  });

  it('runs every ablation with finite scores', async () => {
    for (const ablation of ABLATIONS.filter((x) => x !== 'none')) {
      const r = await runMsfaNet(cube, { epochs: 3, batchSize: 1600, seed: 1, ablation });
      expect(r.scores.every(Number.isFinite)).toBe(true);
      expect(r.options.ablation).toBe(ablation);
      expect(r.lossHistory.at(-1)).toBeLessThan(r.lossHistory[0]);
    }
  });

  it('validates options and can be cancelled', async () => {
    await expect(runMsfaNet(cube, { hiddenChannels: 30, groups: 4 })).rejects.toThrow(InvalidOptionError);
    await expect(runMsfaNet(cube, { ablation: 'no-such' as never })).rejects.toThrow(InvalidOptionError);
    const ac = new AbortController();
    ac.abort();
    await expect(runMsfaNet(cube, { epochs: 2 }, { signal: ac.signal })).rejects.toThrow(CancelledError);
  });
});

describe('Auto-AD', () => {
  it('reconstructs from noise, stops, leaks no tensors and scores the inclusions above chance', async () => {
    const tf = getTf();
    const before = tf.memory().numTensors;
    const r = await runAutoAd(cube, { maxIterations: 60, channels: 8, learningRate: 0.01, seed: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.iterations).toBeGreaterThan(40);
    expect(r.lossHistory.at(-1)).toBeLessThan(0.5 * r.lossHistory[0]);
    expect(r.scores.every(Number.isFinite)).toBe(true);
    expect(rocAuc(truth, r.scores)).toBeGreaterThan(0.6);
  });
});

describe('spatial contrast fusion', () => {
  it('raises an isolated peak above an equally high but extended plateau', () => {
    const rows = 15, cols = 15;
    const s = new Float32Array(rows * cols).fill(1);
    s[7 * cols + 3] = 5; // isolated pixel
    for (let r = 4; r <= 10; r++) for (let c = 8; c <= 14; c++) s[r * cols + c] = 5; // plateau
    const f = spatialContrast(s, rows, cols, 0.5);
    expect(f[7 * cols + 3]).toBeGreaterThan(f[7 * cols + 11]);
    expect(Array.from(spatialContrast(s, rows, cols, 0))).toEqual(Array.from(s));
  });
  it('ranks ties by their mean rank', () => {
    // Tolerance 1e-6: ranks are stored as float32.
    const got = ranks(Float32Array.from([3, 1, 3, 2]));
    [5 / 6, 0, 5 / 6, 1 / 3].forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThan(1e-6));
  });
});
