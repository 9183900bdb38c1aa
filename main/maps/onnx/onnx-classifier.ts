/**
 * Exported models (maps/onnx/export-model.ts) run by onnxruntime-node as the WindowClassifier of
 * predictMap: the per-window classifier, the shared-stem tile classifier and one per model of a
 * run's payload. The runtime loader is main/onnx/onnx-runtime.ts.
 *
 * This module imports nothing of tfjs, so a prediction worker thread of the onnx engine starts
 * without loading tfjs at all.
 */
import { throwIfCancelled, type JobContext } from '../../jobs/job.ts';
import { ONNX_INPUT, ONNX_OUTPUT } from '../../onnx/onnx-proto.ts';
import { createSession, type OnnxSessionOptions, type OrtModule } from '../../onnx/onnx-runtime.ts';
import type { NamedClassifier, PaddedTile } from '../predict-map.ts';
import { STEM_MAPS, TILE_INPUT, WINDOW_INDEX, windowIndexPlan, type StemSharing } from './shared-stem.ts';
import type { OnnxRunPayload } from './export-run.ts';

/** A classifier running an exported model; call `dispose` when done. */
export interface OnnxClassifier extends NamedClassifier {
  dispose(): Promise<void>;
}

/**
 * An InferenceSession for `modelBytes` (exportToOnnx) as a WindowClassifier: windows NHWC
 * [n, k, k, C] in, deposit probability (softmax column 1) out.
 */
export async function onnxClassifier(
  ort: OrtModule,
  name: string,
  modelBytes: Uint8Array,
  window: number,
  channels: number,
  options: OnnxSessionOptions = {},
): Promise<OnnxClassifier> {
  const session = await createSession(ort, modelBytes, options);
  const per = window * window * channels;
  const runBatch = options.runBatch ?? 256;
  return {
    name,
    classify: async (windows, n) => {
      const p = new Float32Array(n);
      for (let s0 = 0; s0 < n; s0 += runBatch) {
        const m = Math.min(runBatch, n - s0);
        const input = new ort.Tensor('float32', windows.subarray(s0 * per, (s0 + m) * per), [m, window, window, channels]);
        const out = (await session.run({ [ONNX_INPUT]: input }))[ONNX_OUTPUT];
        const probs = out.data as Float32Array;
        const classes = out.dims[1];
        for (let i = 0; i < m; i++) p[s0 + i] = probs[i * classes + 1];
        out.dispose?.();
      }
      return p;
    },
    dispose: () => session.release(),
  };
}

/** The shared-stem graphs of one model (exportTileModels). */
export interface OnnxTileModel {
  readonly stem: Uint8Array;
  readonly head: Uint8Array;
  readonly sharing: StemSharing;
}

/**
 * A classifier with the shared-stem path (predictMap's classifyTile): the stem session computes
 * the tap-class maps of a whole padded tile once, the head session classifies the tile's windows
 * in slices of `runBatch`, each window reading its k×k stem activations from the maps through
 * int32 indices built here. `classify` (the per-window path, for callers that build windows)
 * starts the per-window session from `windowBytes` on first use.
 */
