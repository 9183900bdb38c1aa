import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Rng } from '../../main/util/rng.ts';

/**
 * Replaces every weight of a model with seeded random values that exercise what a freshly built
 * model leaves trivial: BatchNorm with non-zero moving mean, variance ≠ 1, γ ≠ 1, β ≠ 0 (so the
 * folding is tested), non-zero offset/mask kernels scaled by `offsetScale` (large offsets, so the
 * deformable layers sample beyond the feature-map border) and kernels scaled so that the softmax
 * is not saturated.
 */
export function randomizeWeights(model: tfl.LayersModel, seed: number, offsetScale = 0.6): void {
  const rng = new Rng(seed);
  for (const layer of model.layers) {
    const values = layer.getWeights();
    if (values.length === 0) continue;
    const fanIn = (shape: number[]): number => shape.slice(0, -1).reduce((a, b) => a * b, 1);
    layer.setWeights(
      values.map((v, i) => {
        const name = layer.weights[i].originalName.split('/').pop() as string;
        const n = v.size;
        const draw = (f: () => number): tf.Tensor => tf.tensor(Float32Array.from({ length: n }, f), v.shape);
        if (name === 'moving_variance') return draw(() => 0.3 + 1.5 * rng.uniform());
        if (name === 'moving_mean') return draw(() => rng.normal(0, 0.5));
        if (name === 'gamma') return draw(() => 0.5 + rng.uniform());
        if (name === 'beta' || name === 'bias' || name === 'offset_bias') return draw(() => rng.normal(0, 0.2));
        if (name === 'offset_kernel') return draw(() => rng.normal(0, offsetScale / Math.sqrt(fanIn(v.shape))));
        return draw(() => rng.normal(0, 1.2 / Math.sqrt(fanIn(v.shape))));
      }),
    );
  }
}
