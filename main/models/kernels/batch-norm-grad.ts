/**
 * Gradient of FusedBatchNorm without `tile`. tfjs-core's own gradient tiles 1/√(var + ε) to the
 * full activation shape before multiplying; the wasm Tile kernel is a naive loop (~95 ms for one
 * [64, 9, 9, 64] activation here, 200× a broadcasting multiply), so BatchNorm's backward cost
 * more than the convolutions. Broadcasting gives the identical result. Same maths as
 * tfjs-core/src/gradients/FusedBatchNorm_grad.ts otherwise; backend-agnostic.
 */
import { add, broadcast_util, mul, registerGradient, reshape, rsqrt, scalar, sub, sum } from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';

export const batchNormGradConfig: GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const g = dy as Tensor;
    const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
    const [x, mean, variance, scale] = saved;
    const scaleValue = scale == null ? scalar(1) : scale;
    // mean/variance are per channel ([C], broadcast along the last axis) or already x-shaped.
    const reductionAxes = broadcast_util.getReductionAxes(mean.shape, x.shape);
    const reduce = (t: Tensor): Tensor => reshape(reductionAxes.length > 0 ? sum(t, reductionAxes) : t, mean.shape);
    const xMinusMean = sub(x, mean);
    const dyTimesScale = mul(g, scaleValue);
    const oneOverSqrtVariance = rsqrt(add(variance, scalar(varianceEpsilon)));
    const minusHalfRCube = mul(mul(mul(oneOverSqrtVariance, oneOverSqrtVariance), oneOverSqrtVariance), scalar(-0.5));
    return {
      x: () => reshape(mul(dyTimesScale, oneOverSqrtVariance), x.shape),
      mean: () => reduce(mul(mul(oneOverSqrtVariance, scalar(-1)), dyTimesScale)),
      variance: () => reduce(mul(mul(minusHalfRCube, xMinusMean), dyTimesScale)),
      scale: () => reduce(mul(g, mul(xMinusMean, oneOverSqrtVariance))),
      offset: () => reduce(g),
    };
  },
};

let registered = false;

/** Replaces tfjs-core's FusedBatchNorm gradient with the broadcasting one (idempotent). */
export function registerBatchNormGrad(): void {
  if (registered) return;
  registerGradient(batchNormGradConfig);
  registered = true;
}
