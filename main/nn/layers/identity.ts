/**
 * Layers that are the identity at inference: the input layer and every dropout. In training only
 * SeededDropout (reproducible) on a flat [batch, units] activation: a mask input that JS draws as
 * SeededDropout.call does (onnx-trainer.ts); tfjs' unseeded Dropout and SpatialDropout2D are refused.
 */
import { SeededDropout } from './seeded-dropout.ts';
import { OnnxTrainUnsupportedError } from '../../onnx/train-ops.ts';
import type { LayerKind } from '../layer-kind.ts';

export const identityKind: LayerKind = {
  classNames: ['InputLayer', 'GeoAnomalySeededDropout', 'Dropout', 'SpatialDropout2D'],
  inferOnnx: (_ctx, x, shape) => ({ x, shape }),
  trainOnnx(ctx, x) {
    const { o, layer } = ctx;
    const cls = layer.getClassName();
    if (cls === 'InputLayer') return { y: x, backward: null };
    if (cls === 'Dropout') throw new OnnxTrainUnsupportedError(`ONNX training: unseeded Dropout "${layer.name}" is not reproducible; use SeededDropout`);
    if (!(layer instanceof SeededDropout)) throw new OnnxTrainUnsupportedError(`ONNX training: layer "${layer.name}" (${cls}) is not supported`);
    if (layer.rate === 0 || ctx.mode === 'infer') return { y: x, backward: null };
    if (x.shape.length !== 2) throw new OnnxTrainUnsupportedError(`ONNX training: dropout "${layer.name}" must act on a flat [batch, units] activation`);
    const mask = ctx.dropout(x.shape[1], layer.rate);
    return { y: { name: o.mul(x.name, mask), shape: x.shape }, backward: (dy) => o.mul(dy, mask) };
  },
};
