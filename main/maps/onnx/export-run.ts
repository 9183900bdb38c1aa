/**
 * Exporting a run's models to ONNX for the prediction engine (engine resolution: main/onnx/onnx-run.ts).
 */
import { join } from 'node:path';
import { initBackend, type BackendPreference } from '../../models/backend.ts';
import { modelDir } from '../../models/run-store.ts';
import type { TransformStats } from '../../sites/band-transform.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { loadRun } from '../run-models.ts';
import { exportTileModels, exportToOnnx } from './export-model.ts';
import type { OnnxTileModel } from './onnx-classifier.ts';

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
