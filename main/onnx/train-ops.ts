/**
 * The graph pieces of the ONNX training step (forward + hand-derived backward) that the layer
 * kinds' `trainOnnx` (main/nn/layers/) share: graph helpers over GraphBuilder, the im2col
 * convolution and the DCNv2 tent-matrix sampling. Moved unchanged from
 * models/onnx-train/train-graph.ts (issue 17 §2), which re-exports them.
 *
 * Layout: NHWC throughout, activations kept as [B·H·W, C] rows for the GEMMs.
 *   - convolution = im2col (one Gather of input rows) · kernel reshaped [K²·Cin, Cout] — the tfjs
 *     kernel [K, K, Cin, Cout] in its own memory order, no transpose. dW = colsᵀ·dY (Gemm transA),
 *     dX = im2col(dY) · W′ with W′ the kernel rotated 180° with in/out swapped (Gather + Transpose
 *     of the weight input), so no col2im is needed; the stem needs no dX.
 *   - DCNv2: the offset/mask branch is an im2col convolution; the bilinear sampling is a dense
 *     per-patch matrix of tent weights (emitDeformSampling), so sampling, its input gradient and
 *     the offset gradient are batched GEMMs (the mask folded into the matrix), then a GEMM with the
 *     kernel (torchvision's rules, verified against its fixtures).
 */
import { WorkbenchError } from '../errors.ts';
import type { GraphBuilder } from './graph-builder.ts';

/** The model has a layer or configuration the ONNX training graph does not express (trainModel then uses tfjs). */
export class OnnxTrainUnsupportedError extends WorkbenchError {}

/**
 * Largest sampling matrix S′ [batch, h·w·9, h·w] a deformable layer may use, in elements (the
 * graph holds ~7 tensors of that size per step: 64 MB each at this limit). 9×9 patches at batch 64
 * need 3.8 M; 13×13 16.5 M; larger patches or batches train with tfjs instead.
 */
export const MAX_SAMPLING_MATRIX_ELEMENTS = 1 << 24;

/** A 4-D NHWC activation [b, h, w, c] or a 2-D one [b, c]. */
export interface Act {
  readonly name: string;
  readonly shape: readonly number[];
}

export type Backward = (dOut: string) => string | null;

