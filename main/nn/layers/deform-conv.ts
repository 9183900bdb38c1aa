/**
 * DeformConv2D (DCNv1/v2, models/deform-conv-layer.ts): for inference GridSample + Conv
 * (deformGraph), BN folded in; for training (3×3, stride 1, one offset group, mask and bias) the
 * offset/mask branch as an im2col convolution and the tent-matrix sampling (emitDeformSampling).
 */
import { DeformConv2D } from './deform-conv-layer.ts';
import { emitConv, emitDeformSampling, MAX_SAMPLING_MATRIX_ELEMENTS, OnnxTrainUnsupportedError } from '../../onnx/train-ops.ts';
import type { LayerKind } from '../layer-kind.ts';
import { batchNormAffine, deformGraph, OnnxExportError, usedExtent } from '../onnx-export-support.ts';
import { featureMap, foldedBatchNorm } from './shape-guards.ts';

export const deformConvKind: LayerKind = {
  classNames: [DeformConv2D.className],
  inferOnnx({ g, layers, index: i }, x, shape) {
    const layer = layers[i];
    if (!(layer instanceof DeformConv2D)) throw new OnnxExportError(`ONNX export: layer "${layer.name}" is named ${DeformConv2D.className} but is not a DeformConv2D instance`);
    const s = featureMap(layer, shape);
    const affine = foldedBatchNorm(layers, i, layer.filters, batchNormAffine);
    const out = deformGraph(g, x, s, layer, affine, (h, w) => usedExtent(layers, i, h, w));
    return { x: out.x, shape: { kind: 'map', c: layer.filters, h: out.h, w: out.w }, absorbed: affine ? 1 : 0 };
  },
  trainOnnx(ctx, x) {
    const { o, layer } = ctx;
    if (!(layer instanceof DeformConv2D)) throw new OnnxTrainUnsupportedError(`ONNX training: layer "${layer.name}" is named ${DeformConv2D.className} but is not a DeformConv2D instance`);
    const l = layer;
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
