/** DeformConv2D (DCNv1/v2, models/deform-conv-layer.ts) as GridSample + Conv (deformGraph), BN folded in. */
import { DeformConv2D } from '../../models/deform-conv-layer.ts';
import type { LayerKind } from '../layer-kind.ts';
import { batchNormAffine, deformGraph, OnnxExportError, usedExtent } from '../onnx-export-support.ts';
import { featureMap, foldedBatchNorm } from './shape-guards.ts';

export const deformConvKind: LayerKind = {
  classNames: [DeformConv2D.className],
  inferOnnx({ g, layers, index: i }, x, shape) {
    const layer = layers[i];
    if (!(layer instanceof DeformConv2D)) throw new OnnxExportError(`ONNX export: layer "${layer.name}" is named ${DeformConv2D.className} but is not a DeformConv2D instance`);
    const s = featureMap(layer, shape);
    const affine = foldedBatchNorm(layers, i, layer.filters, batchNormAffine);
    const out = deformGraph(g, x, s, layer, affine, (h, w) => usedExtent(layers, i, h, w));
    return { x: out.x, shape: { kind: 'map', c: layer.filters, h: out.h, w: out.w }, absorbed: affine ? 1 : 0 };
  },
};