/** Graph-building helpers around GraphBuilder (int64 constants as inputs, opset-17 signatures). */
export class Ops {
  constructor(readonly g: GraphBuilder) {}
  i64(values: readonly number[]): string {
    return this.g.int64s('i', values);
  }
  f32(value: number): string {
    return this.g.floats('c', [], [value]);
  }
  reshape(x: string, shape: readonly number[]): string {
    return this.g.reshape(x, shape);
  }
  slice(x: string, starts: readonly number[], ends: readonly number[], axes: readonly number[], steps?: readonly number[]): string {
    const inputs = [x, this.i64(starts), this.i64(ends), this.i64(axes)];
    if (steps) inputs.push(this.i64(steps));
    return this.g.op('Slice', inputs);
  }
  /** ReduceSum (opset 13+: axes as an input). */
  sum(x: string, axes: readonly number[], keepdims: boolean): string {
    return this.g.op('ReduceSum', [x, this.i64(axes)], { keepdims: keepdims ? 1 : 0 });
  }
  /** ReduceMean (opset < 18: axes as an attribute). */
  mean(x: string, axes: readonly number[], keepdims: boolean): string {
    return this.g.op('ReduceMean', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }
  op(type: string, inputs: readonly string[], attrs: Record<string, number | readonly number[] | string | { float: number }> = {}): string {
    return this.g.op(type, inputs, attrs);
  }
  mul(a: string, b: string): string {
    return this.g.op('Mul', [a, b]);
  }
  add(a: string, b: string): string {
    return this.g.op('Add', [a, b]);
  }
  sub(a: string, b: string): string {
    return this.g.op('Sub', [a, b]);
  }
  gemm(a: string, b: string, c?: string, transA = 0, transB = 0): string {
    return this.g.op('Gemm', c ? [a, b, c] : [a, b], { transA, transB });
  }
  concat(xs: readonly string[], axis: number): string {
    return this.g.op('Concat', xs, { axis });
  }
  unsqueeze(x: string, axes: readonly number[]): string {
    return this.g.op('Unsqueeze', [x, this.i64(axes)]);
  }
  /** Marks an existing value as a graph output under `name` (Identity). */
  output(x: string, name: string): void {
    this.g.nodes.push({ input: [x], output: [name], name: `${name}_out`, opType: 'Identity', attribute: [] });
  }
}

/**
 * im2col of a stride-1 'same' K×K window over NHWC x [b, h, w, c] → [b·h·w, K²·c] (tap-major,
 * channel-minor: the tfjs kernel's order), as ONE Gather of input rows with constant indices; taps
 * outside the patch read an appended zero row (no Pad). Measured against Pad + K² Slices + Concat:
 * the Gather copies each row once instead of twice.
 */
export function im2col(o: Ops, x: string, b: number, h: number, w: number, c: number, k: number): string {
  const half = (k - 1) / 2;
  const n = b * h * w;
  const idx: number[] = new Array(n * k * k);
  let e = 0;
  for (let bi = 0; bi < b; bi++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++)
        for (let i = 0; i < k; i++)
          for (let j = 0; j < k; j++) {
            const yy = y - half + i;
            const xs = xx - half + j;
            idx[e++] = yy >= 0 && yy < h && xs >= 0 && xs < w ? (bi * h + yy) * w + xs : n;
          }
  const rows = o.concat([o.reshape(x, [n, c]), o.op('ConstantOfShape', [o.i64([1, c])])], 0);
  const cols = o.op('Gather', [rows, o.i64(idx)], { axis: 0 }); // [n·K², c]
  return o.reshape(cols, [n, k * k * c]);
}

/** The kernel [K, K, Cin, Cout] rotated 180° with in/out swapped, as [K²·Cout, Cin] (the dX GEMM's right operand). */
function flippedKernel(o: Ops, kernel: string, k: number, cin: number, cout: number): string {
  const kk = k * k;
  const r = o.reshape(kernel, [kk, cin, cout]);
  // Reversing both spatial axes of a K×K kernel reverses its flat tap index.
  const rev = o.op('Gather', [r, o.i64(Array.from({ length: kk }, (_, t) => kk - 1 - t))], { axis: 0 });
  return o.reshape(o.op('Transpose', [rev], { perm: [0, 2, 1] }), [kk * cout, cin]);
}

/**
 * Stride-1 'same' K×K convolution: forward y [b, h, w, cout] and a backward giving dX (null when
 * `needDx` is false) and registering dW, db.
 */
export function emitConv(
  o: Ops,
  x: Act,
  kernel: string,
  bias: string | null,
  k: number,
  cout: number,
  needDx: boolean,
  grads: { kernel: (name: string) => void; bias: (name: string) => void },
): { y: Act; backward: Backward } {
  const [b, h, w, cin] = x.shape;
  const n = b * h * w;
  const cols = im2col(o, x.name, b, h, w, cin, k);
  const w2 = o.reshape(kernel, [k * k * cin, cout]);
  const y = o.reshape(o.gemm(cols, w2, bias ?? undefined), [b, h, w, cout]);
  return {
    y: { name: y, shape: [b, h, w, cout] },
    backward: (dy4) => {
      const dy = o.reshape(dy4, [n, cout]);
      grads.kernel(o.reshape(o.gemm(cols, dy, undefined, 1, 0), [k, k, cin, cout]));
      if (bias) grads.bias(o.sum(dy, [0], false));
      if (!needDx) return null;
      const dcols = im2col(o, dy4, b, h, w, cout, k);
      return o.reshape(o.op('MatMul', [dcols, flippedKernel(o, kernel, k, cin, cout)]), [b, h, w, cin]);
    },
  };
}

/**
 * The DCNv2 sampling core (torchvision semantics, 3×3 / stride 1 / pad 1 / dilation 1 / one
 * offset group): x [b, h, w, c], offsets [n, 2K²] (channel 2k = Δy, 2k+1 = Δx of tap k), mask
 * [n, K²] (already through the sigmoid), kernel [K, K, c, cout] → y [b, h, w, cout]. Backward
 * from dY gives dX, dOffsets [n, 2K²], dMask [n, K²] and registers dW, db.
 *
 * Sampling as a dense matrix per patch: the bilinear weight of input cell (qy, qx) for a sampling
 * point (py, px) is the tent product relu(1 − |py − qy|)·relu(1 − |px − qx|), which is exactly
 * bilinear interpolation with zeros outside the input (a point at y ≤ −1 or y ≥ H has no cell
 * within reach). S′_b [h·w·K², h·w] holds these weights times the mask for patch b, so
 *   cols = S′_b · X_b,  dX_b = S′_bᵀ · dCols_b,  R_b = dCols_b · X_bᵀ
 * are three batched GEMMs, and ∂S/∂py uses the RIGHT derivative of the tent (−1 for
 * py − qy ∈ [0, 1), +1 for [−1, 0)), which is torchvision's floor-corner rule: a point exactly on
 * a row takes the derivative towards the next row, and one on y = −1 the one-sided derivative
 * from row 0. Why not Gather + ScatterND(add): ONNX Runtime's ScatterND splits the updates over
 * the intra-op threads without ordering (measured: results differ run to run with 2 threads),
 * and a 9×9 patch makes S small (729 × 81 per patch), so the GEMMs cost about one convolution.
 */
export function emitDeformSampling(
  o: Ops,
  x: Act,
  offsets: string,
  mask: string,
  kernel: string,
  bias: string | null,
  cout: number,
  grads: { kernel: (name: string) => void; bias: (name: string) => void },
): { y: Act; backward: (dy4: string) => { dx: string; dOffsets: string; dMask: string } } {
  const k = 3;
  const kk = k * k;
  const [b, h, w, c] = x.shape;
  const n = b * h * w;
  const hw = h * w;
  // Base sampling row/column of (output pixel, tap): oy − 1 + i, ox − 1 + j.
  const baseY = new Float32Array(n * kk);
  const baseX = new Float32Array(n * kk);
  for (let p = 0; p < n; p++) {
    const ox = p % w;
    const oy = Math.floor(p / w) % h;
    for (let t = 0; t < kk; t++) {
      baseY[p * kk + t] = oy - 1 + Math.floor(t / k);
      baseX[p * kk + t] = ox - 1 + (t % k);
    }
  }
  const off3 = o.reshape(offsets, [n, kk, 2]);
  const py = o.add(o.slice(off3, [0], [1], [2]), o.g.floats('dcn_base_y', [n, kk, 1], baseY)); // [n, K², 1]
  const px = o.add(o.slice(off3, [1], [2], [2]), o.g.floats('dcn_base_x', [n, kk, 1], baseX));
  const one = o.f32(1);
  const zero = o.f32(0);
  /** Tent weights [n, K², size] and their right derivatives for coordinate `p` against cells 0 … size − 1. */
  const tent = (p: string, size: number, prefix: string): { t: string; dt: string } => {
    const d = o.sub(p, o.g.floats(`${prefix}_cells`, [1, 1, size], Float32Array.from({ length: size }, (_, i) => i)));
    const t = o.op('Relu', [o.sub(one, o.op('Abs', [d]))]);
    const below = o.op('Cast', [o.op('And', [o.op('GreaterOrEqual', [d, o.f32(-1)]), o.op('Less', [d, zero])])], { to: 1 });
    const above = o.op('Cast', [o.op('And', [o.op('GreaterOrEqual', [d, zero]), o.op('Less', [d, one])])], { to: 1 });
    return { t, dt: o.sub(below, above) };
  };
  const ty = tent(py, h, 'dcn_rows');
  const tx = tent(px, w, 'dcn_cols');
  // Row and column factors spread over the h·w cells by a 0/1 matrix (a GEMM with K = h or w),
  // so that S = Ty ⊗ Tx is an equal-shape Mul: ONNX Runtime's broadcasting Mul of
  // [n, K², h, 1] × [n, K², 1, w] measured ~4× slower than expansion + plain Mul.
  const spreadRows = new Float32Array(h * hw);
  const spreadCols = new Float32Array(w * hw);
  for (let q = 0; q < hw; q++) {
    spreadRows[Math.floor(q / w) * hw + q] = 1;
    spreadCols[(q % w) * hw + q] = 1;
  }
  const eRows = o.g.floats('dcn_spread_rows', [h, hw], spreadRows);
  const eCols = o.g.floats('dcn_spread_cols', [w, hw], spreadCols);
  const spread = (t: string, e: string, size: number): string => o.gemm(o.reshape(t, [n * kk, size]), e);
  // The mask scales each sampling row of S: folded into the row factor before spreading (a
  // [n·K², h] Mul instead of one over [n·K², C]), so S′ = S ⊙ mask gives the columns directly.
  const mask2 = o.reshape(mask, [n * kk, 1]);
  const tyMasked = o.mul(o.reshape(ty.t, [n * kk, h]), mask2);
  const tyE = spread(tyMasked, eRows, h); // [n·K², h·w], mask included
  const txE = spread(tx.t, eCols, w);
  // S′ [b, h·w·K², h·w]
  const sMat = o.reshape(o.mul(tyE, txE), [b, hw * kk, hw]);
  const xb = o.reshape(x.name, [b, hw, c]);
  // A physical transpose; the trainer's session disables ONNX Runtime's MatmulTransposeFusion,
  // whose FusedMatMul with a transposed operand measured slower than Transpose + MatMul here.
  const transposed = (t: string, shape: readonly number[]): string => o.reshape(o.op('Transpose', [t], { perm: [0, 2, 1] }), shape);
  const cols = o.reshape(o.op('MatMul', [sMat, xb]), [n, kk * c]);
  const w2 = o.reshape(kernel, [kk * c, cout]);
  const y = o.reshape(o.gemm(cols, w2, bias ?? undefined), [b, h, w, cout]);
  return {
    y: { name: y, shape: [b, h, w, cout] },
    backward: (dy4) => {
      const dy = o.reshape(dy4, [n, cout]);
      grads.kernel(o.reshape(o.gemm(cols, dy, undefined, 1, 0), [k, k, c, cout]));
      if (bias) grads.bias(o.sum(dy, [0], false));
      const dcols = o.reshape(o.gemm(dy, w2, undefined, 0, 1), [b, hw * kk, c]);
      // R[n, t, q] = Σ_c dcols · x(q): how the loss changes with each cell's (unmasked) weight.
      const r = o.reshape(o.op('MatMul', [dcols, transposed(xb, [b, c, hw])]), [n * kk, hw]);
      // With S = Ty ⊗ Tx: Σ_qx R·Tx and Σ_qy R·(mask·Ty) as Mul + GEMM with the spread matrices
      // (ReduceSum over a middle axis is slow). Then
      //   dMask = Σ_qy Ty · Σ_qx R·Tx        (= Σ_c dcols · sampled)
      //   dPy   = mask · Σ_qy dTy · Σ_qx R·Tx
      //   dPx   = Σ_qx dTx · Σ_qy R·(mask·Ty)
      const rTx = o.gemm(o.mul(r, txE), eRows, undefined, 0, 1); // [n·K², h]
      const rTyM = o.gemm(o.mul(r, tyE), eCols, undefined, 0, 1); // [n·K², w], mask included
      const rowDot = (a: string, t: string, size: number): string => o.sum(o.mul(a, o.reshape(t, [n * kk, size])), [1], true); // [n·K², 1]
      const dMask = o.reshape(rowDot(rTx, ty.t, h), [n, kk]);
      const dPy = o.mul(mask2, rowDot(rTx, ty.dt, h));
      const dPx = rowDot(rTyM, tx.dt, w);
      const dOffsets = o.reshape(o.concat([o.reshape(dPy, [n, kk, 1]), o.reshape(dPx, [n, kk, 1])], 2), [n, 2 * kk]);
      // dX_b = S′_bᵀ · dCols_b (the mask is inside S′).
      const dx = o.reshape(o.op('MatMul', [transposed(sMat, [b, hw, hw * kk]), dcols]), [b, h, w, c]);
      return { dx, dOffsets, dMask };
    },
  };
}

