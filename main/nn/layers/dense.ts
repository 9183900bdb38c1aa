/** Dense on flat features (Gemm) with its fused activation. */
import type { LayerKind } from '../layer-kind.ts';
import { activation, need, OnnxExportError, weightsOf, type Shape } from '../onnx-export-support.ts';

export const denseKind: LayerKind = {
  classNames: ['Dense'],
  inferOnnx({ g, layers, index }, x, shape) {
    const layer = layers[index];
    if (shape.kind !== 'flat') throw new OnnxExportError(`ONNX export: Dense "${layer.name}" on a feature map (no flattening before it) is not supported`);
    const w = weightsOf(layer);
    const kernel = need(w, 'kernel', layer);
    const [fin, units] = kernel.shape;
    if (fin !== shape.f) throw new OnnxExportError(`ONNX export: Dense "${layer.name}" expects ${fin} features, gets ${shape.f}`);
    const bias = w.has('bias') ? need(w, 'bias', layer).data : new Float32Array(units);
    const y = g.op('Gemm', [x, g.floats(`${layer.name}_w`, [fin, units], kernel.data), g.floats(`${layer.name}_b`, [units], bias)], {}, layer.name);
    const out: Shape = { kind: 'flat', f: units };
    return { x: activation(g, y, (layer.getConfig() as { activation: string }).activation, layer, out), shape: out };
  },
};
