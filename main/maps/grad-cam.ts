import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { LayerKind } from '../nn/layer-kind.ts';
import { layerKindOf } from '../nn/registry.ts';
import { chainLayers, splitAt, spatialLayerNames, UnsupportedArchitectureError } from './layer-chain.ts';

/**
 * Grad-CAM (Selvaraju et al. 2017; the paper's eqs. 13–14): for class c and a convolutional or
 * deformable layer with activations A (h × w × K), α_k = mean_ij ∂y^c/∂A_ij^k with y^c the class
 * score before softmax, and L = ReLU(Σ_k α_k A^k), bilinearly upsampled to the patch size.
 * Also CAM (Zhou et al. 2016; eqs. 10–12) for models whose global average pooling feeds the
 * class layer directly.
 */
export interface CamResult {
  /** [n, patch, patch] heat maps, row-major per window, upsampled to the patch size. */
  readonly maps: Float32Array;
  /** Same maps at the layer's own resolution, [n, h, w]. */
  readonly raw: Float32Array;
  readonly n: number;
  readonly size: number;
  readonly layerShape: [number, number];
}

function upsample(raw: tf.Tensor3D, size: number): tf.Tensor3D {
  // Half-pixel centres: the layer's cell centres map onto the patch's cell centres.
  const up = tf.image.resizeBilinear(tf.expandDims(raw, -1) as tf.Tensor4D, [size, size], false, true);
  return tf.squeeze(up, [3]) as tf.Tensor3D;
}

export function gradCam(model: tfl.LayersModel, windows: tf.Tensor4D, layerName: string, classIndex = 1): CamResult {
  const split = splitAt(model, layerName);
  const size = windows.shape[1];
  const [raw, maps] = tf.tidy(() => {
    const a = split.upTo(windows) as tf.Tensor4D;
    const score = (act: tf.Tensor): tf.Tensor => tf.sum(tf.slice(split.logitsFrom(act), [0, classIndex], [-1, 1]));
    const g = tf.grad(score)(a) as tf.Tensor4D;
    const alpha = tf.mean(g, [1, 2], true); // [n,1,1,K]
    const cam = tf.relu(tf.sum(tf.mul(alpha, a), 3)) as tf.Tensor3D;
    return [cam, upsample(cam, size)];
  });
  const result: CamResult = {
    maps: maps.dataSync() as Float32Array,
    raw: raw.dataSync() as Float32Array,
    n: windows.shape[0],
    size,
    layerShape: [raw.shape[1], raw.shape[2]],
  };
  raw.dispose();
  maps.dispose();
  return result;
}

/** CAM for a model whose last spatial layer → GlobalAveragePooling2D → class Dense. */
export function cam(model: tfl.LayersModel, windows: tf.Tensor4D, classIndex = 1): CamResult {
  const names = spatialLayerNames(model);
  const last = names[names.length - 1];
  const split = splitAt(model, last);
  const layers = chainLayers(model);
  const rest = layers.slice(split.index + 1);
  const kindAt = (j: number): LayerKind | undefined => layerKindOf(rest[j].getClassName());
  // Per-cell layers (BN, ReLU, activations) may follow the spatial layer; after the pooling only the class layer may come.
  const gap = rest.findIndex((_, j) => kindAt(j)?.globalPool === true);
  if (gap < 0 || rest.length !== gap + 2 || kindAt(gap + 1)?.logits === undefined || rest.slice(0, gap).some((_, j) => kindAt(j)?.pointwise !== true)) {
    throw new UnsupportedArchitectureError(`CAM needs global average pooling feeding the class layer directly; "${model.name}" has ${rest.map((l) => l.getClassName()).join(' → ')} after "${last}". Use Grad-CAM.`);
  }
  const size = windows.shape[1];
  const dense = layers[layers.length - 1];
  const [raw, maps] = tf.tidy(() => {
    // Features are the activations entering the GAP (after BN/ReLU following the last conv).
    const gapIndex = split.index + 1 + gap;
    const feats = layers.slice(0, gapIndex).reduce((t, l) => l.apply(t, { training: false }) as tf.Tensor, windows as tf.Tensor) as tf.Tensor4D;
    const w = tf.slice(dense.getWeights()[0] as tf.Tensor2D, [0, classIndex], [-1, 1]); // [K,1]
    const m = tf.squeeze(tf.matMul(tf.reshape(feats, [-1, feats.shape[3]]), w), [1]);
    const camMap = tf.reshape(m, [feats.shape[0], feats.shape[1], feats.shape[2]]) as tf.Tensor3D;
    return [camMap, upsample(camMap, size)];
  });
  const result: CamResult = { maps: maps.dataSync() as Float32Array, raw: raw.dataSync() as Float32Array, n: windows.shape[0], size, layerShape: [raw.shape[1], raw.shape[2]] };
  raw.dispose();
  maps.dispose();
  return result;
}
