/**
 * The one chain walker of the ONNX inference export: the per-window graph and the head of the
 * shared-stem graphs (maps/onnx/export-model.ts) both emit their layers through it, each layer by
 * its registered kind (registry.ts), with the configuration its `spec` reads once.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import { OnnxExportError, type Shape } from './onnx-export-support.ts';
import { specOf } from './layer-kind.ts';
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
    const out = kind.inferOnnx({ g, layers, index: i, padC }, x, shape, spec);
    x = out.x;
    shape = out.shape;
    i += out.absorbed ?? 0;
  }
  return { x, shape };
}
