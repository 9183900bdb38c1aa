import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../main/models/backend.ts';
import {
  brokenBroadcastGeologyLoss,
  createGeologyVariables,
  crossEntropy,
  geologyLoss,
  geologyProbability,
  totalLoss,
} from '../../main/models/geology-loss.ts';
import { InvalidOptionError } from '../../main/errors.ts';

// Reference: the paper's eqs. 6–9 written out in float64 JavaScript below; tfjs computes in
// float32, so agreement is to 1e-6 absolute (values are O(1)).
const sig = (z: number): number => 1 / (1 + Math.exp(-z));
const P = [0.9, 0.2, 0.6, 0.35];
const W = [
  [0.8, 0.1],
  [0.1, 0.0],
  [0.5, 0.9],
  [0.3, 0.4],
];
const A = [2, -0.5];
const B = -1;
const G = W.map((row) => sig(row[0] * A[0] + row[1] * A[1] + B));

function setVars(vars: ReturnType<typeof createGeologyVariables>): void {
  vars.a.assign(tf.tensor1d(A));
  vars.b.assign(tf.scalar(B));
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('geology-knowledge loss (eqs. 6–9)', () => {
  it('P_geology = sigmoid(Σ aᵢwᵢ + b) per sample, with several knowledge rasters', () => {
    const vars = createGeologyVariables(2);
    setVars(vars);
    const g = tf.tidy(() => geologyProbability(tf.tensor2d(W), vars));
    const got = Array.from(g.dataSync());
    got.forEach((v, i) => expect(Math.abs(v - G[i])).toBeLessThan(1e-6));
    tf.dispose([g, vars.a, vars.b]);
  });

  it('is computed per sample (no B×B broadcasting) and differs from the reference code’s broadcast form', () => {
    const vars = createGeologyVariables(2);
    setVars(vars);
    const perSample = P.reduce((s, p, j) => s + (p - G[j]) ** 2, 0) / P.length;
    let pairs = 0;
    for (const g of G) for (const p of P) pairs += (p - g) ** 2;
    const broadcast = pairs / (P.length * P.length);
    const [ours, broken] = tf.tidy(() => {
      const p = tf.tensor1d(P);
      const w = tf.tensor2d(W);
      return [geologyLoss(p, w, vars).dataSync()[0], brokenBroadcastGeologyLoss(p, w, vars).dataSync()[0]];
    });
    expect(Math.abs(ours - perSample)).toBeLessThan(1e-6);
    expect(Math.abs(broken - broadcast)).toBeLessThan(1e-6);
    // On this toy batch the two differ by far more than float32 noise (0.0318 vs 0.0945).
    expect(Math.abs(ours - broken)).toBeGreaterThan(0.02);
    tf.dispose([vars.a, vars.b]);
  });

  it('gives the analytic gradients for a and b (tolerance 1e-5)', () => {
    const vars = createGeologyVariables(2);
    setVars(vars);
    const n = P.length;
    const dA = [0, 0];
    let dB = 0;
    P.forEach((p, j) => {
      const common = (2 * (G[j] - p) * G[j] * (1 - G[j])) / n;
      dA[0] += common * W[j][0];
      dA[1] += common * W[j][1];
      dB += common;
    });
    const { grads, value } = tf.variableGrads(() => geologyLoss(tf.tensor1d(P), tf.tensor2d(W), vars), [vars.a, vars.b]);
    const ga = Array.from(grads[vars.a.name].dataSync());
    const gb = grads[vars.b.name].dataSync()[0];
    expect(Math.abs(ga[0] - dA[0])).toBeLessThan(1e-5);
    expect(Math.abs(ga[1] - dA[1])).toBeLessThan(1e-5);
    expect(Math.abs(gb - dB)).toBeLessThan(1e-5);
    tf.dispose([value, ...Object.values(grads), vars.a, vars.b]);
  });

  it('L_total = L_CE + λ·L_geology, and λ = 0 or no knowledge gives plain cross-entropy', () => {
    const vars = createGeologyVariables(2);
    setVars(vars);
    const probs = P.map((p) => [1 - p, p]);
    const labels = [1, 0, 1, 0];
    const ce = -probs.reduce((s, pr, j) => s + Math.log(pr[labels[j]]), 0) / P.length;
    const geo = P.reduce((s, p, j) => s + (p - G[j]) ** 2, 0) / P.length;
    const [t2, t0, tn, c] = tf.tidy(() => {
      const pr = tf.tensor2d(probs);
      const y = tf.tensor1d(labels);
      const w = tf.tensor2d(W);
      return [
        totalLoss(pr, y, 2, { w, vars }).dataSync()[0],
        totalLoss(pr, y, 0, { w, vars }).dataSync()[0],
        totalLoss(pr, y, 2).dataSync()[0],
        crossEntropy(pr, y).dataSync()[0],
      ];
    });
    expect(Math.abs(c - ce)).toBeLessThan(1e-6);
    expect(Math.abs(t2 - (ce + 2 * geo))).toBeLessThan(1e-6);
    expect(t0).toBe(c);
    expect(tn).toBe(c);
    tf.dispose([vars.a, vars.b]);
  });

  it('keeps cross-entropy finite for a confidently wrong prediction (clipped at 1e-7 as Keras)', () => {
    const v = tf.tidy(() => crossEntropy(tf.tensor2d([[1, 0]]), tf.tensor1d([1])).dataSync()[0]);
    expect(Math.abs(v - -Math.log(1e-7))).toBeLessThan(1e-3);
  });

  it('rejects mismatched shapes and an empty knowledge set with named errors', () => {
    expect(() => createGeologyVariables(0)).toThrow(InvalidOptionError);
    const vars = createGeologyVariables(1);
    expect(() => tf.tidy(() => geologyProbability(tf.tensor2d(W), vars))).toThrow(/2 columns but the geology term has 1/);
    expect(() => tf.tidy(() => geologyLoss(tf.tensor1d([0.5]), tf.tensor2d([[0.1], [0.2]]), vars))).toThrow(/1 predictions but 2 knowledge rows/);
    tf.dispose([vars.a, vars.b]);
  });

  it('leaks no tensors', () => {
    const before = tf.memory().numTensors;
    const vars = createGeologyVariables(2);
    tf.tidy(() => {
      totalLoss(tf.tensor2d(P.map((p) => [1 - p, p])), tf.tensor1d([1, 0, 1, 0]), 1, { w: tf.tensor2d(W), vars });
    });
    tf.dispose([vars.a, vars.b]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
