/**
 * The DCNv2 sub-graph of the ONNX training step (emitDeformSampling in
 * main/models/onnx-train/train-graph.ts: tent-weight sampling matrix, its input, offset and mask
 * gradients) against torchvision.ops.deform_conv2d (torch 1.13 / torchvision 0.14, float64),
 * the fixtures of tests/fixtures/dcn/ (make_fixtures.py) that the sub-graph covers: 3×3, stride 1,
 * padding 1, dilation 1, one offset group. Offsets that reach beyond the border, integer offsets
 * (the floor-corner derivative rule) and zero offsets are among them.
 * Tolerances as tests/dcn/deform-conv-op.test.ts: forward ≤ 1e-5, every gradient ≤ 1e-4 (absolute).
 */
import { describe, expect, it } from 'vitest';
import { torchvisionCases, type TorchvisionCase as Case } from '../dcn/torchvision-fixtures.ts';
import { GraphBuilder } from '../../main/onnx/graph-builder.ts';
import { encodeOnnxModel } from '../../main/onnx/onnx-proto.ts';
import { loadOrt } from '../../main/onnx/onnx-runtime.ts';
import { emitDeformSampling, Ops, TRAIN_IR_VERSION, TRAIN_OPSET } from '../../main/models/onnx-train/train-graph.ts';

const cases: Case[] = torchvisionCases()
  .filter((c) => c.KH === 3 && c.KW === 3 && c.stride.every((s) => s === 1) && c.padding.every((p) => p === 1) && c.dilation.every((d) => d === 1) && c.offsetGroups === 1);

function maxAbsDiff(a: ArrayLike<number>, b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function run(c: Case): Promise<Record<string, Float32Array>> {
  const g = new GraphBuilder();
  const o = new Ops(g);
  const n = c.B * c.H * c.W;
  const outputs: Record<string, string> = {};
  const core = emitDeformSampling(o, { name: 'x', shape: [c.B, c.H, c.W, c.Cin] }, g.reshape('offset', [n, 18]), g.reshape('mask', [n, 9]), 'weight', c.bias ? 'bias' : null, c.Cout, {
    kernel: (name) => (outputs.gradWeight = name),
    bias: (name) => (outputs.gradBias = name),
  });
  outputs.out = core.y.name;
  const d = core.backward('dy');
  outputs.gradX = d.dx;
  outputs.gradOffset = d.dOffsets;
  outputs.gradMask = d.dMask;
  for (const [name, value] of Object.entries(outputs)) o.output(value, name);
  const inputs = [
    { name: 'x', dims: [c.B, c.H, c.W, c.Cin] },
    { name: 'offset', dims: [c.B, c.H, c.W, 18] },
    { name: 'mask', dims: [c.B, c.H, c.W, 9] },
    { name: 'weight', dims: [3, 3, c.Cin, c.Cout] },
    ...(c.bias ? [{ name: 'bias', dims: [c.Cout] }] : []),
    { name: 'dy', dims: [c.B, c.H, c.W, c.Cout] },
  ];
  const dims: Record<string, number[]> = {
    out: [c.B, c.H, c.W, c.Cout],
    gradX: [c.B, c.H, c.W, c.Cin],
    gradOffset: [n, 18],
    gradMask: [n, 9],
    gradWeight: [3, 3, c.Cin, c.Cout],
    gradBias: [c.Cout],
  };
  const bytes = encodeOnnxModel({
    irVersion: TRAIN_IR_VERSION,
    opsetVersion: TRAIN_OPSET,
    producerName: 'test',
    producerVersion: '1',
    docString: '',
    graph: { name: 'dcn', node: g.nodes, initializer: g.initializers, input: inputs, output: Object.keys(outputs).map((name) => ({ name, dims: dims[name] })) },
    metadata: {},
  });
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
  try {
    const T = (v: readonly number[], dims: number[]) => new ort.Tensor('float32', Float32Array.from(v), dims);
    const feeds = {
      x: T(c.x, [c.B, c.H, c.W, c.Cin]),
      offset: T(c.offset, [c.B, c.H, c.W, 18]),
      // DCNv1 fixtures (no mask) are DCNv2 with every mask value 1.
      mask: T(c.mask ?? new Array<number>(n * 9).fill(1), [c.B, c.H, c.W, 9]),
      weight: T(c.weight, [3, 3, c.Cin, c.Cout]),
      ...(c.bias ? { bias: T(c.bias, [c.Cout]) } : {}),
      dy: T(c.dy, [c.B, c.H, c.W, c.Cout]),
    };
    const res = await session.run(feeds);
    return Object.fromEntries(Object.entries(res).map(([k, v]) => [k, Float32Array.from(v.data as Float32Array)]));
  } finally {
    await session.release();
  }
}

describe('ONNX DCNv2 training sub-graph vs torchvision fixtures', () => {
  it('covers at least the large-offset, integer-offset and zero-offset fixtures', () => {
    const names = cases.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['large-offsets-mask', 'integer-offsets-mask', 'zero-offsets-nomask', 'big-small-offsets-mask']));
  });
  for (const c of cases) {
    it(`${c.name}: forward ≤ 1e-5, gradients (x, offset, mask, weight, bias) ≤ 1e-4`, async () => {
      const r = await run(c);
      expect(maxAbsDiff(r.out, c.out)).toBeLessThan(1e-5);
      expect(maxAbsDiff(r.gradX, c.gradX)).toBeLessThan(1e-4);
      expect(maxAbsDiff(r.gradOffset, c.gradOffset)).toBeLessThan(1e-4);
      if (c.gradMask) expect(maxAbsDiff(r.gradMask, c.gradMask)).toBeLessThan(1e-4);
      expect(maxAbsDiff(r.gradWeight, c.gradWeight)).toBeLessThan(1e-4);
      if (c.gradBias) expect(maxAbsDiff(r.gradBias, c.gradBias)).toBeLessThan(1e-4);
    });
  }
});
