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
import type { NamedClassifier } from '../predict-map.ts';
import { ONNX_INPUT, ONNX_OUTPUT } from './onnx-proto.ts';
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
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
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
   * 4,096). @default 256
   */
  readonly runBatch?: number;
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
  const session = await ort.InferenceSession.create(modelBytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: options.intraOpThreads ?? 1,
    interOpNumThreads: 1,
  });
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

/** One ONNX Runtime session per model of the payload (exportRunToOnnx), as predictMap classifiers. */
export async function onnxRunClassifiers(ort: OrtModule, payload: OnnxRunPayload, intraOpThreads = 1): Promise<OnnxClassifier[]> {
  const out: OnnxClassifier[] = [];
  for (const m of payload.models) out.push(await onnxClassifier(ort, m.name, m.bytes, payload.window, payload.bandNames.length, { intraOpThreads }));
  return out;
}
