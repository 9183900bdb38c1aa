/**
 * deformConv2d against torchvision.ops.deform_conv2d (torch 1.13 / torchvision 0.14, float64).
 * Fixtures and the script that wrote them: tests/fixtures/dcn/make_fixtures.py.
 * Tolerances (absolute, float32 computation vs float64 reference): forward ≤ 1e-5, every gradient ≤ 1e-4.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Scalar, Tensor } from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, getTf } from '../../main/models/backend.ts';
import { deformConv2d, DeformConvShapeError } from '../../main/models/deform-conv-op.ts';

const tf = getTf();
const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'dcn');

interface Case {
  name: string;
  B: number; H: number; W: number; Cin: number; Cout: number; KH: number; KW: number; Ho: number; Wo: number;
  stride: [number, number]; padding: [number, number]; dilation: [number, number];
  offsetGroups: number; useMask: boolean; useBias: boolean;
  x: number[]; offset: number[]; weight: number[]; bias: number[] | null; mask: number[] | null; dy: number[];
  out: number[]; gradX: number[]; gradOffset: number[]; gradMask: number[] | null; gradWeight: number[]; gradBias: number[] | null;
}

const cases: Case[] = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(path.join(FIXTURES, f), 'utf8')) as Case);

function maxAbsDiff(a: ArrayLike<number>, b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

interface Result { out: Float32Array; grads: Float32Array[] }

function run(c: Case): Result {
  return tf.tidy(() => {
    const x = tf.tensor4d(c.x, [c.B, c.H, c.W, c.Cin]);
    const offset = tf.tensor4d(c.offset, [c.B, c.Ho, c.Wo, 2 * c.offsetGroups * c.KH * c.KW]);
    const weight = tf.tensor4d(c.weight, [c.KH, c.KW, c.Cin, c.Cout]);
    const mask = c.mask ? tf.tensor4d(c.mask, [c.B, c.Ho, c.Wo, c.offsetGroups * c.KH * c.KW]) : undefined;
    const bias = c.bias ? tf.tensor1d(c.bias) : undefined;
    const dy = tf.tensor4d(c.dy, [c.B, c.Ho, c.Wo, c.Cout]);
    const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation };
    const out = deformConv2d(x, offset, weight, { ...opts, mask, bias });
    // L = Σ out · dy, so ∂L/∂θ is the vector–Jacobian product torchvision computed for upstream dy.
    const f = (xv: Tensor, ov: Tensor, wv: Tensor, mv?: Tensor, bv?: Tensor): Scalar =>
      tf.sum(tf.mul(deformConv2d(xv, ov, wv, { ...opts, mask: mv, bias: bv }), dy));
    const args = [x, offset, weight, ...(mask ? [mask] : []), ...(bias ? [bias] : [])];
    const grads = tf.grads((...t: Tensor[]) => {
      const mv = mask ? t[3] : undefined;
      const bv = bias ? t[mask ? 4 : 3] : undefined;
      return f(t[0], t[1], t[2], mv, bv);
    })(args);
    return { out: out.dataSync() as Float32Array, grads: grads.map((g) => g.dataSync() as Float32Array) };
  });
}

function checkCase(c: Case): void {
  const r = run(c);
  expect(maxAbsDiff(r.out, c.out), 'forward vs torchvision').toBeLessThanOrEqual(1e-5);
  const refs: [string, number[]][] = [['x', c.gradX], ['offset', c.gradOffset], ['weight', c.gradWeight]];
  if (c.gradMask) refs.push(['mask', c.gradMask]);
  if (c.gradBias) refs.push(['bias', c.gradBias]);
  refs.forEach(([name, ref], i) => {
    expect(maxAbsDiff(r.grads[i], ref), `gradient w.r.t. ${name} vs torchvision`).toBeLessThanOrEqual(1e-4);
  });
}

describe.each(['wasm', 'cpu'] as const)('deformConv2d vs torchvision on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });
  afterAll(async () => {
    await initBackend('wasm');
  });
  it('has fixtures for every case of the issue', () => {
    expect(cases.length).toBeGreaterThanOrEqual(11);
  });
  for (const c of cases) {
    it(`${c.name}: forward ≤ 1e-5, gradients ≤ 1e-4`, () => {
      const before = tf.memory().numTensors;
      checkCase(c);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
