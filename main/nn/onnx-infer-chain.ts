/**
 * The one chain walker of the ONNX inference export: the per-window graph and the head of the
 * shared-stem graphs (maps/onnx/export-model.ts) both emit their layers through it, each layer by
 * its registered kind (registry.ts), with the configuration its `spec` reads once.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import { OnnxExportError, type Shape } from './onnx-export-support.ts';
import { specOf, type LayerKind } from './layer-kind.ts';
import { maxPoolKind, maxPoolSpec } from './layers/pooling.ts';
import { layerKindOf } from './registry.ts';

/**
 * Emits layers[start …] of a linear chain onto `x` (shape `shape`); returns the last value and its
 * shape. `padC` = zero channels appended to the model input (only the first layer, i = 1, sees them).
 */
export function emitChain(g: GraphBuilder, layers: readonly tfl.layers.Layer[], start: number, x0: string, shape0: Shape, padC: number): { x: string; shape: Shape } {
  let x = x0;
  let shape: Shape = shape0;
  for (let i = start; i < layers.length; i++) {
    const layer = layers[i];
    const cls = layer.getClassName();
    const kind = layerKindOf(cls);
    if (!kind) {
      throw new OnnxExportError(`ONNX export: layer "${layer.name}" of class ${cls} is not supported (supported: convolutions, DeformConv2D, BatchNormalization, ReLU, MaxPooling2D, GlobalAveragePooling2D, Dense, Dropout)`);
    }
    const spec = specOf(kind, layer, (m) => new OnnxExportError(`ONNX export: ${m}`));
    const out = kind.inferOnnx({ g, layers, index: i, padC, usedExtent: (h, w) => usedExtent(layers, i, h, w) }, x, shape, spec);
    x = out.x;
    shape = out.shape;
    i += out.absorbed ?? 0;
  }
  return { x, shape };
}

/**
 * Rows and columns of layer i's h×w output that the rest of the network reads. A 'valid' max-pool
 * (after per-cell layers: BN, ReLU, activations, dropout) reads only the first
 * (⌊(h − p)/s⌋)·s + p rows: with 9×9 windows the 2×2 pool reads 8×8 of the first stage's 9×9
 * output, so its last row and column (21 % of that stage, ≈ 10 % of the CNN's multiply-adds) need
 * not be computed. Every other layer reads everything.
 */
export function usedExtent(layers: readonly tfl.layers.Layer[], i: number, h: number, w: number): { h: number; w: number } {
  const kindAt = (j: number): LayerKind | undefined => layerKindOf(layers[j].getClassName());
  let j = i + 1;
  // Per-cell layers (BN, ReLU, Activation) and the identities (dropouts) keep the extent a pooling reads.
  while (j < layers.length && (kindAt(j)?.pointwise === true || kindAt(j)?.identity === true)) j++;
  if (j >= layers.length || kindAt(j) !== maxPoolKind) return { h, w };
  const next = layers[j];
  const c = maxPoolSpec(next);
  if (c.padding !== 'valid') return { h, w };
  const [ph, pw] = c.poolSize;
  const [sh, sw] = c.strides;
  const used = (n: number, p: number, st: number): number => (n < p ? n : Math.floor((n - p) / st) * st + p);
  return { h: used(h, ph, sh), w: used(w, pw, sw) };
}
