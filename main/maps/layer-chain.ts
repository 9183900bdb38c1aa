import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidOptionError, WorkbenchError } from '../errors.ts';
import { linearChain } from '../nn/linear-chain.ts';
import { layerKindOf } from '../nn/registry.ts';

/** The model is not a plain chain of layers, so it cannot be split at a layer for Grad-CAM. */
export class UnsupportedArchitectureError extends WorkbenchError {}

/**
 * Interpretability needs the network split at a layer L: activations A = f(x) up to L and the
 * class score y = g(A) after it. tfjs-layers has no hooks, so the four models (built as one
 * linear chain, see architectures.ts) are split by applying their layers in order, in inference
 * mode (BN moving statistics, no dropout). What a layer is (spatial, the class layer's logits)
 * comes from its registered kind (nn/registry.ts), not its class name.
 */
export interface ChainSplit {
  readonly index: number;
  readonly layer: tfl.layers.Layer;
  /** x → A (tensor after layer L). */
  readonly upTo: (x: tf.Tensor) => tf.Tensor;
  /** x → input of layer L. */
  readonly inputOf: (x: tf.Tensor) => tf.Tensor;
  /** A → class logits (pre-softmax), shape [n, classes]. */
  readonly logitsFrom: (a: tf.Tensor) => tf.Tensor2D;
}

/** The chain without its InputLayer (nn/linear-chain.ts: the check every walker shares). */
export function chainLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  const ls = linearChain(model, (l) => new UnsupportedArchitectureError(`model "${model.name}" is not a linear chain of layers at "${l.name}"; Grad-CAM/offset maps need the workbench's chain architectures`));
  return ls.filter((l) => l.getClassName() !== 'InputLayer');
}

function applyLayer(l: tfl.layers.Layer, t: tf.Tensor, logits: boolean): tf.Tensor {
  // The last layer's class scores before its activation (the Dense kind's softmax), when asked for.
  const kind = logits ? layerKindOf(l.getClassName()) : undefined;
  if (kind?.logits) return kind.logits(l, t);
  return l.apply(t, { training: false }) as tf.Tensor;
}

export function splitAt(model: tfl.LayersModel, layerName: string): ChainSplit {
  const ls = chainLayers(model);
  const index = ls.findIndex((l) => l.name === layerName);
  if (index < 0) {
    throw new InvalidOptionError(`model "${model.name}" has no layer "${layerName}" (layers: ${ls.map((l) => l.name).join(', ')})`);
  }
  return {
    index,
    layer: ls[index],
    upTo: (x) => ls.slice(0, index + 1).reduce((t, l) => applyLayer(l, t, false), x),
    inputOf: (x) => ls.slice(0, index).reduce((t, l) => applyLayer(l, t, false), x),
    logitsFrom: (a) => ls.slice(index + 1).reduce((t, l, j, arr) => applyLayer(l, t, j === arr.length - 1), a) as tf.Tensor2D,
  };
}

/** Names of the layers Grad-CAM can be computed for: those of the spatial kinds (convolutions, deformable convolutions). */
export function spatialLayerNames(model: tfl.LayersModel): string[] {
  return chainLayers(model)
    .filter((l) => layerKindOf(l.getClassName())?.spatial === true)
    .map((l) => l.name);
}
