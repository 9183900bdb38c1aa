/**
 * The ReLU layer (no maxValue) and the Activation layer (inference: linear, relu, sigmoid, softmax
 * on flat outputs; training: relu). Training gradient = dY·sign(ReLU output), i.e. step(x) with
 * step(0) = 0 as tfjs.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { OnnxTrainUnsupportedError, type Act } from '../../onnx/train-ops.ts';
import type { LayerKind, TrainContext, TrainResult } from '../layer-kind.ts';
import { activation, OnnxExportError } from '../onnx-export-support.ts';

function trainRelu({ o }: TrainContext, x: Act): TrainResult {
  const y = o.op('Relu', [x.name]);
  return { y: { name: y, shape: x.shape }, backward: (dy) => o.mul(dy, o.op('Sign', [y])) };
}

/** tfjs ReLU's options: maxValue null = unbounded; negativeSlope and threshold 0 when not given. */
export interface ReluSpec {
  readonly maxValue: number | null;
  readonly negativeSlope: number;
  readonly threshold: number;
}

export const reluKind: LayerKind<ReluSpec> = {
  classNames: ['ReLU'],
  pointwise: true,
  tfjs: { ReLU: tfl.layers.reLU },
  spec(layer) {
    const c = layer.getConfig() as { maxValue?: number | null; negativeSlope?: number; threshold?: number };
    return { maxValue: c.maxValue ?? null, negativeSlope: c.negativeSlope ?? 0, threshold: c.threshold ?? 0 };
  },
  inferOnnx({ g, layers, index }, x, shape, spec) {
    const layer = layers[index];
    if (spec.maxValue !== null) throw new OnnxExportError(`ONNX export: ReLU "${layer.name}" with maxValue ${spec.maxValue} is not supported`);
    return { x: g.op('Relu', [x], {}, layer.name), shape };
  },
  trainOnnx(ctx, x, spec) {
    const { layer } = ctx;
    if (spec.maxValue !== null || spec.negativeSlope !== 0 || spec.threshold !== 0) {
      throw new OnnxTrainUnsupportedError(`ONNX training: ReLU "${layer.name}" with maxValue/negativeSlope/threshold is not supported`);
    }
    return trainRelu(ctx, x);
  },
};

/** The Activation layer's function by its serialized name ('linear', 'relu', …). */
export interface ActivationSpec {
  readonly activation: string;
}

export const activationKind: LayerKind<ActivationSpec> = {
  classNames: ['Activation'],
  pointwise: true,
  tfjs: { Activation: tfl.layers.activation },
  spec: (layer) => ({ activation: (layer.getConfig() as { activation: string }).activation }),
  inferOnnx({ g, layers, index }, x, shape, spec) {
    const layer = layers[index];
    return { x: activation(g, x, spec.activation, layer, shape), shape };
  },
  trainOnnx(ctx, x, spec) {
    const { layer } = ctx;
    if (spec.activation !== 'relu') throw new OnnxTrainUnsupportedError(`ONNX training: layer "${layer.name}" (Activation) is not supported`);
    return trainRelu(ctx, x);
  },
};
