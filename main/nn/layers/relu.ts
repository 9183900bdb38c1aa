/**
 * The ReLU layer (no maxValue) and the Activation layer (inference: linear, relu, sigmoid, softmax
 * on flat outputs; training: relu). Training gradient = dY·sign(ReLU output), i.e. step(x) with
 * step(0) = 0 as tfjs.
 */
import { OnnxTrainUnsupportedError, type Act } from '../../onnx/train-ops.ts';
import type { LayerKind, TrainContext, TrainResult } from '../layer-kind.ts';
import { activation, OnnxExportError } from '../onnx-export-support.ts';

function trainRelu({ o }: TrainContext, x: Act): TrainResult {
  const y = o.op('Relu', [x.name]);
  return { y: { name: y, shape: x.shape }, backward: (dy) => o.mul(dy, o.op('Sign', [y])) };
}

export const reluKind: LayerKind = {
  classNames: ['ReLU'],
  inferOnnx({ g, layers, index }, x, shape) {
    const layer = layers[index];
    const c = layer.getConfig() as { maxValue?: number | null };
    if (c.maxValue !== null && c.maxValue !== undefined) throw new OnnxExportError(`ONNX export: ReLU "${layer.name}" with maxValue ${c.maxValue} is not supported`);
    return { x: g.op('Relu', [x], {}, layer.name), shape };
  },
  trainOnnx(ctx, x) {
    const { layer } = ctx;
    const cfg = layer.getConfig() as { maxValue?: number | null; negativeSlope?: number; threshold?: number };
    if (cfg.maxValue != null || (cfg.negativeSlope ?? 0) !== 0 || (cfg.threshold ?? 0) !== 0) {
      throw new OnnxTrainUnsupportedError(`ONNX training: ReLU "${layer.name}" with maxValue/negativeSlope/threshold is not supported`);
    }
    return trainRelu(ctx, x);
  },
};

export const activationKind: LayerKind = {
  classNames: ['Activation'],
  inferOnnx({ g, layers, index }, x, shape) {
    const layer = layers[index];
    return { x: activation(g, x, (layer.getConfig() as { activation: string }).activation, layer, shape), shape };
  },
  trainOnnx(ctx, x) {
    const { layer } = ctx;
    if ((layer.getConfig() as { activation: string }).activation !== 'relu') throw new OnnxTrainUnsupportedError(`ONNX training: layer "${layer.name}" (Activation) is not supported`);
    return trainRelu(ctx, x);
  },
};
