/**
 * The geology term is exercised (issue 20 §1). With a and b trained, λ·(p − sigmoid(a·w + b))²
 * penalises the part of the prediction p that w does not explain. So on samples whose label
 * depends on w (band 0 of the window, which the network sees) AND on an independent feature F
 * (band 1): y = [0.5·w + F > 0], a tiny λ lets p follow 0.5·w + F, whose rank
 * correlation with w is ≈ 0.45, while a large λ pulls p towards a function of w alone.
 * Measured at held-out samples with Spearman's ρ (Pearson's r of the ranks; no ties in continuous
 * data). NB: if the labels carry no information about w, the term cannot make p follow w: a → 0
 * and a constant g fits any constant p (tried: ρ ≈ 0 at λ 50); the term reinforces, it does not invent.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../main/models/backend.ts';
import { predictDepositProbability, trainModel, type TrainingData } from '../../main/models/train.ts';
import { Rng } from '../../main/util/rng.ts';
import { TINY } from './toy-data.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

function ranks(v: ArrayLike<number>): number[] {
  const idx = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[a] - v[b]);
  const r = new Array<number>(v.length);
  idx.forEach((i, k) => (r[i] = k));
  return r;
}

function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const n = ra.length;
  const m = (n - 1) / 2;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i] - m) * (rb[i] - m);
    saa += (ra[i] - m) ** 2;
    sbb += (rb[i] - m) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** n samples: band 0 = w, band 1 = F (each over the whole window, plus noise); label [0.5·w + F > 0]. */
function mixedLabels(n: number, seed: number): TrainingData {
  const k = 5;
  const C = 2;
  const rng = new Rng(seed);
  const x = new Float32Array(n * k * k * C);
  const knowledge = new Float32Array(n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    // Smooth anomalies, as in a real stack: w and F fill their whole band, plus cell noise (sd 0.3).
    const w = rng.normal();
    const f = rng.normal();
    knowledge[i] = w;
    labels[i] = 0.5 * w + f > 0 ? 1 : 0;
    for (let j = 0; j < k * k; j++) {
      x[(i * k * k + j) * C] = w + 0.3 * rng.normal();
      x[(i * k * k + j) * C + 1] = f + 0.3 * rng.normal();
    }
  }
  return { x, n, patchSize: k, channels: C, labels, siteIds: Array.from({ length: n }, (_, i) => `S${i}`), knowledge, nKnowledge: 1 };
}

describe('geology term', () => {
  it('large λ (10): held-out predictions rank more like w than with a tiny λ (0.01), paired per seed, mean ρ +0.1 or more', async () => {
    const train = mixedLabels(160, 1);
    const test = mixedLabels(120, 2);
    const all = Array.from({ length: train.n }, (_, i) => i);
    const testAll = Array.from({ length: test.n }, (_, i) => i);
    const rho: Record<'large' | 'small', number[]> = { large: [], small: [] };
    // Three seeds, paired: the claim does not rest on one initialisation. Measured (this file's
    // data, 60 epochs, seeds 3, 4, 5): tiny λ ρ = 0.65, 0.50, 0.40; λ 10: 0.74, 0.79, 0.49; λ 5: 0.77, 0.79, 0.44; λ 20: 0.76, 0.76, 0.48.
    for (const seed of [3, 4, 5]) {
      for (const [name, lambda] of [['large', 10], ['small', 0.01]] as const) {
        const t = await trainModel('gk-cnn', train, all, { epochs: 60, batchSize: 32, learningRate: 3e-3, architecture: TINY, validationFraction: 0, lambda, seed });
        try {
          rho[name].push(spearman(predictDepositProbability(t.model, test, testAll), test.knowledge!));
        } finally {
          t.model.dispose();
        }
      }
    }
    const msg = `ρ large ${rho.large.map((v) => v.toFixed(3)).join(', ')}; small ${rho.small.map((v) => v.toFixed(3)).join(', ')}`;
    rho.large.forEach((v, s) => expect(v, msg).toBeGreaterThan(rho.small[s]));
    const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
    expect(mean(rho.large) - mean(rho.small), msg).toBeGreaterThan(0.1);
  });
});
