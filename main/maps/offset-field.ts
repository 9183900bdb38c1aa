import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { DeformConv2D } from '../nn/layers/deform-conv-layer.ts';
import { InvalidOptionError } from '../errors.ts';
import { splitAt } from './layer-chain.ts';

/**
 * Learned sampling of a deformable layer, read with torchvision's channel layout: for offset
 * group g and tap k = i·K + j, channel 2(g·K² + k) is Δy (rows) and 2(g·K² + k) + 1 is Δx
 * (columns). (The reference code's reshape mixes Δx and Δy; this reads them per tap.)
 * Sampling point of tap (i, j) at output cell (y, x): (y·s − p + i·d + Δy, x·s − p + j·d + Δx)
 * in input-cell units.
 */
export interface OffsetField {
  readonly n: number;
  /** Output grid of the layer. */
  readonly height: number;
  readonly width: number;
  readonly kernel: [number, number];
  readonly groups: number;
  /** [n, h, w, G·K², 2] as (Δy, Δx) per tap, row-major. */
  readonly offsets: Float32Array;
  /** [n, h, w, G·K²] modulation in (0, 1). */
  readonly mask: Float32Array;
  /** [n, h, w] mean offset vector over taps and groups: Δy, Δx and magnitude (cells). */
  readonly meanDy: Float32Array;
  readonly meanDx: Float32Array;
  readonly meanMagnitude: Float32Array;
}

export function offsetField(model: tfl.LayersModel, windows: tf.Tensor4D, layerName: string): OffsetField {
  const split = splitAt(model, layerName);
  if (!(split.layer instanceof DeformConv2D)) {
    throw new InvalidOptionError(`layer "${layerName}" of "${model.name}" is a ${split.layer.getClassName()}, not a deformable convolution; offsets exist only for DeformConv2D layers`);
  }
  const layer = split.layer;
  const input = tf.tidy(() => split.inputOf(windows)) as tf.Tensor4D;
  const { offset, mask } = layer.computeOffsetsAndMask(input);
  input.dispose();
  const [n, h, w, c] = offset.shape;
  const taps = c / 2;
  const off = offset.dataSync() as Float32Array;
  const msk = mask.dataSync() as Float32Array;
  offset.dispose();
  mask.dispose();
  const meanDy = new Float32Array(n * h * w);
  const meanDx = new Float32Array(n * h * w);
  const meanMagnitude = new Float32Array(n * h * w);
  for (let cell = 0; cell < n * h * w; cell++) {
    let sy = 0;
    let sx = 0;
    let sm = 0;
    for (let t = 0; t < taps; t++) {
      const dy = off[cell * c + 2 * t];
      const dx = off[cell * c + 2 * t + 1];
      sy += dy;
      sx += dx;
      sm += Math.hypot(dy, dx);
    }
    meanDy[cell] = sy / taps;
    meanDx[cell] = sx / taps;
    meanMagnitude[cell] = sm / taps;
  }
  return {
    n,
    height: h,
    width: w,
    kernel: layer.kernelSize,
    groups: layer.offsetGroups,
    offsets: off,
    mask: msk,
    meanDy,
    meanDx,
    meanMagnitude,
  };
}

/** Sampling points (row, col in input cells) of every tap at output cell (y, x) of window i, group g. */
export function samplingPoints(f: OffsetField, i: number, y: number, x: number, g = 0, stride = 1, pad = 1, dilation = 1): { row: number; col: number; dy: number; dx: number; mask: number }[] {
  const [kh, kw] = f.kernel;
  const kk = kh * kw;
  const taps = f.groups * kk;
  const cell = (i * f.height + y) * f.width + x;
  const out: { row: number; col: number; dy: number; dx: number; mask: number }[] = [];
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const t = g * kk + a * kw + b;
      const dy = f.offsets[cell * taps * 2 + 2 * t];
      const dx = f.offsets[cell * taps * 2 + 2 * t + 1];
      out.push({ row: y * stride - pad + a * dilation + dy, col: x * stride - pad + b * dilation + dx, dy, dx, mask: f.mask[cell * taps + t] });
    }
  }
  return out;
}
