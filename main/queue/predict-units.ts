import type { UnitsPerJob } from './batch-option.ts';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InvalidFileError, InvalidOptionError } from '../errors.ts';
import { report, subJob, throwIfCancelled, type JobContext } from '../jobs/job.ts';
import type { BackendPreference } from '../models/backend.ts';
import { ensembleMembers, isBaselineEntry, readManifest, type EnsembleMode } from '../models/run-store.ts';
import { groupMeanSd } from '../maps/ensemble-bands.ts';
import { predictMap, writePredictionGeoTiff, type NamedClassifier } from '../maps/predict-map.ts';
import { checkPredictRunOptions, defaultTileRows, planTiles, wantedModelNames, type PredictRunOptions } from '../maps/parallel-predict.ts';
import { matchBands, openStackSource, type StackSource } from '../maps/stack-source.ts';
import { resolveEngine, type EngineChoice } from '../onnx/onnx-run.ts';
import type { TransformStats } from '../sites/band-transform.ts';
import { hashInputs } from './input-hash.ts';
import { newRunId, runUnits, type RunUnitsOptions } from './queue-client.ts';
import type { QueueUnit, UnitHandler, UnitReceipt } from './units.ts';

/**
 * Prediction through the queue: one unit per tile of rows, the tile plan of the local path
 * (parallel-predict.ts planTiles/defaultTileRows, which never depend on the thread count), each
 * tile predicted by exactly the code of a local worker thread (maps/predict-worker.ts: predictMap
 * over rows [start, end) with tileRows = the tile's height, the run's models loaded once per
 * process), so the probabilities are bit-identical to the local run. The command assembles the
 * tiles in row order into the GeoTIFF exactly as predictRunToGeoTiff does (ensemble mean/sd per
 * model, difference band, mask) and writes it atomically (GeoTiffWriter: temp + rename).
 */
export interface PredictTilePayload {
  readonly stackPath: string;
  readonly runDir: string;
  /** Member models (e.g. cnn, cnn/fold-1…), the order of the result's probability arrays. */
  readonly models: readonly string[];
  readonly engine: 'tfjs' | 'onnx';
  readonly backend: BackendPreference;
  readonly batchSize: number;
  readonly intraOpThreads: number;
  readonly shareStem: boolean;
  /** Study-area mask (predict --mask; cells outside read as nodata, as locally); null = none. */
  readonly mask?: string | null;
  readonly rowStart: number;
  readonly rowEnd: number;
}

const MAGIC = 0x47415054; // "GAPT"

/** Result bytes: Int32 [magic, rowStart, cells, count], then `count` probability arrays and the mask (float32). */
export function encodeTileResult(rowStart: number, probabilities: readonly Float32Array[], mask: Float32Array): Uint8Array {
  const cells = mask.length;
  const out = new Uint8Array(16 + 4 * cells * (probabilities.length + 1));
  new Int32Array(out.buffer, 0, 4).set([MAGIC, rowStart, cells, probabilities.length]);
  const body = new Float32Array(out.buffer, 16);
  probabilities.forEach((p, i) => body.set(p, i * cells));
  body.set(mask, probabilities.length * cells);
  return out;
}

export function decodeTileResult(path: string): { rowStart: number; probabilities: Float32Array[]; mask: Float32Array } {
  const b = readFileSync(path);
  const buf = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  const head = new Int32Array(buf, 0, 4);
  const [magic, rowStart, cells, count] = head;
  if (magic !== MAGIC || buf.byteLength !== 16 + 4 * cells * (count + 1)) {
    throw new InvalidFileError(path, `is not a complete prediction tile result (${buf.byteLength} bytes)`, 'Run the prediction again; do not touch the queue run folder while it runs');
  }
  const probabilities = Array.from({ length: count }, (_, i) => new Float32Array(buf, 16 + 4 * i * cells, cells));
  return { rowStart, probabilities, mask: new Float32Array(buf, 16 + 4 * count * cells, cells) };
}

interface LoadedModels {
  readonly key: string;
  readonly window: number;
  readonly bandNames: string[];
  readonly stats: TransformStats;
  readonly classifiers: NamedClassifier[];
  readonly source: StackSource;
  dispose(): Promise<void>;
}

// Loaded models per worker process, by run and settings: tiles of a run share them, like the
// models a local worker thread loads once for all its tiles. With --concurrency > 1 units of two
// runs may interleave, so an entry is disposed only when no unit uses it and a newer one exists.
const loaded = new Map<string, { models: Promise<LoadedModels>; users: number; lastUse: number }>();
let useClock = 0;

