/**
 * Layers that are the identity at inference: the input layer and every dropout. In training only
 * SeededDropout (seeded-dropout.ts, reproducible) on a flat [batch, units] activation: a mask input
 * that JS draws as SeededDropout.call does (onnx-trainer.ts); tfjs' unseeded Dropout and
 * SpatialDropout2D are refused.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { OnnxTrainUnsupportedError } from '../../onnx/train-ops.ts';
import type { LayerKind } from '../layer-kind.ts';
import { SeededDropout } from './seeded-dropout.ts';

/** The class name, and the rate of a SeededDropout instance (null for every other layer: nothing trainable in ONNX reads it). */
export interface IdentitySpec {
  readonly className: string;
  readonly seededRate: number | null;
}

export const identityKind: LayerKind<IdentitySpec> = {
  classNames: ['InputLayer', SeededDropout.className, 'Dropout', 'SpatialDropout2D'],
  identity: true,
  tfjs: {
    InputLayer: tfl.layers.inputLayer,
    [SeededDropout.className]: (args: ConstructorParameters<typeof SeededDropout>[0]) => new SeededDropout(args),
    Dropout: tfl.layers.dropout,
    // SpatialDropout2D: Keras' class, which tfjs-layers does not have (a converted model registers its own), so no entry.
  },
  spec: (layer) => ({ className: layer.getClassName(), seededRate: layer instanceof SeededDropout ? layer.rate : null }),
  inferOnnx: (_ctx, x, shape) => ({ x, shape }),
  trainOnnx(ctx, x, spec) {
    const { o, layer } = ctx;
    const cls = spec.className;
    if (cls === 'InputLayer') return { y: x, backward: null };
    if (cls === 'Dropout') throw new OnnxTrainUnsupportedError(`ONNX training: unseeded Dropout "${layer.name}" is not reproducible; use SeededDropout`);
    if (spec.seededRate === null) throw new OnnxTrainUnsupportedError(`ONNX training: layer "${layer.name}" (${cls}) is not supported`);
    if (spec.seededRate === 0 || ctx.mode === 'infer') return { y: x, backward: null };
    if (x.shape.length !== 2) throw new OnnxTrainUnsupportedError(`ONNX training: dropout "${layer.name}" must act on a flat [batch, units] activation`);
    const mask = ctx.dropout(x.shape[1], spec.seededRate);
    return { y: { name: o.mul(x.name, mask), shape: x.shape }, backward: (dy) => o.mul(dy, mask) };
  },
};
