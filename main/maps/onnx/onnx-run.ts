/**
 * The prediction engine of a run: 'tfjs' (the run's LayersModels on the tfjs backend) or 'onnx'
 * (the same models exported to ONNX and run by onnxruntime-node's CPU kernels); 'auto' picks
 * onnx when onnxruntime-node loads, else tfjs. See docs/prediction.md for why and the numbers.
 */
import { join } from 'node:path';
import { InvalidOptionError } from '../../errors.ts';
import { initBackend, type BackendPreference } from '../../models/backend.ts';
import { modelDir } from '../../models/run-store.ts';
import type { TransformStats } from '../../sites/band-transform.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { loadRun } from '../run-models.ts';
import { exportTileModels, exportToOnnx } from './export-model.ts';
import { defaultOrtLoader, loadOrt, OnnxRuntimeUnavailableError, ortVersion, type OnnxTileModel, type OrtLoader, type OrtModule } from './onnx-runtime.ts';

export type EnginePreference = 'auto' | 'tfjs' | 'onnx';
export const ENGINES: readonly EnginePreference[] = ['auto', 'tfjs', 'onnx'];

export interface EngineChoice {
  readonly name: 'tfjs' | 'onnx';
  /** One line for logs and output metadata: what runs, and why for 'auto'. */
  readonly detail: string;
  /** The loaded runtime (engine 'onnx'). */
  readonly ort: OrtModule | null;
}

export function checkEngine(engine: string | undefined): EnginePreference {
  const e = engine ?? 'auto';
  if (!(ENGINES as readonly string[]).includes(e)) throw new InvalidOptionError(`engine must be one of ${ENGINES.join(', ')}; found "${e}"`, { engine: e });
  return e as EnginePreference;
}

/**
 * Resolves 'auto' | 'tfjs' | 'onnx' to the engine that runs. 'onnx' without onnxruntime-node
 * throws OnnxRuntimeUnavailableError (how to install it is in the message); 'auto' then falls back
 * to tfjs and says so in `detail`.
 */
export async function resolveEngine(preference: EnginePreference = 'auto', loader: OrtLoader = defaultOrtLoader): Promise<EngineChoice> {
  const pref = checkEngine(preference);
  if (pref === 'tfjs') return { name: 'tfjs', detail: 'tfjs (requested)', ort: null };
  if (pref === 'onnx') {
    const ort = await loadOrt(loader);
    return { name: 'onnx', detail: `onnx (onnxruntime-node ${ortVersion(ort)}, CPU; requested)`, ort };
  }
  try {
    const ort = await loadOrt(loader);
    return { name: 'onnx', detail: `onnx (onnxruntime-node ${ortVersion(ort)}, CPU; auto)`, ort };
  } catch (e) {
    if (!(e instanceof OnnxRuntimeUnavailableError)) throw e;
    return { name: 'tfjs', detail: `tfjs (auto: onnxruntime-node could not be loaded: ${String(e.details.cause)})`, ort: null };
  }
}

/** What an ONNX predictor needs, as plain structured-clone data (sent to worker threads once). */
export interface OnnxRunPayload {
  readonly window: number;
  readonly bandNames: string[];
  readonly stats: TransformStats;
  /** Per model: the per-window graph, and the shared-stem graphs where the model qualifies (see buildTileModels). */
  readonly models: { readonly name: string; readonly bytes: Uint8Array; readonly tile?: OnnxTileModel }[];
}

export interface ExportRunOptions {
  /** tfjs backend used to load the LayersModels for the export. @default 'auto' */
  readonly backend?: BackendPreference;
  /** Also write RUN_DIR/models/<model>/model.onnx (atomically). @default false */
  readonly save?: boolean;
  /**
   * Also export the shared-stem graphs (stem over a whole tile + per-window head; exact, see
   * buildTileModels), which predictMap then uses instead of building windows. @default true
   */
  readonly shareStem?: boolean;
}

/** Loads the run's models (tfjs) and exports each to ONNX; the tfjs models are disposed again. */
export async function exportRunToOnnx(runDir: string, models: readonly string[], options: ExportRunOptions = {}): Promise<OnnxRunPayload> {
  await initBackend(options.backend ?? 'auto');
  const run = await loadRun(runDir, models);
  try {
    const out: { name: string; bytes: Uint8Array; tile?: OnnxTileModel }[] = [];
    for (const [name, model] of run.models) {
      const exportOptions = { name, metadata: { run: runDir, model: name, window: String(run.window), bands: run.bandNames.join(',') } };
      const bytes = exportToOnnx(model, exportOptions);
      if (options.save) writeFileAtomic(join(modelDir(runDir, name), 'model.onnx'), bytes);
      const tile = (options.shareStem ?? true) ? exportTileModels(model, exportOptions) : null;
      out.push(tile ? { name, bytes, tile } : { name, bytes });
    }
    return { window: run.window, bandNames: run.bandNames, stats: run.stats, models: out };
  } finally {
    for (const m of run.models.values()) m.dispose();
  }
}
