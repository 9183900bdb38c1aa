/**
 * What every layer kind's ONNX inference export shares (main/nn/layers/*): the weights of a tfjs
 * layer in ONNX layouts, BatchNorm folding, the used extent before a 'valid' pooling, fused
 * activations and the DeformConv2D graph (GridSample + Conv). Moved unchanged from
 * maps/onnx/export-model.ts (issue 17 §2), which now walks the registry (nn/onnx-infer-chain.ts).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { WorkbenchError } from '../errors.ts';
import type { DeformConv2D } from './layers/deform-conv-layer.ts';
import type { GraphBuilder } from '../onnx/graph-builder.ts';

/** The model has a layer or a configuration the exporter cannot express (named in the message). */
export class OnnxExportError extends WorkbenchError {}

/** ONNX IR version 8 / opset 17: GridSample (opset 16) with mode "bilinear" is available. */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

export interface Weights {
  readonly shape: number[];
  readonly data: Float32Array;
}

/** The layer's weights by their unscoped name ('kernel', 'bias', 'gamma', 'moving_mean', …). */
export function weightsOf(layer: tfl.layers.Layer): Map<string, Weights> {
  const values = layer.getWeights();
  const out = new Map<string, Weights>();
  layer.weights.forEach((w, i) => {
    const short = w.originalName.split('/').pop() as string;
    out.set(short, { shape: [...values[i].shape], data: Float32Array.from(values[i].dataSync() as Float32Array) });
  });
  return out;
}

export function need(w: Map<string, Weights>, name: string, layer: tfl.layers.Layer): Weights {
  const v = w.get(name);
  if (!v) throw new OnnxExportError(`ONNX export: layer "${layer.name}" (${layer.getClassName()}) has no weight "${name}" (it has ${[...w.keys()].join(', ')})`);
  return v;
}

/** tfjs kernel [KH, KW, Cin, Cout] → ONNX Conv weight [Cout, Cin, KH, KW]. */
export function oihw(k: Weights): Float32Array {
  const [kh, kw, cin, cout] = k.shape;
  const out = new Float32Array(k.data.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < cin; c++)
        for (let o = 0; o < cout; o++) out[((o * cin + c) * kh + i) * kw + j] = k.data[((i * kw + j) * cin + c) * cout + o];
  return out;
}

/** Output size of a convolution with pads [top, left, bottom, right]. */
export function convOut(h: number, w: number, kh: number, kw: number, pads: readonly number[], strides: readonly number[], dilations: readonly number[]): { h: number; w: number } {
  return {
    h: Math.floor((h + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) / strides[0]) + 1,
    w: Math.floor((w + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) / strides[1]) + 1,
  };
}

/**
 * Rows and columns of layer i's h×w output that the rest of the network reads. A 'valid' max-pool
 * (after per-cell layers: BN, ReLU, activations, dropout) reads only the first
 * (⌊(h − p)/s⌋)·s + p rows: with 9×9 windows the 2×2 pool reads 8×8 of the first stage's 9×9
 * output, so its last row and column (21 % of that stage, ≈ 10 % of the CNN's multiply-adds) need
 * not be computed. Every other layer reads everything.
 */
export function usedExtent(layers: readonly tfl.layers.Layer[], i: number, h: number, w: number): { h: number; w: number } {
  const perCell = new Set(['BatchNormalization', 'ReLU', 'Activation', 'GeoAnomalySeededDropout', 'Dropout', 'SpatialDropout2D']);
  let j = i + 1;
  while (j < layers.length && perCell.has(layers[j].getClassName())) j++;
  const next = layers[j];
  if (!next || next.getClassName() !== 'MaxPooling2D') return { h, w };
  const c = next.getConfig() as { poolSize: number[]; strides?: number[]; padding: string };
  if (c.padding !== 'valid') return { h, w };
  const [ph, pw] = c.poolSize;
  const [sh, sw] = c.strides ?? c.poolSize;
  const used = (n: number, p: number, st: number): number => (n < p ? n : Math.floor((n - p) / st) * st + p);
  return { h: used(h, ph, sh), w: used(w, pw, sw) };
}

