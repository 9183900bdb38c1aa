/**
 * Loading onnxruntime-node (an OPTIONAL dependency) and running exported models as the
 * WindowClassifier of predictMap.
 *
 * onnxruntime-node ships its CPU binaries inside the npm package, but its install script also
 * downloads GPU binaries unless ONNXRUNTIME_NODE_INSTALL=skip is set; offline, that script fails
 * and npm drops the optional package. Prediction then falls back to tfjs (engine 'auto') or
 * stops with OnnxRuntimeUnavailableError (engine 'onnx'). The package's types are not imported
 * (typecheck must pass without it): the few members used are declared here.
 *
 * This module imports nothing of tfjs, so a prediction worker thread of the onnx engine starts
 * without loading tfjs at all.
 */
import { createRequire } from 'node:module';
import { WorkbenchError } from '../../errors.ts';
import { throwIfCancelled, type JobContext } from '../../jobs/job.ts';
import type { NamedClassifier, PaddedTile } from '../predict-map.ts';
import { ONNX_INPUT, ONNX_OUTPUT } from './onnx-proto.ts';
import { STEM_MAPS, TILE_INPUT, WINDOW_INDEX, windowIndexPlan, type StemSharing } from './shared-stem.ts';
import type { OnnxRunPayload } from './onnx-run.ts';

/** onnxruntime-node could not be loaded (not installed, or its native binary failed to load). */
export class OnnxRuntimeUnavailableError extends WorkbenchError {}

/** The parts of onnxruntime-node's API the workbench uses. */
export interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
  dispose?(): void;
}
export interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
export interface OrtModule {
  readonly InferenceSession: {
    create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession>;
  };
  readonly Tensor: {
    new (type: 'float32', data: Float32Array, dims: readonly number[]): OrtTensor;
    new (type: 'int32', data: Int32Array, dims: readonly number[]): OrtTensor;
  };
  readonly env: { readonly versions?: Record<string, string> };
}

/** How onnxruntime-node is obtained; injectable so tests can simulate its absence. */
export type OrtLoader = () => Promise<OrtModule>;

export const ORT_PACKAGE = 'onnxruntime-node';

/** The default loader: import onnxruntime-node (the specifier is a variable so bundlers and tsc leave it alone). */
export const defaultOrtLoader: OrtLoader = async () => {
  const name = ORT_PACKAGE;
  const mod = (await import(/* @vite-ignore */ name)) as OrtModule & { default?: OrtModule };
  return mod.InferenceSession ? mod : (mod.default as OrtModule);
};

/** Loads onnxruntime-node or throws OnnxRuntimeUnavailableError saying how to install it. */
export async function loadOrt(loader: OrtLoader = defaultOrtLoader): Promise<OrtModule> {
  try {
    const ort = await loader();
    if (!ort?.InferenceSession || !ort.Tensor) throw new Error('the module has no InferenceSession/Tensor');
    return ort;
  } catch (e) {
    const cause = String((e as Error)?.message ?? e).split('\n')[0];
    throw new OnnxRuntimeUnavailableError(
      `the ONNX engine needs the optional package ${ORT_PACKAGE}, which could not be loaded (${cause}). ` +
        `Install it with: ONNXRUNTIME_NODE_INSTALL=skip npm install (the variable skips the GPU download, so it installs offline), ` +
        `or predict with --engine tfjs.`,
      { package: ORT_PACKAGE, cause },
    );
  }
}

/** Version of the installed onnxruntime-node (for logs and output metadata). */
export function ortVersion(ort: OrtModule): string {
  const v = ort.env.versions?.node ?? ort.env.versions?.common;
  if (v) return v;
  try {
    return (createRequire(import.meta.url)(`${ORT_PACKAGE}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export interface OnnxSessionOptions {
  /** ONNX Runtime intra-op threads of this session. @default 1 */
  readonly intraOpThreads?: number;
  /**
   * Windows per ONNX Runtime call: a classifier call (predictMap's batch) is run in slices of
   * this size. Smaller slices keep the deformable layers' sampled tensors in cache (measured:
   * DCN ≈ 2,200 windows per CPU-second at 64–512 vs 1,800 at 1,024; the CNN is flat from 128 to
   * 4,096). @default 256 (shared-stem classifier with intraOpThreads > 1: 1024)
   */
  readonly runBatch?: number;
  /**
   * Shared-stem path: padded cells per stem-graph run; wider tiles are split into column blocks
   * (each recomputes k − 1 halo columns). Bounds the memory of the shared maps. @default 8192
   */
  readonly maxTileCells?: number;
}

/** CPU provider, all graph optimisations, sequential execution, `intraOpThreads` threads. */
function createSession(ort: OrtModule, bytes: Uint8Array, options: OnnxSessionOptions): Promise<OrtSession> {
  return ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: options.intraOpThreads ?? 1,
    interOpNumThreads: 1,
  });
}

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
