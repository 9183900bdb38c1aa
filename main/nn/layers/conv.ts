/**
 * SameConv2D (models/architectures.ts) and tfjs Conv2D ('same' stride 1 odd kernel, or 'valid'),
 * BN folded in, for inference; SameConv2D alone for training (im2col GEMMs, emitConv).
 */
import { SameConv2D } from './same-conv2d.ts';
import { emitConv, OnnxTrainUnsupportedError } from '../../onnx/train-ops.ts';
import type { LayerKind } from '../layer-kind.ts';
import { batchNormAffine, convOut, foldAffine, need, oihw, OnnxExportError, padIn, usedExtent, weightsOf } from '../onnx-export-support.ts';
import { featureMap, foldedBatchNorm } from './shape-guards.ts';

export const convKind: LayerKind = {
  classNames: [SameConv2D.className, 'Conv2D'],
  inferOnnx({ g, layers, index: i, padC }, x, shape) {
    const layer = layers[i];
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Record<string, unknown>;
    const s = featureMap(layer, shape);
    const w = weightsOf(layer);
    const kernel = need(w, 'kernel', layer);
    const [kh, kw, cin, cout] = kernel.shape;
    if (cin !== s.c - (i === 1 ? padC : 0)) throw new OnnxExportError(`ONNX export: layer "${layer.name}" expects ${cin} channels, gets ${s.c}`);
    let pads = [(kh - 1) / 2, (kw - 1) / 2, (kh - 1) / 2, (kw - 1) / 2];
    let strides = [1, 1];
    let dilations = [1, 1];
    if (cls === 'Conv2D') {
      const c = cfg as { padding: string; strides: number[]; dilationRate: number | number[]; dataFormat: string; activation: string };
      const dil = typeof c.dilationRate === 'number' ? [c.dilationRate, c.dilationRate] : c.dilationRate;
      if (c.dataFormat !== 'channelsLast' || (c.padding === 'same' && (c.strides.some((v) => v !== 1) || dil.some((v) => v !== 1) || kh % 2 === 0 || kw % 2 === 0))) {
        throw new OnnxExportError(`ONNX export: Conv2D "${layer.name}" (padding ${c.padding}, strides ${c.strides}, dilation ${dil}, ${c.dataFormat}) is not supported; use 'same' with stride 1 and an odd kernel, or 'valid'`);
      }
      if (c.activation !== 'linear') throw new OnnxExportError(`ONNX export: Conv2D "${layer.name}" has a fused activation "${c.activation}"; not supported`);
      if (c.padding === 'valid') pads = [0, 0, 0, 0];
      strides = [...c.strides];
      dilations = dil;
    } else if (kh % 2 === 0 || kw % 2 === 0) {
      throw new OnnxExportError(`ONNX export: SameConv2D "${layer.name}" has an even kernel ${kh}×${kw}`);
    }
    // Output rows/columns no later layer reads are not computed (see usedExtent).
    const full = convOut(s.h, s.w, kh, kw, pads, strides, dilations);
    const used = usedExtent(layers, i, full.h, full.w);
    if (strides[0] === 1 && used.h < full.h && pads[2] >= full.h - used.h) pads = [pads[0], pads[1], pads[2] - (full.h - used.h), pads[3]];
    if (strides[1] === 1 && used.w < full.w && pads[3] >= full.w - used.w) pads = [pads[0], pads[1], pads[2], pads[3] - (full.w - used.w)];
    const bias = w.has('bias') ? need(w, 'bias', layer).data : new Float32Array(cout);
    const affine = foldedBatchNorm(layers, i, cout, batchNormAffine);
    const f = foldAffine(padIn(oihw(kernel), cout, cin, s.c, kh * kw), bias, affine);
    const y = g.op('Conv', [x, g.floats(`${layer.name}_w`, [cout, s.c, kh, kw], f.weight), g.floats(`${layer.name}_b`, [cout], f.bias)], { kernel_shape: [kh, kw], pads, strides, dilations }, layer.name);
    const out = convOut(s.h, s.w, kh, kw, pads, strides, dilations);
    return { x: y, shape: { kind: 'map', c: cout, h: out.h, w: out.w }, absorbed: affine ? 1 : 0 };
  },
  padsInputChannels: true,
  trainOnnx(ctx, x) {
    const { o, layer } = ctx;
    if (layer.getClassName() !== SameConv2D.className) throw new OnnxTrainUnsupportedError(`ONNX training: layer "${layer.name}" (${layer.getClassName()}) is not supported`);
    const l = layer as SameConv2D;
    if (x.shape.length !== 4) throw new OnnxTrainUnsupportedError(`ONNX training: "${layer.name}" needs a feature map`);
    const kp = ctx.param('kernel');
    const bp = l.useBias ? ctx.param('bias') : null;
    let kernel = kp.input;
    const cin = kp.shape[2];
    const cinX = x.shape[3];
    // The stem with padded input channels: the kernel gets zero rows for them (Pad on axis 2).
    if (cinX !== cin) kernel = o.op('Pad', [kernel, o.i64([0, 0, 0, 0, 0, 0, cinX - cin, 0])]);
    const r = emitConv(o, x, kernel, bp?.input ?? null, l.kernelSize, l.filters, !ctx.first, {
      kernel: (gname) => ctx.grad(kp.index, cinX !== cin ? o.slice(gname, [0], [cin], [2]) : gname),
      bias: (gname) => bp && ctx.grad(bp.index, gname),
    });
    return { y: r.y, backward: r.backward };
  },
};