async function acquire(p: PredictTilePayload, intraOpThreads: number): Promise<{ models: LoadedModels; release: () => Promise<void> }> {
  const key = JSON.stringify([p.stackPath, p.mask ?? null, p.runDir, p.models, p.engine, p.backend, p.shareStem, intraOpThreads]);
  let entry = loaded.get(key);
  if (!entry) {
    entry = { models: load(p, intraOpThreads, key), users: 0, lastUse: 0 };
    loaded.set(key, entry);
    entry.models.catch(() => loaded.delete(key));
  }
  entry.users++;
  entry.lastUse = ++useClock;
  const e = entry;
  const release = async (): Promise<void> => {
    e.users--;
    // Keep the most recently used entry (the next tile of the run); dispose idle older ones.
    const newest = Math.max(...[...loaded.values()].map((x) => x.lastUse));
    for (const [k, x] of loaded) {
      if (x.users === 0 && x.lastUse < newest) {
        loaded.delete(k);
        await (await x.models).dispose();
      }
    }
  };
  try {
    return { models: await e.models, release };
  } catch (err) {
    e.users--;
    throw err;
  }
}

async function load(p: PredictTilePayload, intraOpThreads: number, key: string): Promise<LoadedModels> {
  // The same loading as maps/predict-worker.ts, with the export the local main thread does for engine onnx.
  if (p.engine === 'onnx') {
    const { exportRunToOnnx } = await import('../maps/onnx/export-run.ts');
    const { loadOrt } = await import('../onnx/onnx-runtime.ts');
    const { onnxRunClassifiers } = await import('../maps/onnx/onnx-classifier.ts');
    const onnx = await exportRunToOnnx(p.runDir, p.models, { backend: p.backend, save: false, shareStem: p.shareStem });
    const classifiers = await onnxRunClassifiers(await loadOrt(), onnx, intraOpThreads);
    const source = await openStackSource(p.stackPath, { mask: p.mask ?? null });
    return {
      key, window: onnx.window, bandNames: onnx.bandNames, stats: onnx.stats, classifiers, source,
      dispose: async () => {
        await source.close();
        for (const c of classifiers) await c.dispose();
      },
    };
  }
  const { initBackend } = await import('../models/backend.ts');
  const { loadRun, runClassifiers } = await import('../maps/run-models.ts');
  await initBackend(p.backend);
  const run = await loadRun(p.runDir, [...p.models]);
  const source = await openStackSource(p.stackPath, { mask: p.mask ?? null });
  return {
    key, window: run.window, bandNames: run.bandNames, stats: run.stats, classifiers: runClassifiers(run), source,
    dispose: async () => {
      await source.close();
      for (const m of run.models.values()) m.dispose();
    },
  };
}

/** Worker side of a 'predict-tile' unit. */
export const runPredictTileUnit: UnitHandler = async (payload, ctx) => {
  const p = payload as PredictTilePayload;
  const { models: m, release } = await acquire(p, ctx.threads ?? p.intraOpThreads);
  const rows = m.source.grid.rows;
  const height = p.rowEnd - p.rowStart;
  let bytes: Uint8Array | null = null;
  try {
    await predictMap(
      m.source,
      m.classifiers,
      { window: m.window, bandNames: m.bandNames, stats: m.stats, batchSize: p.batchSize, tileRows: height, rows: [p.rowStart, p.rowEnd] },
      (rowStart, probabilities, mask) => {
        bytes = encodeTileResult(rowStart, probabilities, mask);
      },
      { signal: ctx.signal, progress: (f) => report(ctx, (f * rows - p.rowStart) / height, 'tile') },
    );
  } finally {
    await release();
  }
  if (!bytes) throw new Error(`tile ${p.rowStart}–${p.rowEnd} produced no rows`);
  return bytes;
};

export interface QueuePredictOptions extends PredictRunOptions {
  readonly ensemble?: EnsembleMode;
  /** Caps the 'seeds' ensemble (predict --seeds N), as predictRunToGeoTiff. */
  readonly seeds?: number;
  /** redis:// or rediss:// URL of the queue. */
  readonly queue: string;
  readonly log?: (line: string) => void;
  /** Tries per unit after a worker crash. @default 3 */
  readonly attempts?: number;
  /** Tiles per BullMQ job (RunUnitsOptions.batch). @default 1 */
  readonly batch?: UnitsPerJob;
}

/**
 * predictRunToGeoTiff through the queue (networks; baselines run in the command's process would be
 * a second code path, so they are refused with the fix). Same bands, metadata and bits.
 */
