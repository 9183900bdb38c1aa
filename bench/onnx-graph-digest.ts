/**
 * Not a benchmark: prints the SHA-256 (first 12 hex digits), node count and operator counts of
 * the ONNX graphs prediction runs (shared stem, head, per-window) for CNN and DCN of the default
 * architecture (39 bands, 9×9, seed 1). Run it in two checkouts to tell whether a change of
 * prediction speed can come from the graphs (bench/results/issue17-remeasure.md):
 *
 *   npx tsx bench/onnx-graph-digest.ts
 */
import { createHash } from 'node:crypto';
import { initBackend } from '../main/models/backend.ts';
import { buildModel } from '../main/models/architectures.ts';
import { buildOnnxModel, buildTileModels } from '../main/maps/onnx/export-model.ts';
import { encodeOnnxModel, type OnnxModel } from '../main/onnx/onnx-proto.ts';

await initBackend();
for (const kind of ['cnn', 'dcn'] as const) {
  const model = buildModel(kind, { channels: 39, patchSize: 9, seed: 1 });
  const tiles = buildTileModels(model, {});
  const graphs: [string, OnnxModel | undefined][] = [['stem', tiles?.stem], ['head', tiles?.head], ['per-window', buildOnnxModel(model, {})]];
  for (const [name, g] of graphs) {
    if (!g) {
      console.log(`${kind} ${name}: none`);
      continue;
    }
    const ops = new Map<string, number>();
    for (const n of g.graph.node) ops.set(n.opType, (ops.get(n.opType) ?? 0) + 1);
    const bytes = encodeOnnxModel(g);
    const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
    console.log(`${kind} ${name}: ${digest}, ${g.graph.node.length} nodes, ${bytes.length} bytes, ${JSON.stringify(Object.fromEntries(ops))}`);
  }
  model.dispose();
}
