/**
 * Exporting a run's models to ONNX for the prediction engine (engine resolution: main/onnx/onnx-run.ts).
 *
 * `geoanomaly train` writes the exported graphs into each model's folder (writeRunOnnx):
 * models/<name>/model.onnx (the per-window graph), model-stem.onnx + model-head.onnx (the
 * shared-stem graphs, where the model qualifies) and onnx.json, which records the SHA-256 of the
 * tfjs files they were exported from and of each graph. Prediction (exportRunToOnnx) uses those
 * bytes when every hash still matches, so it neither loads tfjs models nor re-exports them; a
 * run without them (trained before issue 17) or whose files changed is exported again, exactly
 * as before. Both paths run the same export function, so the maps are bit-identical (tested).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend, type BackendPreference } from '../../models/backend.ts';
import { loadModel, modelDir, readManifest } from '../../models/run-store.ts';
import type { TransformStats } from '../../sites/band-transform.ts';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic-write.ts';
import { loadRun, runNetworkNames, runTransform } from '../run-models.ts';
import { exportTileModels, exportToOnnx, OnnxExportError } from './export-model.ts';
import type { OnnxTileModel } from './onnx-classifier.ts';
import type { StemSharing } from './shared-stem.ts';

/** What an ONNX predictor needs, as plain structured-clone data (sent to worker threads once). */
export interface OnnxRunPayload {
  readonly window: number;
  readonly bandNames: string[];
  readonly stats: TransformStats;
  /** Per model: the per-window graph, and the shared-stem graphs where the model qualifies (see buildTileModels). */
  readonly models: { readonly name: string; readonly bytes: Uint8Array; readonly tile?: OnnxTileModel }[];
  /** Per model: 'saved' = the graphs written at training time (onnx.json matched), 'exported' = exported now from the tfjs model. */
  readonly origin: Readonly<Record<string, 'saved' | 'exported'>>;
}

export interface ExportRunOptions {
  /** tfjs backend used to load the LayersModels for the export. @default 'auto' */
  readonly backend?: BackendPreference;
  /** Also write the exported graphs into RUN_DIR/models/<model>/ (model.onnx …, atomically). @default false */
  readonly save?: boolean;
  /**
   * Also export the shared-stem graphs (stem over a whole tile + per-window head; exact, see
   * buildTileModels), which predictMap then uses instead of building windows. @default true
   */
  readonly shareStem?: boolean;
}

/** The per-window graph in a model's folder. */
export const ONNX_MODEL_FILE = 'model.onnx';
/** The shared-stem graphs (only for models that qualify, see buildTileModels). */
export const ONNX_STEM_FILE = 'model-stem.onnx';
export const ONNX_HEAD_FILE = 'model-head.onnx';
/** What the graphs of a model folder were exported from (OnnxExportRecord); written last. */
export const ONNX_RECORD_FILE = 'onnx.json';
/** The tfjs files of a model folder (run-store.ts fileModelHandler) the graphs are exported from. */
const SOURCE_FILES = ['model.json', 'weights.bin'] as const;

export interface OnnxExportRecord {
  readonly format: 'geoanomaly-onnx/1';
  /** SHA-256 of model.json and weights.bin when the graphs were exported. */
  readonly source: Record<string, string>;
  /** SHA-256 of each graph file written. */
  readonly files: Record<string, string>;
  /** The shared-stem layout (null: the model has the per-window graph only). */
  readonly sharing: StemSharing | null;
}

