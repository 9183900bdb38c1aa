/** BatchNormalization not right after a convolution (those are folded): a per-channel Mul + Add. */
import type { LayerKind } from '../layer-kind.ts';
import { batchNormAffine } from '../onnx-export-support.ts';
import { featureMap } from './shape-guards.ts';

export const batchNormKind: LayerKind = {
  classNames: ['BatchNormalization'],
  inferOnnx({ g, layers, index }, x, shape) {
    const layer = layers[index];
    const s = featureMap(layer, shape);
    const { scale, shift } = batchNormAffine(layer, s.c);
    const m = g.op('Mul', [x, g.floats(`${layer.name}_scale`, [s.c, 1, 1], Float32Array.from(scale))]);
    return { x: g.op('Add', [m, g.floats(`${layer.name}_shift`, [s.c, 1, 1], Float32Array.from(shift))], {}, layer.name), shape };
  },
};