export async function onnxTileClassifier(
  ort: OrtModule,
  name: string,
  windowBytes: Uint8Array,
  tile: OnnxTileModel,
  options: OnnxSessionOptions = {},
): Promise<OnnxClassifier> {
  const s = tile.sharing;
  const stem = await createSession(ort, tile.stem, options);
  const head = await createSession(ort, tile.head, options);
  let perWindow: Promise<OnnxClassifier> | null = null;
  const windowClassifier = (): Promise<OnnxClassifier> => (perWindow ??= onnxClassifier(ort, name, windowBytes, s.windowRows, s.channels, options));
  // With several intra-op threads, bigger head runs split better (probe, 32-row tile, 2 threads
  // on the shared machine: 1,024 windows per run 16 % faster than 256; 1 thread: flat).
  const runBatch = options.runBatch ?? ((options.intraOpThreads ?? 1) > 1 ? 1024 : 256);
  const maxCells = options.maxTileCells ?? 8192;
  const kk = s.positionRows * s.positionCols;
  /** The shared maps of one (block of a) tile, then its windows in slices of runBatch. */
  const runBlock = async (t: PaddedTile, origins: Int32Array, n: number, ctx?: JobContext): Promise<Float32Array> => {
    const p = new Float32Array(n);
    if (n === 0) return p;
    throwIfCancelled(ctx, 'prediction');
    const plan = windowIndexPlan(s, t.rows, t.cols);
    const mapsOut = (await stem.run({ [TILE_INPUT]: new ort.Tensor('float32', t.data, [1, t.rows, t.cols, t.channels]) }))[STEM_MAPS];
    // onnxruntime-node wraps a JS typed array as an input tensor without copying it.
    const maps = new ort.Tensor('float32', mapsOut.data as Float32Array, [plan.cells, s.filters]);
    const index = new Int32Array(Math.min(runBatch, n) * kk);
    for (let s0 = 0; s0 < n; s0 += runBatch) {
      throwIfCancelled(ctx, 'prediction');
      const m = Math.min(runBatch, n - s0);
      for (let i = 0; i < m; i++) {
        const o = origins[s0 + i];
        const rr = Math.floor(o / t.cols);
        const c = o - rr * t.cols;
        const base = i * kk;
        for (let q = 0; q < kk; q++) index[base + q] = plan.offset[q] + rr * plan.rowStride[q] + c;
      }
      const idx = new ort.Tensor('int32', index.subarray(0, m * kk), [m, s.positionRows, s.positionCols]);
      const out = (await head.run({ [STEM_MAPS]: maps, [WINDOW_INDEX]: idx }))[ONNX_OUTPUT];
      const probs = out.data as Float32Array;
      const classes = out.dims[1];
      for (let i = 0; i < m; i++) p[s0 + i] = probs[i * classes + 1];
      out.dispose?.();
    }
    mapsOut.dispose?.();
    return p;
  };
  return {
    name,
    classify: async (windows, n) => (await windowClassifier()).classify(windows, n),
    classifyTile: async (t: PaddedTile, origins: Int32Array, n: number, ctx) => {
      if (t.window !== s.windowRows || t.window !== s.windowCols || t.channels !== s.channels) {
        throw new Error(`shared-stem classifier ${name}: tile of ${t.window}×${t.window} windows × ${t.channels} bands, model ${s.windowRows}×${s.windowCols} × ${s.channels}`);
      }
      const k = t.window;
      const windowCols = t.cols - k + 1;
      const widest = Math.max(1, Math.min(windowCols, Math.floor(maxCells / t.rows) - (k - 1)));
      if (widest >= windowCols) return runBlock(t, origins, n, ctx);
      // Equal blocks: each recomputes the same k − 1 halo columns, and none is a thin remainder.
      const blockCols = Math.ceil(windowCols / Math.ceil(windowCols / widest));
      // Wide tiles in column blocks (a copy of block columns c0 … c1 + k − 2): bounds the shared
      // maps (≈ 6 KB per padded cell for the CNN) whatever the row width.
      const blocks = Math.ceil(windowCols / blockCols);
      const counts = new Int32Array(blocks);
      for (let i = 0; i < n; i++) counts[Math.floor((origins[i] % t.cols) / blockCols)]++;
      const p = new Float32Array(n);
      for (let b = 0; b < blocks; b++) {
        if (counts[b] === 0) continue;
        const c0 = b * blockCols;
        const cols = Math.min(windowCols, c0 + blockCols) - c0 + k - 1;
        const data = new Float32Array(t.rows * cols * t.channels);
        for (let r = 0; r < t.rows; r++) data.set(t.data.subarray((r * t.cols + c0) * t.channels, (r * t.cols + c0 + cols) * t.channels), r * cols * t.channels);
        const sub = new Int32Array(counts[b]);
        const where = new Int32Array(counts[b]);
        for (let i = 0, j = 0; i < n; i++) {
          const c = origins[i] % t.cols;
          if (Math.floor(c / blockCols) !== b) continue;
          sub[j] = Math.floor(origins[i] / t.cols) * cols + (c - c0);
          where[j++] = i;
        }
        const pb = await runBlock({ data, rows: t.rows, cols, channels: t.channels, window: k }, sub, sub.length, ctx);
        for (let j = 0; j < sub.length; j++) p[where[j]] = pb[j];
      }
      return p;
    },
    dispose: async () => {
      await stem.release();
      await head.release();
      if (perWindow) await (await perWindow).dispose();
    },
  };
}

/**
 * One classifier per model of the payload (exportRunToOnnx): the shared-stem classifier where the
 * payload has the model's tile graphs, else one ONNX Runtime session of the per-window graph.
 */
export async function onnxRunClassifiers(ort: OrtModule, payload: OnnxRunPayload, intraOpThreads = 1, maxTileCells?: number): Promise<OnnxClassifier[]> {
  const out: OnnxClassifier[] = [];
  for (const m of payload.models) {
    out.push(
      m.tile
        ? await onnxTileClassifier(ort, m.name, m.bytes, m.tile, { intraOpThreads, ...(maxTileCells ? { maxTileCells } : {}) })
        : await onnxClassifier(ort, m.name, m.bytes, payload.window, payload.bandNames.length, { intraOpThreads }),
    );
  }
  return out;
}
