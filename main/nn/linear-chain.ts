/**
 * The one chain check every walker of a patch classifier starts from: the ONNX exporter
 * (maps/onnx/export-model.ts), the ONNX training graph (models/onnx-train/train-graph.ts) and
 * Grad-CAM / the layer split (maps/layer-chain.ts). The workbench's models are linear chains of
 * registered layer kinds (architectures.ts); each walker then asks the registry (registry.ts) what a
 * layer is, never its class name.
 */
import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * `model.layers` when each layer takes exactly the previous one's output; otherwise throws
 * `notLinear(layer)` for the first that does not (each walker names its own error and fix).
 */
export function linearChain(model: tfl.LayersModel, notLinear: (layer: tfl.layers.Layer) => Error): readonly tfl.layers.Layer[] {
  const layers = model.layers;
  for (let i = 1; i < layers.length; i++) {
    const inbound = layers[i].inboundNodes[0]?.inboundLayers ?? [];
    if (inbound.length !== 1 || inbound[0] !== layers[i - 1]) throw notLinear(layers[i]);
  }
  return layers;
}