/** Zero-pads the input channels of an OIHW weight from cin to cpad (for the padded input, see buildOnnxModel). */
export function padIn(w: Float32Array, cout: number, cin: number, cpad: number, kk: number): Float32Array {
  if (cpad === cin) return w;
  const out = new Float32Array(cout * cpad * kk);
  for (let o = 0; o < cout; o++) out.set(w.subarray(o * cin * kk, (o + 1) * cin * kk), o * cpad * kk);
  return out;
}

/** Per-channel affine y = x·scale + shift of an inference-mode BatchNormalization layer (float64). */
export function batchNormAffine(layer: tfl.layers.Layer, channels: number): { scale: Float64Array; shift: Float64Array } {
  const cfg = layer.getConfig() as { axis?: number | number[]; epsilon?: number; center?: boolean; scale?: boolean };
  const axis = Array.isArray(cfg.axis) ? cfg.axis : [cfg.axis ?? -1];
  if (axis.length !== 1 || !(axis[0] === -1 || axis[0] === 3)) {
    throw new OnnxExportError(`ONNX export: BatchNormalization "${layer.name}" normalises axis ${JSON.stringify(cfg.axis)}; only the channel axis (−1) is supported`);
  }
  const w = weightsOf(layer);
  const eps = cfg.epsilon ?? 1e-3;
  const mean = need(w, 'moving_mean', layer).data;
  const variance = need(w, 'moving_variance', layer).data;
  const gamma = cfg.scale === false ? null : need(w, 'gamma', layer).data;
  const beta = cfg.center === false ? null : need(w, 'beta', layer).data;
  if (mean.length !== channels) throw new OnnxExportError(`ONNX export: BatchNormalization "${layer.name}" has ${mean.length} channels, its input ${channels}`);
  const scale = new Float64Array(channels);
  const shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + eps);
    shift[c] = (beta ? beta[c] : 0) - mean[c] * scale[c];
  }
  return { scale, shift };
}

/** Folds y·scale + shift (per output channel) into an OIHW weight and its bias. */
export function foldAffine(weight: Float32Array, bias: Float32Array, affine: { scale: Float64Array; shift: Float64Array } | null): { weight: Float32Array; bias: Float32Array } {
  if (!affine) return { weight, bias };
  const cout = bias.length;
  const per = weight.length / cout;
  const w = new Float32Array(weight.length);
  const b = new Float32Array(cout);
  for (let o = 0; o < cout; o++) {
    const s = affine.scale[o];
    for (let q = 0; q < per; q++) w[o * per + q] = weight[o * per + q] * s;
    b[o] = bias[o] * s + affine.shift[o];
  }
  return { weight: w, bias: b };
}

/** Shape of the current activation: NCHW [C, H, W] (batch implicit) or flat [F]. */
export type Shape = { kind: 'map'; c: number; h: number; w: number } | { kind: 'flat'; f: number };

export function activation(g: GraphBuilder, x: string, name: string, layer: tfl.layers.Layer, shape: Shape): string {
  switch (name) {
    case 'linear':
      return x;
    case 'relu':
      return g.op('Relu', [x]);
    case 'sigmoid':
      return g.op('Sigmoid', [x]);
    case 'softmax':
      // tfjs' softmax is over the last axis; only defined here for flat [batch, classes].
      if (shape.kind !== 'flat') throw new OnnxExportError(`ONNX export: softmax of layer "${layer.name}" on a feature map is not supported`);
      return g.op('Softmax', [x], { axis: -1 });
    default:
      throw new OnnxExportError(`ONNX export: activation "${name}" of layer "${layer.name}" is not supported (linear, relu, sigmoid, softmax)`);
  }
}

