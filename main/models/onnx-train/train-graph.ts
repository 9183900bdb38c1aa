/**
 * One training step of a patch classifier (architectures.ts) as ONE ONNX inference graph:
 * the forward pass in training mode AND the hand-derived backward pass, so that ONNX Runtime's
 * multi-threaded CPU kernels (MLAS GEMMs) compute the loss and every gradient. ONNX Runtime for
 * Node has no training API, hence the explicit backward; Adam and the BatchNorm moving averages
 * are applied in JS (onnx-trainer.ts).
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
 *   - BatchNorm with batch mean and biased variance (tfjs' training mode); their values are graph
 *     outputs so JS updates the moving averages exactly as tfjs-layers' doMovingAverage.
 *   - MaxPool 2×2 valid: four strided Slices + Max; backward to the FIRST maximal element in
 *     row-major window order (tfjs' maxPoolPositions: strict ">" while scanning).
 *   - GAP, Dense, ReLU (gradient = dY·sign(ReLU output), i.e. step(x) with step(0) = 0 as tfjs),
 *     dropout as a mask input (JS draws the same masks as SeededDropout), softmax, the clipped
 *     cross-entropy and the geology term of geology-loss.ts.
 * Weight decay is NOT in the graph: 0.5·wd·Σkernel² and its gradient wd·kernel are added in JS.
 *
 * The graph is built for one batch size (static shapes let ONNX Runtime plan memory and pick
 * kernels); the trainer keeps one session per batch size it meets.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { WorkbenchError } from '../../errors.ts';
import { GraphBuilder } from '../../onnx/graph-builder.ts';
import { encodeOnnxModel, type OnnxValueInfo } from '../../onnx/onnx-proto.ts';
import { SameConv2D, SeededDropout } from '../architectures.ts';
import { DeformConv2D } from '../deform-conv-layer.ts';

/** The model has a layer or configuration the ONNX training graph does not express (trainModel then uses tfjs). */
export class OnnxTrainUnsupportedError extends WorkbenchError {}

export const TRAIN_IR_VERSION = 8;
export const TRAIN_OPSET = 17;

/** Graph input names. */
export const IN_X = 'x';
export const IN_ONEHOT = 'onehot';
export const IN_KNOWLEDGE = 'knowledge';
export const IN_DROPOUT = 'dropout_mask';
export const IN_GEO_A = 'geo_a';
export const IN_GEO_B = 'geo_b';
export const OUT_LOSS = 'loss';

/**
 * Largest sampling matrix S′ [batch, h·w·9, h·w] a deformable layer may use, in elements (the
 * graph holds ~7 tensors of that size per step: 64 MB each at this limit). 9×9 patches at batch 64
 * need 3.8 M; 13×13 16.5 M; larger patches or batches train with tfjs instead.
 */
export const MAX_SAMPLING_MATRIX_ELEMENTS = 1 << 24;

export interface TrainGraphOptions {
  /** Samples per step (static in the graph). */
  readonly batch: number;
  /** λ of the geology term; 0 or nKnowledge 0 = cross-entropy only. */
  readonly lambda: number;
  /** Knowledge rasters (columns of the geology term's w); 0 = no geology term. */
  readonly nKnowledge: number;
  /**
   * Zero input channels appended so the stem's im2col rows are a multiple of this (the padded
   * kernel rows are zero; the stem's gradient is sliced back). 1 = no padding. @default 1
   */
  readonly padChannelsTo?: number;
}

/** One weight of the tfjs model, in model.weights order. */
export interface ParamInfo {
  /** tfjs originalName (e.g. "stem_conv/kernel"). */
  readonly name: string;
  /** Graph input name. */
  readonly input: string;
  readonly shape: readonly number[];
  /** Graph output of its gradient (null: not trained by a gradient, i.e. BN moving statistics). */
  readonly gradOutput: string | null;
}

/** A BatchNormalization layer's moving statistics and the graph outputs of its batch statistics. */
export interface BnStatsInfo {
  readonly meanParam: number;
  readonly varianceParam: number;
  readonly momentum: number;
  readonly meanOutput: string;
  readonly varianceOutput: string;
}

