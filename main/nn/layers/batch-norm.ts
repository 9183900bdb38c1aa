/**
 * BatchNormalization. Inference: not right after a convolution (those are folded, batchNormAffine),
 * a per-channel Mul + Add. Training: batch mean and biased variance (tfjs' training mode), whose
 * values are graph outputs so JS updates the moving averages exactly as tfjs-layers'
 * doMovingAverage; the forward-only validation graph ('infer') reads the moving statistics, as
 * model.predict does.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { OnnxTrainUnsupportedError } from '../../onnx/train-ops.ts';
import type { LayerKind } from '../layer-kind.ts';
import { need, OnnxExportError, weightsOf } from '../onnx-export-support.ts';
import { featureMap } from './shape-guards.ts';

/** The configuration with tfjs-layers' defaults applied (axis −1, ε 1e-3, momentum 0.99, centre and scale). */
export interface BatchNormSpec {
  /** The normalised axes as configured (one entry, −1 or the channel axis, is what the engines express). */
  readonly axis: readonly number[];
  /** The configured axis as written, for error messages. */
  readonly axisConfig: number | number[] | undefined;
  readonly epsilon: number;
  readonly momentum: number;
  readonly center: boolean;
  readonly scale: boolean;
}

export function batchNormSpec(layer: tfl.layers.Layer): BatchNormSpec {
  const c = layer.getConfig() as { axis?: number | number[]; epsilon?: number; momentum?: number; center?: boolean; scale?: boolean };
  return {
    axis: Array.isArray(c.axis) ? c.axis : [c.axis ?? -1],
    axisConfig: c.axis,
    epsilon: c.epsilon ?? 1e-3,
    momentum: c.momentum ?? 0.99,
    center: c.center !== false,
    scale: c.scale !== false,
  };
}

/** Per-channel affine y = x·scale + shift of an inference-mode BatchNormalization layer (float64). */
export function batchNormAffine(layer: tfl.layers.Layer, channels: number, spec: BatchNormSpec = batchNormSpec(layer)): { scale: Float64Array; shift: Float64Array } {
  const axis = spec.axis;
  if (axis.length !== 1 || !(axis[0] === -1 || axis[0] === 3)) {
    throw new OnnxExportError(`ONNX export: BatchNormalization "${layer.name}" normalises axis ${JSON.stringify(spec.axisConfig)}; only the channel axis (−1) is supported`);
  }
  const w = weightsOf(layer);
  const eps = spec.epsilon;
  const mean = need(w, 'moving_mean', layer).data;
  const variance = need(w, 'moving_variance', layer).data;
  const gamma = spec.scale ? need(w, 'gamma', layer).data : null;
  const beta = spec.center ? need(w, 'beta', layer).data : null;
  if (mean.length !== channels) throw new OnnxExportError(`ONNX export: BatchNormalization "${layer.name}" has ${mean.length} channels, its input ${channels}`);
  const scale = new Float64Array(channels);
  const shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + eps);
    shift[c] = (beta ? beta[c] : 0) - mean[c] * scale[c];
  }
  return { scale, shift };
}

export const batchNormKind: LayerKind<BatchNormSpec> = {
  classNames: ['BatchNormalization'],
  pointwise: true,
  tfjs: { BatchNormalization: tfl.layers.batchNormalization },
  spec: batchNormSpec,
  inferOnnx({ g, layers, index }, x, shape, spec) {
    const layer = layers[index];
    const s = featureMap(layer, shape);
    const { scale, shift } = batchNormAffine(layer, s.c, spec);
    const m = g.op('Mul', [x, g.floats(`${layer.name}_scale`, [s.c, 1, 1], Float32Array.from(scale))]);
    return { x: g.op('Add', [m, g.floats(`${layer.name}_shift`, [s.c, 1, 1], Float32Array.from(shift))], {}, layer.name), shape };
  },
  trainOnnx(ctx, x, spec) {
    const { o, layer } = ctx;
    const axis = spec.axis;
    if (axis.length !== 1 || !(axis[0] === -1 || axis[0] === x.shape.length - 1) || !spec.center || !spec.scale) {
      throw new OnnxTrainUnsupportedError(`ONNX training: BatchNormalization "${layer.name}" must normalise the channel axis with centre and scale`);
    }
    const shape = x.shape;
    const ch = shape[shape.length - 1];
    const rows = shape.reduce((a, v) => a * v, 1) / ch;
    const eps = spec.epsilon;
    const gp = ctx.param('gamma');
    const bp = ctx.param('beta');
    const xr = o.reshape(x.name, [rows, ch]);
    if (ctx.mode === 'infer') {
      // tfjs' batchNormalization in inference mode: (x − moving mean)·rsqrt(moving variance + ε)·γ + β.
      const mp = ctx.param('moving_mean');
      const vp = ctx.param('moving_variance');
      const inv = o.op('Reciprocal', [o.op('Sqrt', [o.add(vp.input, o.f32(eps))])]);
      const y = o.add(o.mul(o.mul(o.sub(xr, mp.input), inv), gp.input), bp.input);
      return { y: { name: o.reshape(y, shape), shape }, backward: null };
    }
    const meanParam = ctx.weightIndex('moving_mean');
    const varianceParam = ctx.weightIndex('moving_variance');
    const mean = o.mean(xr, [0], true);
    const d = o.sub(xr, mean);
    const variance = o.mean(o.mul(d, d), [0], true);
    const inv = o.op('Reciprocal', [o.op('Sqrt', [o.add(variance, o.f32(eps))])]);
    const xhat = o.mul(d, inv);
    const y = o.add(o.mul(xhat, gp.input), bp.input);
    ctx.batchStats(meanParam, varianceParam, spec.momentum, mean, variance);
    return {
      y: { name: o.reshape(y, shape), shape },
      backward: (dy4) => {
        const dy = o.reshape(dy4, [rows, ch]);
        ctx.grad(gp.index, o.sum(o.mul(dy, xhat), [0], false));
        ctx.grad(bp.index, o.sum(dy, [0], false));
        const dxhat = o.mul(dy, gp.input);
        const m1 = o.mean(dxhat, [0], true);
        const m2 = o.mean(o.mul(dxhat, xhat), [0], true);
        return o.reshape(o.mul(o.sub(o.sub(dxhat, m1), o.mul(xhat, m2)), inv), shape);
      },
    };
  },
};
