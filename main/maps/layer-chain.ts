import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidOptionError, WorkbenchError } from '../errors.ts';

/** The model is not a plain chain of layers, so it cannot be split at a layer for Grad-CAM. */
export class UnsupportedArchitectureError extends WorkbenchError {}

/**
 * Interpretability needs the network split at a layer L: activations A = f(x) up to L and the
 * class score y = g(A) after it. tfjs-layers has no hooks, so the four models (built as one
 * linear chain, see architectures.ts) are split by applying their layers in order, in inference
 * mode (BN moving statistics, no dropout).
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

function chainLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  const ls = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  for (let i = 1; i < ls.length; i++) {
    const inbound = ls[i].inboundNodes[0]?.inboundLayers ?? [];
    if (inbound.length !== 1 || inbound[0] !== ls[i - 1]) {
      throw new UnsupportedArchitectureError(`model "${model.name}" is not a linear chain of layers at "${ls[i].name}"; Grad-CAM/offset maps need the workbench's chain architectures`);
    }
  }
  return ls;
}

function applyLayer(l: tfl.layers.Layer, t: tf.Tensor, logits: boolean): tf.Tensor {
  if (logits && l.getClassName() === 'Dense') {
    // The last dense layer carries the softmax; Grad-CAM differentiates the class score before it.
    const [kernel, bias] = l.getWeights();
    const z = tf.matMul(t as tf.Tensor2D, kernel as tf.Tensor2D);
    return bias ? tf.add(z, bias) : z;
  }
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

/** Names of the convolutional and deformable layers, the ones Grad-CAM can be computed for. */
export function spatialLayerNames(model: tfl.LayersModel): string[] {
  return chainLayers(model)
    // Conv2D, DeformConv2D and the architectures' own conv subclasses (…Conv2D).
    .filter((l) => /Conv2D$/.test(l.getClassName()))
    .map((l) => l.name);
}