export interface TrainGraph {
  readonly bytes: Uint8Array;
  readonly batch: number;
  readonly params: readonly ParamInfo[];
  readonly bnStats: readonly BnStatsInfo[];
  /** The SeededDropout layer (mask input [batch, units]); null without one or with rate 0. */
  readonly dropout: { readonly layer: SeededDropout; readonly units: number; readonly rate: number } | null;
  /** Geology gradient outputs (null without the geology term). */
  readonly geology: { readonly gradA: string; readonly gradB: string } | null;
  readonly inputs: readonly OnnxValueInfo[];
}

/** A 4-D NHWC activation [b, h, w, c] or a 2-D one [b, c]. */
interface Act {
  readonly name: string;
  readonly shape: readonly number[];
}

type Backward = (dOut: string) => string | null;

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

/**
 * Builds the training-step graph of `model` (buildModel's chain). Refuses (OnnxTrainUnsupportedError)
 * any layer or configuration it does not express.
 */
export function buildTrainGraph(model: tfl.LayersModel, options: TrainGraphOptions): TrainGraph {
  const B = options.batch;
  if (!(Number.isInteger(B) && B >= 2)) throw new OnnxTrainUnsupportedError(`ONNX training: batch must be an integer ≥ 2, got ${B}`);
  const inShape = model.inputs[0]?.shape;
  if (model.inputs.length !== 1 || model.outputs.length !== 1 || !inShape || inShape.length !== 4 || inShape.slice(1).some((d) => d === null)) {
    throw new OnnxTrainUnsupportedError(`ONNX training: model "${model.name}" must have one NHWC input of known size and one output`);
  }
  const [, H, W, C0] = inShape as number[];
  const layers = model.layers;
  for (let i = 1; i < layers.length; i++) {
    const inbound = layers[i].inboundNodes[0]?.inboundLayers ?? [];
    if (inbound.length !== 1 || inbound[0] !== layers[i - 1]) {
      throw new OnnxTrainUnsupportedError(`ONNX training: layer "${layers[i].name}" does not take the previous layer's output; only a linear chain is supported`);
    }
  }

  const g = new GraphBuilder();
  const o = new Ops(g);
  const inputs: OnnxValueInfo[] = [];
  const params: { name: string; input: string; shape: number[]; gradOutput: string | null }[] = [];
  const paramIndex = new Map<string, number>();
  model.weights.forEach((wt, i) => {
    const input = `w${i}`;
    params.push({ name: wt.originalName, input, shape: [...wt.shape] as number[], gradOutput: null });
    paramIndex.set(wt.originalName, i);
  });
  // A weight becomes a graph input when the graph reads it (the BN moving statistics are not read).
  const used = new Set<number>();
  const param = (layer: tfl.layers.Layer, short: string): { input: string; index: number } => {
    const full = layer.weights.find((wt) => wt.originalName.split('/').pop() === short);
    const index = full ? paramIndex.get(full.originalName) : undefined;
    if (!full || index === undefined) throw new OnnxTrainUnsupportedError(`ONNX training: layer "${layer.name}" has no weight "${short}"`);
    if (!short.startsWith('moving_') && !used.has(index)) {
      used.add(index);
      inputs.push({ name: params[index].input, dims: params[index].shape });
    }
    return { input: params[index].input, index };
  };
  const setGrad = (index: number) => (name: string): void => {
    const out = `grad_${index}`;
    o.output(name, out);
    params[index].gradOutput = out;
  };

  const padTo = Math.max(1, options.padChannelsTo ?? 1);
  const padC = C0 % padTo === 0 ? 0 : padTo - (C0 % padTo);
  inputs.push({ name: IN_X, dims: [B, H, W, C0] });
  inputs.push({ name: IN_ONEHOT, dims: [B, 2] });
  let x: Act = { name: padC > 0 ? o.op('Pad', [IN_X, o.i64([0, 0, 0, 0, 0, 0, 0, padC])]) : IN_X, shape: [B, H, W, C0 + padC] };
  const backward: Backward[] = [];
  const bnStats: BnStatsInfo[] = [];
  let dropout: TrainGraph['dropout'] = null;
  let first = true;
  let probs: string | null = null;

  for (let i = 1; i < layers.length; i++) {
    const layer = layers[i];
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Record<string, unknown>;
    if (probs) throw new OnnxTrainUnsupportedError(`ONNX training: layer "${layer.name}" follows the softmax; the softmax must be the last layer`);
    if (cls === SameConv2D.className) {
      const l = layer as SameConv2D;
      if (x.shape.length !== 4) throw new OnnxTrainUnsupportedError(`ONNX training: "${layer.name}" needs a feature map`);
      const kp = param(layer, 'kernel');
      const bp = l.useBias ? param(layer, 'bias') : null;
      let kernel = kp.input;
      const cin = params[kp.index].shape[2];
      const cinX = x.shape[3];
      // The stem with padded input channels: the kernel gets zero rows for them (Pad on axis 2).
      if (cinX !== cin) kernel = o.op('Pad', [kernel, o.i64([0, 0, 0, 0, 0, 0, cinX - cin, 0])]);
      const r = emitConv(o, x, kernel, bp?.input ?? null, l.kernelSize, l.filters, !first, {
        kernel: (gname) => setGrad(kp.index)(cinX !== cin ? o.slice(gname, [0], [cin], [2]) : gname),
        bias: (gname) => bp && setGrad(bp.index)(gname),
      });
      x = r.y;
      backward.push(r.backward);
    } else if (cls === DeformConv2D.className) {
      const l = layer as DeformConv2D;
      if (first) throw new OnnxTrainUnsupportedError(`ONNX training: a deformable first layer is not supported`);
      if (l.kernelSize[0] !== 3 || l.kernelSize[1] !== 3 || l.strides.some((s) => s !== 1) || l.dilationRate.some((d) => d !== 1) || l.pad[0] !== 1 || l.pad[1] !== 1) {
        throw new OnnxTrainUnsupportedError(`ONNX training: DeformConv2D "${layer.name}" must be 3×3, stride 1, dilation 1, padding same`);
      }
      if (l.offsetGroups !== 1 || !l.useMask || !l.useBias) {
        throw new OnnxTrainUnsupportedError(
          `ONNX training: DeformConv2D "${layer.name}" has offsetGroups ${l.offsetGroups}, useMask ${l.useMask}, useBias ${l.useBias}; only 1 group with mask and bias is supported`,
        );
      }
      const [b, h, w] = x.shape;
      const n = b * h * w;
      const kk = 9;
      const sElements = b * (h * w) ** 2 * kk;
      if (sElements > MAX_SAMPLING_MATRIX_ELEMENTS) {
        throw new OnnxTrainUnsupportedError(
          `ONNX training: DeformConv2D "${layer.name}" on ${h}×${w} maps at batch ${b} needs a ${(sElements / 1e6).toFixed(1)} M-element sampling matrix ` +
            `(limit ${(MAX_SAMPLING_MATRIX_ELEMENTS / 1e6).toFixed(1)} M); use smaller patches or batches`,
        );
      }
      const kp = param(layer, 'kernel');
      const bp = param(layer, 'bias');
      const okp = param(layer, 'offset_kernel');
      const obp = param(layer, 'offset_bias');
      const xin = x;
      const branch = emitConv(o, xin, okp.input, obp.input, 3, 3 * kk, true, { kernel: setGrad(okp.index), bias: setGrad(obp.index) });
      const raw = o.reshape(branch.y.name, [n, 3 * kk]);
      const offsets = o.slice(raw, [0], [2 * kk], [1]);
      const mask = o.op('Sigmoid', [o.slice(raw, [2 * kk], [3 * kk], [1])]);
      const core = emitDeformSampling(o, xin, offsets, mask, kp.input, bp.input, l.filters, { kernel: setGrad(kp.index), bias: setGrad(bp.index) });
      x = core.y;
      backward.push((dy4) => {
        const d = core.backward(dy4);
        // Back through the sigmoid (dσ = σ(1 − σ)) into the offset/mask convolution.
        const dLogits = o.mul(d.dMask, o.mul(mask, o.sub(o.f32(1), mask)));
        const dRaw = o.reshape(o.concat([d.dOffsets, dLogits], 1), [b, h, w, 3 * kk]);
        return o.add(d.dx, branch.backward(dRaw)!);
      });
    } else if (cls === 'BatchNormalization') {
      const c = cfg as { axis?: number | number[]; epsilon?: number; momentum?: number; center?: boolean; scale?: boolean };
      const axis = Array.isArray(c.axis) ? c.axis : [c.axis ?? -1];
      if (axis.length !== 1 || !(axis[0] === -1 || axis[0] === x.shape.length - 1) || c.center === false || c.scale === false) {
        throw new OnnxTrainUnsupportedError(`ONNX training: BatchNormalization "${layer.name}" must normalise the channel axis with centre and scale`);
      }
      const shape = x.shape;
      const ch = shape[shape.length - 1];
      const rows = shape.reduce((a, v) => a * v, 1) / ch;
      const gp = param(layer, 'gamma');
      const bp = param(layer, 'beta');
      const mp = param(layer, 'moving_mean');
      const vp = param(layer, 'moving_variance');
      const xr = o.reshape(x.name, [rows, ch]);
      const mean = o.mean(xr, [0], true);
      const d = o.sub(xr, mean);
      const variance = o.mean(o.mul(d, d), [0], true);
      const inv = o.op('Reciprocal', [o.op('Sqrt', [o.add(variance, o.f32(c.epsilon ?? 1e-3))])]);
      const xhat = o.mul(d, inv);
      const y = o.add(o.mul(xhat, gp.input), bp.input);
      const meanOutput = `bn_mean_${bnStats.length}`;
      const varianceOutput = `bn_var_${bnStats.length}`;
      o.output(o.reshape(mean, [ch]), meanOutput);
      o.output(o.reshape(variance, [ch]), varianceOutput);
      bnStats.push({ meanParam: mp.index, varianceParam: vp.index, momentum: c.momentum ?? 0.99, meanOutput, varianceOutput });
      x = { name: o.reshape(y, shape), shape };
      backward.push((dy4) => {
        const dy = o.reshape(dy4, [rows, ch]);
        setGrad(gp.index)(o.sum(o.mul(dy, xhat), [0], false));
        setGrad(bp.index)(o.sum(dy, [0], false));
        const dxhat = o.mul(dy, gp.input);
        const m1 = o.mean(dxhat, [0], true);
        const m2 = o.mean(o.mul(dxhat, xhat), [0], true);
        return o.reshape(o.mul(o.sub(o.sub(dxhat, m1), o.mul(xhat, m2)), inv), shape);
      });
    } else if (cls === 'ReLU' || (cls === 'Activation' && cfg.activation === 'relu')) {
      if (cls === 'ReLU' && (cfg.maxValue != null || (cfg.negativeSlope ?? 0) !== 0 || (cfg.threshold ?? 0) !== 0)) {
        throw new OnnxTrainUnsupportedError(`ONNX training: ReLU "${layer.name}" with maxValue/negativeSlope/threshold is not supported`);
      }
      const y = o.op('Relu', [x.name]);
      x = { name: y, shape: x.shape };
      backward.push((dy) => o.mul(dy, o.op('Sign', [y])));
    } else if (cls === 'MaxPooling2D') {
      const c = cfg as { poolSize: number[]; strides?: number[]; padding: string };
      const strides = c.strides ?? c.poolSize;
      if (c.poolSize[0] !== 2 || c.poolSize[1] !== 2 || strides[0] !== 2 || strides[1] !== 2 || c.padding !== 'valid' || x.shape.length !== 4) {
        throw new OnnxTrainUnsupportedError(`ONNX training: MaxPooling2D "${layer.name}" must be 2×2, stride 2, padding valid`);
      }
      const [b, h, w, ch] = x.shape;
      const ho = Math.floor(h / 2);
      const wo = Math.floor(w / 2);
      if (ho < 1 || wo < 1) throw new OnnxTrainUnsupportedError(`ONNX training: MaxPooling2D "${layer.name}" on a ${h}×${w} map`);
      const part = (dy: number, dx: number): string => o.slice(x.name, [dy, dx], [2 * ho, 2 * wo], [1, 2], [2, 2]);
      const parts = [part(0, 0), part(0, 1), part(1, 0), part(1, 1)];
      const m = o.op('Max', parts);
      x = { name: m, shape: [b, ho, wo, ch] };
      backward.push((dm) => {
        // First maximal element in row-major window order receives the gradient (tfjs' rule).
        const zero = o.f32(0);
        let taken: string | null = null;
        const routed: string[] = [];
        parts.forEach((p, q) => {
          let sel: string;
          if (q === parts.length - 1) sel = o.op('Not', [taken!]);
          else {
            const eq = o.op('Equal', [p, m]);
            sel = taken ? o.op('And', [eq, o.op('Not', [taken])]) : eq;
            taken = taken ? o.op('Or', [taken, sel]) : sel;
          }
          routed.push(o.unsqueeze(o.op('Where', [sel, dm, zero]), [2, 4])); // [b, ho, 1, wo, 1, c]
        });
        const row0 = o.concat([routed[0], routed[1]], 4);
        const row1 = o.concat([routed[2], routed[3]], 4);
        let dx = o.reshape(o.concat([row0, row1], 2), [b, 2 * ho, 2 * wo, ch]);
        if (h !== 2 * ho || w !== 2 * wo) dx = o.op('Pad', [dx, o.i64([0, 0, 0, 0, 0, h - 2 * ho, w - 2 * wo, 0])]);
        return dx;
      });
    } else if (cls === 'GlobalAveragePooling2D') {
      if (x.shape.length !== 4) throw new OnnxTrainUnsupportedError(`ONNX training: "${layer.name}" needs a feature map`);
      const [b, h, w, ch] = x.shape;
      const y = o.mean(x.name, [1, 2], false);
      x = { name: y, shape: [b, ch] };
      backward.push((dy) => o.op('Expand', [o.mul(o.reshape(dy, [b, 1, 1, ch]), o.f32(1 / (h * w))), o.i64([b, h, w, ch])]));
    } else if (cls === 'Dense') {
      const c = cfg as { activation?: string; useBias?: boolean; units: number };
      if (x.shape.length !== 2) throw new OnnxTrainUnsupportedError(`ONNX training: Dense "${layer.name}" must follow a pooling layer (flat input)`);
      const act = c.activation ?? 'linear';
      if (!['linear', 'relu', 'softmax'].includes(act)) throw new OnnxTrainUnsupportedError(`ONNX training: Dense "${layer.name}" activation ${act} is not supported`);
      const kp = param(layer, 'kernel');
      const bp = c.useBias === false ? null : param(layer, 'bias');
      const xin = x.name;
      const z = o.gemm(xin, kp.input, bp?.input);
      const units = c.units;
      const b = x.shape[0];
      const back = (dz: string): string => {
        setGrad(kp.index)(o.gemm(xin, dz, undefined, 1, 0));
        if (bp) setGrad(bp.index)(o.sum(dz, [0], false));
        return o.gemm(dz, kp.input, undefined, 0, 1);
      };
      if (act === 'relu') {
        const y = o.op('Relu', [z]);
        x = { name: y, shape: [b, units] };
        backward.push((dy) => back(o.mul(dy, o.op('Sign', [y]))));
      } else if (act === 'softmax') {
        if (units !== 2) throw new OnnxTrainUnsupportedError(`ONNX training: the softmax layer must have 2 units, "${layer.name}" has ${units}`);
        probs = o.op('Softmax', [z], { axis: 1 });
        x = { name: probs, shape: [b, units] };
        backward.push(back); // receives dLogits from the loss
      } else {
        x = { name: z, shape: [b, units] };
        backward.push(back);
      }
    } else if (cls === SeededDropout.className || cls === 'Dropout') {
      if (cls === 'Dropout') throw new OnnxTrainUnsupportedError(`ONNX training: unseeded Dropout "${layer.name}" is not reproducible; use SeededDropout`);
      const l = layer as SeededDropout;
      if (l.rate === 0) continue;
      if (dropout) throw new OnnxTrainUnsupportedError(`ONNX training: more than one dropout layer`);
      if (x.shape.length !== 2) throw new OnnxTrainUnsupportedError(`ONNX training: dropout "${layer.name}" must act on a flat [batch, units] activation`);
      dropout = { layer: l, units: x.shape[1], rate: l.rate };
      inputs.push({ name: IN_DROPOUT, dims: [...x.shape] });
      x = { name: o.mul(x.name, IN_DROPOUT), shape: x.shape };
      backward.push((dy) => o.mul(dy, IN_DROPOUT));
    } else {
      throw new OnnxTrainUnsupportedError(`ONNX training: layer "${layer.name}" (${cls}) is not supported`);
    }
    if (cls === SameConv2D.className || cls === DeformConv2D.className) first = false;
  }
  if (!probs) throw new OnnxTrainUnsupportedError(`ONNX training: model "${model.name}" does not end in a 2-unit softmax Dense layer`);

  // Loss: CE on probabilities clipped to [1e-7, 1 − 1e-7] (crossEntropy), + λ·mean (p₁ − σ(w·a + b))².
  const lo = o.f32(1e-7);
  const hi = o.f32(1 - 1e-7);
  const pc = o.op('Clip', [probs, lo, hi]);
  const ce = o.op('Neg', [o.mean(o.sum(o.mul(IN_ONEHOT, o.op('Log', [pc])), [1], false), [0], false)]);
  // d(clip)/dp = 1 inside [lo, hi] (tfjs clipByValue's gradient), 0 where clipped.
  const inRange = o.op('Cast', [o.op('Equal', [probs, pc])], { to: 1 });
  let dp = o.mul(o.mul(o.op('Div', [IN_ONEHOT, pc]), o.f32(-1 / B)), inRange);
  let loss = ce;
  let geology: TrainGraph['geology'] = null;
  const nK = options.nKnowledge;
  if (nK > 0 && options.lambda > 0) {
    inputs.push({ name: IN_KNOWLEDGE, dims: [B, nK] }, { name: IN_GEO_A, dims: [nK] }, { name: IN_GEO_B, dims: [] });
    const p1 = o.slice(probs, [1], [2], [1]); // [B, 1]
    const z = o.add(o.op('MatMul', [IN_KNOWLEDGE, o.reshape(IN_GEO_A, [nK, 1])]), IN_GEO_B);
    const gp = o.op('Sigmoid', [z]);
    const diff = o.sub(p1, gp);
    loss = o.add(ce, o.mul(o.f32(options.lambda), o.mean(o.mul(diff, diff), [0, 1], false)));
    const dDiff = o.mul(diff, o.f32((2 * options.lambda) / B));
    dp = o.add(dp, o.op('Pad', [dDiff, o.i64([0, 1, 0, 0])]));
    const dz = o.mul(o.op('Neg', [dDiff]), o.mul(gp, o.sub(o.f32(1), gp)));
    o.output(o.reshape(o.gemm(IN_KNOWLEDGE, dz, undefined, 1, 0), [nK]), 'grad_geo_a');
    o.output(o.sum(dz, [0, 1], false), 'grad_geo_b');
    geology = { gradA: 'grad_geo_a', gradB: 'grad_geo_b' };
  }
  o.output(loss, OUT_LOSS);
  // Softmax backward: dz = p ⊙ (dp − Σ dp ⊙ p).
  let grad: string | null = o.mul(probs, o.sub(dp, o.sum(o.mul(dp, probs), [1], true)));
  for (let i = backward.length - 1; i >= 0 && grad; i--) grad = backward[i](grad);

  const outputs: OnnxValueInfo[] = [{ name: OUT_LOSS, dims: [] }];
  for (const p of params) if (p.gradOutput) outputs.push({ name: p.gradOutput, dims: p.shape });
  for (const s of bnStats) {
    const ch = params[s.meanParam].shape[0];
    outputs.push({ name: s.meanOutput, dims: [ch] }, { name: s.varianceOutput, dims: [ch] });
  }
  if (geology) outputs.push({ name: geology.gradA, dims: [nK] }, { name: geology.gradB, dims: [] });
  const bytes = encodeOnnxModel({
    irVersion: TRAIN_IR_VERSION,
    opsetVersion: TRAIN_OPSET,
    producerName: 'geoanomaly-workbench',
    producerVersion: '1',
    docString: `${model.name}: one training step (forward + backward), batch ${B}`,
    graph: { name: `${model.name}_train_step`, node: g.nodes, initializer: g.initializers, input: inputs, output: outputs },
    metadata: { source: 'geoanomaly onnx-train' },
  });
  return { bytes, batch: B, params, bnStats, dropout, geology, inputs };
}