/**
 * DeformConv2D (torchvision semantics, see deform-conv-op.ts) with standard ONNX ops.
 *
 *  1. The offset branch is a Conv whose output channels are re-ordered and scaled at export so
 *     it directly yields GridSample coordinates: per offset group g and tap (i, j) the pair
 *     (x, y) — GridSample wants x first, while our offsets store channel 2k = Δy, 2k + 1 = Δx —
 *     multiplied by 2/W and 2/H. Adding the constant tap position (2·(o·s − pad + tap·dil) + 1)/n − 1
 *     gives normalised coordinates with align_corners = 0, i.e. the input cell
 *     p = o·s − pad + tap·dil + Δ exactly. (align_corners = 0 because it also works for 1-cell inputs.)
 *  2. The coordinates are laid out as an "expanded" image [N·G, Ho·KH, Wo·KW, 2]: output cell
 *     (oy, ox) owns the KH×KW block at (oy·KH + i, ox·KW + j). GridSample (bilinear, zeros
 *     padding) samples every group's channels there: zero outside the input and bilinear with
 *     missing corners read as 0, which is torchvision's rule (a point at y ≤ −1 or y ≥ H has no
 *     corner inside, so it reads 0 as well).
 *  3. The modulation mask (sigmoid of the mask branch, same tap order) is laid out the same way
 *     and multiplied in.
 *  4. A Conv with the deformable kernel, kernel KH×KW and stride (KH, KW), over the expanded
 *     image computes Σ_k Σ_c w[k, c, o] · m_k · x(p_k) per output cell; BN is folded into it.
 */
