/** The ReLU layer (no maxValue) and the Activation layer (linear, relu, sigmoid, softmax on flat outputs). */
import type { LayerKind } from '../layer-kind.ts';
import { activation, OnnxExportError } from '../onnx-export-support.ts';

export const reluKind: LayerKind = {
  classNames: ['ReLU'],
  inferOnnx({ g, layers, index }, x, shape) {
    const layer = layers[index];
    const c = layer.getConfig() as { maxValue?: number | null };
    if (c.maxValue !== null && c.maxValue !== undefined) throw new OnnxExportError(`ONNX export: ReLU "${layer.name}" with maxValue ${c.maxValue} is not supported`);
    return { x: g.op('Relu', [x], {}, layer.name), shape };
  },
};

export const activationKind: LayerKind = {
  classNames: ['Activation'],
  inferOnnx({ g, layers, index }, x, shape) {
    const layer = layers[index];
    return { x: activation(g, x, (layer.getConfig() as { activation: string }).activation, layer, shape), shape };
  },
};
