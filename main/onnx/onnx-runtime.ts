/**
 * Loading onnxruntime-node and starting its CPU sessions: the runtime under every ONNX engine
 * (prediction, training, RX). The classifiers of predictMap are in maps/onnx/onnx-classifier.ts.
 *
 * onnxruntime-node ships its CPU binaries inside the npm package, but its install script also
 * downloads GPU binaries unless ONNXRUNTIME_NODE_INSTALL=skip is set; offline, that script fails
 * (and so does the install, now that it is a regular dependency), or a library user may leave it out. Prediction then falls back to tfjs (engine 'auto') or
 * stops with OnnxRuntimeUnavailableError (engine 'onnx'). The package's types are not imported
 * (typecheck must pass without it): the few members used are declared here.
 *
 * This module imports nothing of tfjs, so a prediction worker thread of the onnx engine starts
 * without loading tfjs at all.
 */
import { createRequire } from 'node:module';
import { WorkbenchError } from '../errors.ts';

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
      `the ONNX engine needs the package ${ORT_PACKAGE} (a dependency of the workbench), which could not be loaded (${cause}). ` +
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
export function createSession(ort: OrtModule, bytes: Uint8Array, options: OnnxSessionOptions): Promise<OrtSession> {
  return ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: options.intraOpThreads ?? 1,
    interOpNumThreads: 1,
  });
}