export async function predictRunToGeoTiffViaQueue(
  stackPath: string,
  outPath: string,
  options: QueuePredictOptions,
  ctx?: JobContext,
): Promise<{ bandNames: string[]; modelNames: string[]; engine: EngineChoice; members: Record<string, string[]>; units: number; workers: string[]; receipts: UnitReceipt[] }> {
  const o = checkPredictRunOptions(options);
  throwIfCancelled(ctx, 'prediction');
  const engine = await resolveEngine(o.engine, options.ortLoader);
  const manifest = readManifest(o.runDir);
  const wanted = wantedModelNames(manifest, o.runDir, o.models);
  const bases = wanted.filter((k) => isBaselineEntry(manifest.models[k.split('/')[0]]));
  if (bases.length > 0) {
    throw new InvalidOptionError(`--queue predicts network models only; ${bases.join(', ')} ${bases.length === 1 ? 'is a baseline' : 'are baselines'}. Pick networks with --model, or predict baselines without --queue`, { baselines: bases });
  }
  const ensemble = options.ensemble;
  const members: Record<string, string[]> = {};
  for (const k of wanted) members[k] = ensemble && manifest.models[k] ? ensembleMembers(manifest, k, ensemble, options.seeds) : [k];
  const list: string[] = [];
  const groups = wanted.map((k) => members[k].map((mm) => list.push(mm) - 1));
  const window = (manifest.patch as { size?: number }).size ?? 0;
  const source = await openStackSource(stackPath, { mask: o.mask });
  const grid = source.grid;
  try {
    matchBands(source, manifest.bandNames);
  } finally {
    await source.close();
  }
  const sharedTiles = engine.name === 'onnx' && o.shareStem;
  const tileRows = o.tileRows ?? defaultTileRows(grid.rows, grid.cols, manifest.bandNames.length, window, sharedTiles);
  const tiles = planTiles(grid.rows, tileRows);
  // Inputs every worker must read identically: the stack and the run (manifest + models).
  const inputs = await hashInputs([stackPath, ...(o.mask ? [o.mask] : []), join(o.runDir, 'manifest.json'), ...new Set(list.map((mm) => join(o.runDir, 'models', mm.split('/')[0])))]);
  const runId = newRunId('predict');
  // Unit results lie next to the output (shared storage), in a folder of this run only.
  const resultDir = join(dirname(resolve(outPath)), `.${basename(outPath)}.${runId}`);
  mkdirSync(resultDir, { recursive: true });
  const units: QueueUnit<PredictTilePayload>[] = tiles.map(([a, b], i) => ({
    runId,
    index: i,
    kind: 'predict-tile',
    label: `predict tile rows ${a}–${b}`,
    inputs,
    resultPath: join(resultDir, `tile-${i}.bin`),
    payload: {
      stackPath: resolve(stackPath), runDir: resolve(o.runDir), models: list, engine: engine.name, backend: o.backend,
      batchSize: o.batchSize, intraOpThreads: o.intraOpThreads, shareStem: o.shareStem, mask: o.mask ? resolve(o.mask) : null, rowStart: a, rowEnd: b,
    },
  }));
  const extraBands = ensemble ? wanted.map((k) => `sd_${k}`) : [];
  const runOptions: RunUnitsOptions = { label: 'prediction', log: options.log, attempts: options.attempts, batch: options.batch ?? 1 };
  let receipts: UnitReceipt[] = [];
  try {
    const { bandNames } = await writePredictionGeoTiff(
      grid,
      wanted,
      { ...options, extraBands, metadata: { ...(options.metadata ?? {}), prediction_engine: engine.detail, ...(ensemble ? { ensemble: `${ensemble}: ${wanted.map((k) => `${k} ${members[k].length} member(s)`).join(', ')}` } : {}) } },
      outPath,
      async (sink) => {
        // Tiles go into the GeoTIFF in row order as soon as they and all tiles above them are done,
        // while the workers run the rest: the local path streams its tiles the same way, and the
        // assembly no longer waits for the last unit (it was a serial tail of the run).
        const done = new Uint8Array(units.length);
        let next = 0;
        const drain = (): void => {
          while (next < units.length && done[next]) {
            const r = decodeTileResult(units[next].resultPath);
            const { means, sds } = groupMeanSd(groups, r.probabilities);
            sink(r.rowStart, ensemble ? [...means, ...sds] : means, r.mask);
            next++;
          }
        };
        receipts = await runUnits(options.queue, units, { ...runOptions, onUnitDone: (i) => {
          done[i] = 1;
          drain();
        } }, subJob(ctx, 0, 0.98));
        throwIfCancelled(ctx, 'prediction');
        if (next !== units.length) throw new Error(`prediction through the queue: ${units.length - next} tile(s) were not assembled`);
      },
    );
    report(ctx, 1, 'prediction done');
    return { bandNames, modelNames: wanted, engine, members, units: units.length, workers: [...new Set(receipts.map((r) => r.worker))], receipts };
  } finally {
    rmSync(resultDir, { recursive: true, force: true });
  }
}
