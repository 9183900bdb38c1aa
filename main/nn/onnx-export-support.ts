/**
 * What every layer kind's ONNX inference export shares (main/nn/layers/*): the weights of a tfjs
 * layer in ONNX layouts, BatchNorm folding into a convolution's weights and fused activations.
 * What belongs to one kind lives in its module: batchNormAffine in layers/batch-norm.ts, usedExtent
 * (the rows a 'valid' pooling reads) in layers/pooling.ts, the DeformConv2D graph in
 * layers/deform-conv.ts. Moved from maps/onnx/export-model.ts (issue 17 §2).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { WorkbenchError } from '../errors.ts';
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

/** Zero-pads the input channels of an OIHW weight from cin to cpad (for the padded input, see buildOnnxModel). */
export function padIn(w: Float32Array, cout: number, cin: number, cpad: number, kk: number): Float32Array {
  if (cpad === cin) return w;
  const out = new Float32Array(cout * cpad * kk);
  for (let o = 0; o < cout; o++) out.set(w.subarray(o * cin * kk, (o + 1) * cin * kk), o * cpad * kk);
  return out;
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
