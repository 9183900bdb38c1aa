/**
 * DeformConv2D (DCNv1/v2, deform-conv-layer.ts): for inference GridSample + Conv (deformGraph),
 * BN folded in; for training (3×3, stride 1, one offset group, mask and bias) the offset/mask
 * branch as an im2col convolution and the tent-matrix sampling (emitDeformSampling).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { emitConv, emitDeformSampling, MAX_SAMPLING_MATRIX_ELEMENTS, OnnxTrainUnsupportedError } from '../../onnx/train-ops.ts';
import type { GraphBuilder } from '../../onnx/graph-builder.ts';
import { LayerSpecError, type LayerKind } from '../layer-kind.ts';
import { convOut, foldAffine, need, oihw, OnnxExportError, weightsOf } from '../onnx-export-support.ts';
import { batchNormAffine } from './batch-norm.ts';
import { DeformConv2D, type DeformConv2DArgs } from './deform-conv-layer.ts';
import { featureMap, foldedBatchNorm } from './shape-guards.ts';

/** The layer's configuration as DeformConv2D normalises it (pairs; `pad` = the cells padded on each side). */
export interface DeformConvSpec {
  readonly filters: number;
  readonly kernelSize: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly pad: readonly [number, number];
  readonly dilationRate: readonly [number, number];
  readonly offsetGroups: number;
  readonly useMask: boolean;
  readonly useBias: boolean;
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
function deformGraph(
  g: GraphBuilder,
  x: string,
  s: { c: number; h: number; w: number },
  layer: tfl.layers.Layer,
  spec: DeformConvSpec,
  affine: { scale: Float64Array; shift: Float64Array } | null,
  usedOf: (h: number, w: number) => { h: number; w: number },
): { x: string; h: number; w: number } {
  const [kh, kw] = spec.kernelSize;
  const [sh, sw] = spec.strides;
  const [ph, pw] = spec.pad;
  const [dh, dw] = spec.dilationRate;
  const G = spec.offsetGroups;
  const C = s.c;
  const K = kh * kw;
  const cout = spec.filters;
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
  if (spec.useMask) {
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
  const bias = spec.useBias ? need(w, 'bias', layer).data : new Float32Array(cout);
  const f = foldAffine(oihw(kernel), bias, affine);
  const y = g.op('Conv', [sampled, g.floats(`${layer.name}_w`, [cout, C, kh, kw], f.weight), g.floats(`${layer.name}_b`, [cout], f.bias)], { kernel_shape: [kh, kw], strides: [kh, kw], pads: [0, 0, 0, 0] }, layer.name);
  return { x: y, h: ho, w: wo };
}

export const deformConvKind: LayerKind<DeformConvSpec> = {
  classNames: [DeformConv2D.className],
  spatial: true,
  tfjs: { [DeformConv2D.className]: (args: DeformConv2DArgs) => new DeformConv2D(args) },
  spec(layer) {
    // `pad` is derived in the constructor (padding, kernel, dilation): read from the instance, not getConfig().
    if (!(layer instanceof DeformConv2D)) throw new LayerSpecError(`layer "${layer.name}" is named ${DeformConv2D.className} but is not a DeformConv2D instance`);
    const { filters, kernelSize, strides, pad, dilationRate, offsetGroups, useMask, useBias } = layer;
    return { filters, kernelSize, strides, pad, dilationRate, offsetGroups, useMask, useBias };
  },
  inferOnnx({ g, layers, index: i, usedExtent }, x, shape, spec) {
    const layer = layers[i];
    const s = featureMap(layer, shape);
    const affine = foldedBatchNorm(layers, i, spec.filters, batchNormAffine);
    const out = deformGraph(g, x, s, layer, spec, affine, usedExtent);
    return { x: out.x, shape: { kind: 'map', c: spec.filters, h: out.h, w: out.w }, absorbed: affine ? 1 : 0 };
  },
  trainOnnx(ctx, x, l) {
    const { o, layer } = ctx;
    // Its dX is always emitted (the offset branch and the sampling both need x): as the stem it would be wasted work.
    if (ctx.first && ctx.mode === 'train') throw new OnnxTrainUnsupportedError(`ONNX training: a deformable first layer is not supported`);
    if (l.kernelSize[0] !== 3 || l.kernelSize[1] !== 3 || l.strides.some((s) => s !== 1) || l.dilationRate.some((d) => d !== 1) || l.pad[0] !== 1 || l.pad[1] !== 1) {
      throw new OnnxTrainUnsupportedError(`ONNX training: DeformConv2D "${layer.name}" must be 3×3, stride 1, dilation 1, padding same`);
    }
    if (l.offsetGroups !== 1 || !l.useMask || !l.useBias) {
      throw new OnnxTrainUnsupportedError(
        `ONNX training: DeformConv2D "${layer.name}" has offsetGroups ${l.offsetGroups}, useMask ${l.useMask}, useBias ${l.useBias}; only 1 group with mask and bias is supported`,
      );
    }
    if (x.shape.length !== 4) throw new OnnxTrainUnsupportedError(`ONNX training: "${layer.name}" needs a feature map`);
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
    const kp = ctx.param('kernel');
    const bp = ctx.param('bias');
    const okp = ctx.param('offset_kernel');
    const obp = ctx.param('offset_bias');
    const setGrad = (index: number) => (name: string): void => ctx.grad(index, name);
    const branch = emitConv(o, x, okp.input, obp.input, 3, 3 * kk, true, { kernel: setGrad(okp.index), bias: setGrad(obp.index) });
    const raw = o.reshape(branch.y.name, [n, 3 * kk]);
    const offsets = o.slice(raw, [0], [2 * kk], [1]);
    const mask = o.op('Sigmoid', [o.slice(raw, [2 * kk], [3 * kk], [1])]);
    const core = emitDeformSampling(o, x, offsets, mask, kp.input, bp.input, l.filters, { kernel: setGrad(kp.index), bias: setGrad(bp.index) });
    return {
      y: core.y,
      backward: (dy4) => {
        const d = core.backward(dy4);
        // Back through the sigmoid (dσ = σ(1 − σ)) into the offset/mask convolution.
        const dLogits = o.mul(d.dMask, o.mul(mask, o.sub(o.f32(1), mask)));
        const dRaw = o.reshape(o.concat([d.dOffsets, dLogits], 1), [b, h, w, 3 * kk]);
        return o.add(d.dx, branch.backward(dRaw)!);
      },
    };
  },
};
