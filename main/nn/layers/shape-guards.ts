import type * as tfl from '@tensorflow/tfjs-layers';
import { OnnxExportError, type Shape } from '../onnx-export-support.ts';

/** The feature map a spatial layer needs, or OnnxExportError when it follows a flattening layer. */
export function featureMap(layer: tfl.layers.Layer, shape: Shape): { c: number; h: number; w: number } {
  if (shape.kind !== 'map') throw new OnnxExportError(`ONNX export: layer "${layer.name}" (${layer.getClassName()}) needs a feature map but follows a flattening layer`);
  return shape;
}

/** The affine of a BatchNormalization right after layer `index`, which is folded into it (see the exporter's module comment). */
export function foldedBatchNorm(layers: readonly tfl.layers.Layer[], index: number, channels: number, affineOf: (l: tfl.layers.Layer, c: number) => { scale: Float64Array; shift: Float64Array }): { scale: Float64Array; shift: Float64Array } | null {
  return layers[index + 1]?.getClassName() === 'BatchNormalization' ? affineOf(layers[index + 1], channels) : null;
}
