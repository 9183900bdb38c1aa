/**
 * SameConv2D (same-conv2d.ts) and tfjs Conv2D ('same' stride 1 odd kernel, or 'valid'),
 * BN folded in, for inference; SameConv2D alone for training (im2col GEMMs, emitConv).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { emitConv, OnnxTrainUnsupportedError } from '../../onnx/train-ops.ts';
import type { LayerKind } from '../layer-kind.ts';
import { convOut, foldAffine, need, oihw, OnnxExportError, padIn, weightsOf } from '../onnx-export-support.ts';
import { batchNormAffine } from './batch-norm.ts';
import { SameConv2D } from './same-conv2d.ts';
import { featureMap, foldedBatchNorm } from './shape-guards.ts';

/** A convolution's configuration: SameConv2D is 'same', stride 1, dilation 1, channelsLast, no fused activation. */
export interface ConvSpec {
  readonly className: string;
  readonly filters: number;
  readonly kernelSize: readonly [number, number];
  readonly padding: string;
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  readonly dataFormat: string;
  readonly activation: string;
  readonly useBias: boolean;
}

const pair = (v: number | readonly number[]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

export const convKind: LayerKind<ConvSpec> = {
  classNames: [SameConv2D.className, 'Conv2D'],
  spatial: true,
  tfjs: {
    [SameConv2D.className]: (args: ConstructorParameters<typeof SameConv2D>[0]) => new SameConv2D(args),
    Conv2D: tfl.layers.conv2d,
  },
  spec(layer) {
    if (layer.getClassName() === SameConv2D.className) {
      const c = layer.getConfig() as { filters: number; kernelSize: number; useBias: boolean };
      return { className: SameConv2D.className, filters: c.filters, kernelSize: pair(c.kernelSize), padding: 'same', strides: [1, 1], dilations: [1, 1], dataFormat: 'channelsLast', activation: 'linear', useBias: c.useBias };
    }
    const c = layer.getConfig() as { filters: number; kernelSize: number | number[]; padding: string; strides: number | number[]; dilationRate: number | number[]; dataFormat: string; activation: string; useBias: boolean };
    return { className: layer.getClassName(), filters: c.filters, kernelSize: pair(c.kernelSize), padding: c.padding, strides: pair(c.strides), dilations: pair(c.dilationRate), dataFormat: c.dataFormat, activation: c.activation, useBias: c.useBias };
  },
  inferOnnx({ g, layers, index: i, padC, usedExtent }, x, shape, spec) {
    const layer = layers[i];
    const s = featureMap(layer, shape);
    const w = weightsOf(layer);
    const kernel = need(w, 'kernel', layer);
    const [kh, kw, cin, cout] = kernel.shape;
    if (cin !== s.c - (i === 1 ? padC : 0)) throw new OnnxExportError(`ONNX export: layer "${layer.name}" expects ${cin} channels, gets ${s.c}`);
    let pads = [(kh - 1) / 2, (kw - 1) / 2, (kh - 1) / 2, (kw - 1) / 2];
    let strides = [1, 1];
    let dilations = [1, 1];
    if (spec.className === 'Conv2D') {
      const dil = [...spec.dilations];
      if (spec.dataFormat !== 'channelsLast' || (spec.padding === 'same' && (spec.strides.some((v) => v !== 1) || dil.some((v) => v !== 1) || kh % 2 === 0 || kw % 2 === 0))) {
        throw new OnnxExportError(`ONNX export: Conv2D "${layer.name}" (padding ${spec.padding}, strides ${spec.strides}, dilation ${dil}, ${spec.dataFormat}) is not supported; use 'same' with stride 1 and an odd kernel, or 'valid'`);
      }
      if (spec.activation !== 'linear') throw new OnnxExportError(`ONNX export: Conv2D "${layer.name}" has a fused activation "${spec.activation}"; not supported`);
      if (spec.padding === 'valid') pads = [0, 0, 0, 0];
      strides = [...spec.strides];
      dilations = dil;
    } else if (kh % 2 === 0 || kw % 2 === 0) {
      throw new OnnxExportError(`ONNX export: SameConv2D "${layer.name}" has an even kernel ${kh}×${kw}`);
    }
    // Output rows/columns no later layer reads are not computed (see usedExtent).
    const full = convOut(s.h, s.w, kh, kw, pads, strides, dilations);
    const used = usedExtent(full.h, full.w);
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
  trainOnnx(ctx, x, spec) {
    const { o, layer } = ctx;
    if (spec.className !== SameConv2D.className) throw new OnnxTrainUnsupportedError(`ONNX training: layer "${layer.name}" (${layer.getClassName()}) is not supported`);
    if (x.shape.length !== 4) throw new OnnxTrainUnsupportedError(`ONNX training: "${layer.name}" needs a feature map`);
    const kp = ctx.param('kernel');
    const bp = spec.useBias ? ctx.param('bias') : null;
    let kernel = kp.input;
    const cin = kp.shape[2];
    const cinX = x.shape[3];
    // The stem with padded input channels: the kernel gets zero rows for them (Pad on axis 2).
    if (cinX !== cin) kernel = o.op('Pad', [kernel, o.i64([0, 0, 0, 0, 0, 0, cinX - cin, 0])]);
    const r = emitConv(o, x, kernel, bp?.input ?? null, spec.kernelSize[0], spec.filters, !ctx.first, {
      kernel: (gname) => ctx.grad(kp.index, cinX !== cin ? o.slice(gname, [0], [cin], [2]) : gname),
      bias: (gname) => bp && ctx.grad(bp.index, gname),
    });
    return { y: r.y, backward: r.backward };
  },
};