/** One model's exported graphs. */
interface ExportedModel {
  readonly bytes: Uint8Array;
  readonly tile: OnnxTileModel | null;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The one export of a model, for training-time files and predict-time re-export alike (same bytes). */
function exportModel(runDir: string, name: string, model: tfl.LayersModel, window: number, bandNames: readonly string[], shareStem: boolean): ExportedModel {
  const exportOptions = { name, metadata: { run: runDir, model: name, window: String(window), bands: bandNames.join(',') } };
  const bytes = exportToOnnx(model, exportOptions);
  const tile = shareStem ? exportTileModels(model, exportOptions) : null;
  return { bytes, tile };
}

/** Writes a model's graphs and, last, its onnx.json (a reader trusts the graphs only through it). */
function writeExported(runDir: string, name: string, e: ExportedModel): void {
  const dir = modelDir(runDir, name);
  const files: Record<string, string> = { [ONNX_MODEL_FILE]: sha256(e.bytes) };
  writeFileAtomic(join(dir, ONNX_MODEL_FILE), e.bytes);
  if (e.tile) {
    writeFileAtomic(join(dir, ONNX_STEM_FILE), e.tile.stem);
    writeFileAtomic(join(dir, ONNX_HEAD_FILE), e.tile.head);
    files[ONNX_STEM_FILE] = sha256(e.tile.stem);
    files[ONNX_HEAD_FILE] = sha256(e.tile.head);
  }
  const source = Object.fromEntries(SOURCE_FILES.map((f) => [f, sha256(readFileSync(join(dir, f)))]));
  const record: OnnxExportRecord = { format: 'geoanomaly-onnx/1', source, files, sharing: e.tile?.sharing ?? null };
  writeJsonAtomic(join(dir, ONNX_RECORD_FILE), record);
}

/**
 * The graphs written at training time for model `name`, or null when they cannot be trusted:
 * no onnx.json (an older run), model.json / weights.bin changed since the export, a graph file
 * missing or changed, or shared-stem graphs wanted but not recorded. Never throws on a bad file:
 * the caller then exports again.
 */
export function readSavedOnnx(runDir: string, name: string, shareStem = true): ExportedModel | null {
  const dir = modelDir(runDir, name);
  const recordPath = join(dir, ONNX_RECORD_FILE);
  if (!existsSync(recordPath)) return null;
  try {
    const r = JSON.parse(readFileSync(recordPath, 'utf8')) as OnnxExportRecord;
    if (r.format !== 'geoanomaly-onnx/1') return null;
    for (const f of SOURCE_FILES) if (r.source?.[f] !== sha256(readFileSync(join(dir, f)))) return null;
    const read = (f: string): Uint8Array | null => {
      if (!r.files?.[f] || !existsSync(join(dir, f))) return null;
      const b = new Uint8Array(readFileSync(join(dir, f)));
      return sha256(b) === r.files[f] ? b : null;
    };
    const bytes = read(ONNX_MODEL_FILE);
    if (!bytes) return null;
    if (!shareStem || !r.sharing) return { bytes, tile: null };
    const stem = read(ONNX_STEM_FILE);
    const head = read(ONNX_HEAD_FILE);
    return stem && head ? { bytes, tile: { stem, head, sharing: r.sharing } } : null;
  } catch {
    return null;
  }
}

/**
 * Training time: exports networks `names` of the run (final, fold and seed models, already saved
 * as model.json + weights.bin) and writes their graphs and onnx.json into their folders, the
 * export predict would otherwise do on every call. `window` and `bandNames` are the run's (the
 * manifest may not exist yet). A model the exporter cannot express (OnnxExportError) is listed in
 * `skipped` with the reason and keeps its tfjs files only; any other error is thrown.
 */
export async function writeRunOnnx(
  runDir: string,
  names: readonly string[],
  run: { readonly window: number; readonly bandNames: readonly string[] },
): Promise<{ written: string[]; skipped: { name: string; reason: string }[] }> {
  const written: string[] = [];
  const skipped: { name: string; reason: string }[] = [];
  for (const name of names) {
    const model = await loadModel(runDir, name);
    try {
      writeExported(runDir, name, exportModel(runDir, name, model, run.window, run.bandNames, true));
      written.push(name);
    } catch (e) {
      if (!(e instanceof OnnxExportError)) throw e;
      skipped.push({ name, reason: e.message });
    } finally {
      model.dispose();
    }
  }
  return { written, skipped };
}

/**
 * The ONNX graphs of the run's models: those written at training time where onnx.json still
 * matches (readSavedOnnx), the others loaded with tfjs and exported now (then disposed again).
 */
export async function exportRunToOnnx(runDir: string, models: readonly string[], options: ExportRunOptions = {}): Promise<OnnxRunPayload> {
  const manifest = readManifest(runDir);
  const { window, stats } = runTransform(runDir, manifest);
  const shareStem = options.shareStem ?? true;
  const names = runNetworkNames(runDir, manifest, models);
  const saved = new Map<string, ExportedModel>();
  for (const name of names) {
    const s = readSavedOnnx(runDir, name, shareStem);
    if (s) saved.set(name, s);
  }
  const missing = names.filter((n) => !saved.has(n));
  let run: Awaited<ReturnType<typeof loadRun>> | null = null;
  if (missing.length > 0) {
    await initBackend(options.backend ?? 'auto');
    run = await loadRun(runDir, missing);
  }
  try {
    const out: OnnxRunPayload['models'][number][] = [];
    const origin: Record<string, 'saved' | 'exported'> = {};
    for (const name of names) {
      let e = saved.get(name);
      origin[name] = e ? 'saved' : 'exported';
      if (!e) {
        // Saved files always hold the shared-stem graphs where the model qualifies (as training
        // writes them), so a later call with shareStem on can use them.
        e = exportModel(runDir, name, run!.models.get(name)!, window, manifest.bandNames, shareStem || options.save === true);
        if (options.save) writeExported(runDir, name, e);
      }
      out.push(e.tile && shareStem ? { name, bytes: e.bytes, tile: e.tile } : { name, bytes: e.bytes });
    }
    return { window, bandNames: manifest.bandNames, stats, models: out, origin };
  } finally {
    for (const m of run?.models.values() ?? []) m.dispose();
  }
}