export function deformGraph(
  g: GraphBuilder,
  x: string,
  s: { c: number; h: number; w: number },
  layer: DeformConv2D,
  affine: { scale: Float64Array; shift: Float64Array } | null,
  usedOf: (h: number, w: number) => { h: number; w: number },
): { x: string; h: number; w: number } {
  const [kh, kw] = layer.kernelSize;
  const [sh, sw] = layer.strides;
  const [ph, pw] = layer.pad;
  const [dh, dw] = layer.dilationRate;
  const G = layer.offsetGroups;
  const C = s.c;
  const K = kh * kw;
  const cout = layer.filters;
  const full = convOut(s.h, s.w, kh, kw, [ph, pw, ph, pw], [sh, sw], [dh, dw]);
  if (full.h < 1 || full.w < 1) throw new OnnxExportError(`ONNX export: DeformConv2D "${layer.name}" has no output for a ${s.h}×${s.w} input`);
  // Only the output cells later layers read (usedExtent): fewer rows/columns of offsets and samples.
  const used = usedOf(full.h, full.w);
  const cutH = sh === 1 && ph >= full.h - used.h ? full.h - used.h : 0;
  const cutW = sw === 1 && pw >= full.w - used.w ? full.w - used.w : 0;
  const ho = full.h - cutH;
  const wo = full.w - cutW;
  const w = weightsOf(layer);
  const kernel = need(w, 'kernel', layer);
  if (kernel.shape[2] !== C) throw new OnnxExportError(`ONNX export: DeformConv2D "${layer.name}" expects ${kernel.shape[2]} channels, gets ${C}`);
  const offK = need(w, 'offset_kernel', layer);
  const offB = need(w, 'offset_bias', layer).data;
  const offW = oihw(offK); // [offsetChannels, C, KH, KW]
  const per = C * kh * kw;
  const convAttrs = { kernel_shape: [kh, kw], pads: [ph, pw, ph - cutH, pw - cutW], strides: [sh, sw], dilations: [dh, dw] };

  // 1. Coordinate branch: channel q = ((g·KH + i)·KW + j)·2 + xy, from our channel 2(g·K + k) + (1 − xy).
  const nq = G * K * 2;
  const gridW = new Float32Array(nq * per);
  const gridB = new Float32Array(nq);
  for (let gi = 0; gi < G; gi++) {
    for (let k = 0; k < K; k++) {
      for (let xy = 0; xy < 2; xy++) {
        const q = (gi * K + k) * 2 + xy;
        const src = 2 * (gi * K + k) + (xy === 0 ? 1 : 0);
        const scale = xy === 0 ? 2 / s.w : 2 / s.h;
        for (let e = 0; e < per; e++) gridW[q * per + e] = offW[src * per + e] * scale;
        gridB[q] = offB[src] * scale;
      }
    }
  }
  let grid = g.op('Conv', [x, g.floats(`${layer.name}_grid_w`, [nq, C, kh, kw], gridW), g.floats(`${layer.name}_grid_b`, [nq], gridB)], convAttrs, `${layer.name}_offsets`);
  // [N, G·K·2, Ho, Wo] → [N, G, KH, KW, 2, Ho, Wo] → [N, G, Ho, KH, Wo, KW, 2] → [N·G, Ho·KH, Wo·KW, 2]
  grid = g.reshape(grid, [-1, G, kh, kw, 2, ho, wo]);
  grid = g.op('Transpose', [grid], { perm: [0, 1, 5, 2, 6, 3, 4] });
  grid = g.reshape(grid, [-1, ho * kh, wo * kw, 2]);
  const base = new Float32Array(ho * kh * wo * kw * 2);
  for (let oy = 0; oy < ho; oy++)
    for (let i = 0; i < kh; i++)
      for (let ox = 0; ox < wo; ox++)
        for (let j = 0; j < kw; j++) {
          const e = (((oy * kh + i) * wo + ox) * kw + j) * 2;
          base[e] = (2 * (ox * sw - pw + j * dw) + 1) / s.w - 1;
          base[e + 1] = (2 * (oy * sh - ph + i * dh) + 1) / s.h - 1;
        }
  grid = g.op('Add', [grid, g.floats(`${layer.name}_taps`, [1, ho * kh, wo * kw, 2], base)], {}, `${layer.name}_grid`);

  // 2. Sampling: the groups' channels become batch entries so each group uses its own grid.
  const xg = G === 1 ? x : g.reshape(x, [-1, C / G, s.h, s.w]);
  let sampled = g.op('GridSample', [xg, grid], { mode: 'bilinear', padding_mode: 'zeros', align_corners: 0 }, `${layer.name}_sampled`);

  // 3. Modulation mask: channels g·K + k of the mask branch (our channels 2·G·K …), sigmoid.
  if (layer.useMask) {
    const nm = G * K;
    const maskW = offW.slice(2 * G * K * per, 3 * G * K * per);
    const maskB = offB.slice(2 * G * K, 3 * G * K);
    let mask = g.op('Conv', [x, g.floats(`${layer.name}_mask_w`, [nm, C, kh, kw], maskW), g.floats(`${layer.name}_mask_b`, [nm], maskB)], convAttrs, `${layer.name}_mask_logits`);
    mask = g.op('Sigmoid', [mask]);
    // [N, G·K, Ho, Wo] → [N, G, KH, KW, Ho, Wo] → [N, G, Ho, KH, Wo, KW] → [N·G, 1, Ho·KH, Wo·KW]
    mask = g.reshape(mask, [-1, G, kh, kw, ho, wo]);
    mask = g.op('Transpose', [mask], { perm: [0, 1, 4, 2, 5, 3] });
    mask = g.reshape(mask, [-1, 1, ho * kh, wo * kw]);
    sampled = g.op('Mul', [sampled, mask], {}, `${layer.name}_modulated`);
  }
  if (G !== 1) sampled = g.reshape(sampled, [-1, C, ho * kh, wo * kw]);

  // 4. The deformable kernel as a stride-KH×KW convolution over the expanded image (+ folded BN).
  const bias = layer.useBias ? need(w, 'bias', layer).data : new Float32Array(cout);
  const f = foldAffine(oihw(kernel), bias, affine);
  const y = g.op('Conv', [sampled, g.floats(`${layer.name}_w`, [cout, C, kh, kw], f.weight), g.floats(`${layer.name}_b`, [cout], f.bias)], { kernel_shape: [kh, kw], strides: [kh, kw], pads: [0, 0, 0, 0] }, layer.name);
  return { x: y, h: ho, w: wo };
}

