import { CancelledError, InvalidOptionError } from '../errors.ts';
import { report, throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { defaultThreads, TaskPool } from '../jobs/worker-pool.ts';
import { initBackend, type BackendPreference } from '../models/backend.ts';
import { ensembleMembers, isBaselineEntry, loadableNames, readManifest, type EnsembleMode, type RunManifest } from '../models/run-store.ts';
import { groupMeanSd } from './ensemble-bands.ts';
import { predictMap, writePredictionGeoTiff, type PredictionOutputOptions, type PredictionSink } from './predict-map.ts';
import { baselineClassifiers, loadRun, runClassifiers, runTransform } from './run-models.ts';
import { matchBands, openStackSource } from './stack-source.ts';
import { checkEngine, resolveEngine, type EngineChoice, type EnginePreference } from '../onnx/onnx-run.ts';
import type { OrtLoader } from '../onnx/onnx-runtime.ts';
import { exportRunToOnnx, type OnnxRunPayload } from './onnx/export-run.ts';
import { onnxRunClassifiers } from './onnx/onnx-classifier.ts';
import { moduleUrl } from '../util/module-url.ts';

/**
 * Full-map prediction of a trained run on worker threads.
 *
 * tfjs in Node runs the wasm backend on ONE thread (it cannot start its own threads there), so
 * the only way to use every core is several tfjs instances: each worker thread loads the run's
 * models itself (predict-worker.ts) and predicts whole tiles of rows; tiles stream back to this
 * thread, which hands them to the sink in row order as soon as the next one is complete (so at
 * most a few tiles wait in memory, never the whole map).
 *
 * Determinism: the tile plan depends only on the grid, the window and `tileRows` — never on the
 * thread count — and a tile is predicted by exactly the single-thread code (predictMap over that
 * tile), so 1, 2 or N threads write the same bits (tested).
 *
 * The tiles run on a jobs/worker-pool.ts TaskPool (Tinypool) rather than through runTasks:
 * runTasks resolves with all results at the end, and prediction must stream tiles to the writer
 * as they finish.
 */
export interface PredictRunOptions extends PredictionOutputOptions {
  /** Run folder written by "geoanomaly train". */
  readonly runDir: string;
  /** Model names of the run to predict with. @default all models of the run */
  readonly models?: readonly string[];
  /** Worker threads; 1 predicts in the calling thread. @default os.availableParallelism() */
  readonly threads?: number;
  /** Windows per classifier call. @default 1024 */
  readonly batchSize?: number;
  /** Rows per tile (one worker task). @default ≈ 8 MB of stack values and at most ⌈rows/16⌉ rows */
  readonly tileRows?: number;
  /** tfjs backend of every thread (engine tfjs; with onnx it only loads the models for the export). @default 'auto' */
  readonly backend?: BackendPreference;
  /**
   * 'tfjs', 'onnx' (onnxruntime-node, see maps/onnx/) or 'auto' = onnx when onnxruntime-node loads,
   * else tfjs. The default is DEFAULT_ENGINE (main/onnx/onnx-run.ts), the same constant
   * `geoanomaly predict`, the app and trainModel use. @default 'auto'
   */
  readonly engine?: EnginePreference;
  /** ONNX Runtime intra-op threads per session (engine onnx), per worker thread. @default 1 */
  readonly intraOpThreads?: number;
  /** Engine onnx: also write RUN_DIR/models/<model>/model.onnx. @default false */
  readonly saveOnnx?: boolean;
  /**
   * Engine onnx: compute the stem convolution once per tile and share it between the overlapping
   * windows (exact; onnx/export-model.ts buildTileModels) instead of running the per-window graph
   * on every window. Models that do not start with a 'same' stride-1 convolution keep the
   * per-window graph. @default true
   */
  readonly shareStem?: boolean;
  /**
   * Engine onnx, threads > 1: 'workers' = `threads` worker threads with `intraOpThreads` each;
   * 'in-thread' = this thread, one session per model with `threads` intra-op threads; 'auto' =
   * 'in-thread' for maps of at most IN_THREAD_MAX_CELLS cells when every model shares two layers
   * (CNN, GK-CNN) and intraOpThreads is 1, else 'workers'. The same bits either way (tested).
   * @default 'auto'
   */
  readonly layout?: 'auto' | 'workers' | 'in-thread';
  /** How onnxruntime-node is imported (tests inject a failing one). @default import('onnxruntime-node') */
  readonly ortLoader?: OrtLoader;
  /** Study-area mask (GeoTIFF on the stack grid or polygons): cells outside read as nodata, so they are nodata in the map. @default none */
  readonly mask?: string;
}

export interface CheckedPredictRunOptions {
  readonly runDir: string;
  readonly models: string[];
  readonly threads: number;
  readonly batchSize: number;
  readonly tileRows: number | null;
  readonly backend: BackendPreference;
  readonly engine: EnginePreference;
  readonly intraOpThreads: number;
  readonly shareStem: boolean;
  readonly layout: 'auto' | 'workers' | 'in-thread';
  readonly mask: string | null;
}

export function checkPredictRunOptions(o: PredictRunOptions): CheckedPredictRunOptions {
  const threads = o.threads ?? defaultThreads();
  const batchSize = o.batchSize ?? 1024;
  const posInt = (v: number): boolean => Number.isInteger(v) && v >= 1;
  if (!posInt(threads)) throw new InvalidOptionError(`threads must be an integer ≥ 1, got ${threads}`);
  if (!posInt(batchSize)) throw new InvalidOptionError(`batchSize must be an integer ≥ 1, got ${batchSize}`);
  if (o.tileRows !== undefined && !posInt(o.tileRows)) throw new InvalidOptionError(`tileRows must be an integer ≥ 1, got ${o.tileRows}`);
  const intraOpThreads = o.intraOpThreads ?? 1;
  if (!posInt(intraOpThreads)) throw new InvalidOptionError(`intraOpThreads must be an integer ≥ 1, got ${intraOpThreads}`);
  return {
    runDir: o.runDir,
    models: o.models ? [...o.models] : [],
    threads,
    batchSize,
    tileRows: o.tileRows ?? null,
    backend: o.backend ?? 'auto',
    engine: checkEngine(o.engine),
    intraOpThreads,
    shareStem: o.shareStem ?? true,
    layout: checkLayout(o.layout),
    mask: o.mask ?? null,
  };
}

function checkLayout(layout: string | undefined): 'auto' | 'workers' | 'in-thread' {
  const l = layout ?? 'auto';
  if (l !== 'auto' && l !== 'workers' && l !== 'in-thread') throw new InvalidOptionError(`layout must be auto, workers or in-thread; found "${l}"`, { layout: l });
  return l;
}

/**
 * Default rows per tile: ≈ 8 MB of stack values per tile (per worker) and at least 16 tiles to
 * share out. With `sharedTiles` (the ONNX engine's shared stem) tiles are taller: the shared
 * convolutions also run over each tile's k − 1 halo rows, which for 8-row tiles doubles their
 * cost; so ≈ 16 MB and at least 32 rows (Tianshan, 117 rows: 4 tiles of ≤ 32 rows instead of 15 of
 * 8; 2,000 columns: 45 rows instead of 18). The shared maps' memory does not grow with the tile:
 * wide tiles are classified in column blocks (onnxTileClassifier's maxTileCells). Never depends on
 * the thread count (determinism).
 */
export function defaultTileRows(rows: number, cols: number, channels: number, window: number, sharedTiles = false, forWorkers = true): number {
  const halo = window - 1;
  const byMemory = Math.floor(((sharedTiles ? 16 : 8) * 1024 * 1024) / (cols * channels * 4)) - halo;
  if (!forWorkers) return Math.max(1, Math.min(rows, byMemory));
  const bySharing = sharedTiles ? Math.max(32, Math.ceil(rows / 16)) : Math.ceil(rows / 16);
  return Math.max(1, Math.min(rows, byMemory, bySharing));
}

/** Row ranges [start, end) of the tiles. */
export function planTiles(rows: number, tileRows: number): [number, number][] {
  const tiles: [number, number][] = [];
  for (let r = 0; r < rows; r += tileRows) tiles.push([r, Math.min(rows, r + tileRows)]);
  return tiles;
}

/** What each worker receives once (plain structured-clone data). */
export interface PredictWorkerInput {
  readonly stackPath: string;
  /** Study-area mask path (cells outside read as nodata); null = none. */
  readonly mask: string | null;
  readonly runDir: string;
  readonly models: string[];
  readonly backend: BackendPreference;
  readonly batchSize: number;
  /** Engine onnx: the exported models and what predictMap needs (no tfjs in the worker); null = tfjs. */
  readonly onnx: OnnxRunPayload | null;
  readonly intraOpThreads: number;
}
export interface PredictTileTask {
  readonly rowStart: number;
  readonly rowEnd: number;
}
export interface PredictTileResult {
  readonly rowStart: number;
  readonly probabilities: Float32Array[];
  readonly mask: Float32Array;
}

interface RunPlan {
  readonly modelNames: string[];
  readonly tiles: [number, number][];
  readonly cells: number;
  readonly rows: number;
  readonly cols: number;
  readonly channels: number;
  readonly window: number;
}

/**
 * The models a prediction runs: `models` (empty or ['all'] = every model of the run), each checked
 * to be loadable from the run. One check for the local path and the queue (queue/predict-units.ts).
 */
export function wantedModelNames(manifest: RunManifest, runDir: string, models: readonly string[]): string[] {
  const available = Object.keys(manifest.models);
  const loadable = loadableNames(manifest);
  const wanted = models.length > 0 && !(models.length === 1 && models[0] === 'all') ? [...models] : available;
  const missing = wanted.filter((k) => !loadable.includes(k));
  if (missing.length > 0) throw new InvalidOptionError(`run ${runDir} has no trained model ${missing.join(', ')} (it has ${available.join(', ')})`);
  return wanted;
}

/** Reads the manifest (no model is loaded here) and checks models and bands before any thread starts. */
async function planRun(stackPath: string, o: CheckedPredictRunOptions, sharedTiles: boolean): Promise<RunPlan> {
  const manifest = readManifest(o.runDir);
  const wanted = wantedModelNames(manifest, o.runDir, o.models);
  const window = (manifest.patch as { size?: number }).size ?? 0;
  const source = await openStackSource(stackPath, { mask: o.mask });
  try {
    matchBands(source, manifest.bandNames);
    const { rows, cols } = source.grid;
    const tileRows = o.tileRows ?? defaultTileRows(rows, cols, manifest.bandNames.length, window, sharedTiles);
    return { modelNames: wanted, tiles: planTiles(rows, tileRows), cells: rows * cols, rows, cols, channels: manifest.bandNames.length, window };
  } finally {
    await source.close();
  }
}

/**
 * Predicts every cell of the stack with the run's models; the sink receives tiles in row order.
 * Resolves with the model names (the order of the sink's probability arrays) and the engine that ran.
 *
 * Engine onnx: the models are exported once here (exportRunToOnnx) and the bytes go to the worker
 * threads, which then need neither tfjs nor the run's model files; each worker runs its own
 * ONNX Runtime sessions with `intraOpThreads` threads (default 1). Small maps of shared-stem CNNs
 * run in this thread with `threads` intra-op threads instead (layout 'auto', see inThreadLayout).
 */
export async function predictRun(stackPath: string, options: PredictRunOptions, sink: PredictionSink, ctx?: JobContext): Promise<{ modelNames: string[]; engine: EngineChoice }> {
  const o = checkPredictRunOptions(options);
  throwIfCancelled(ctx, 'prediction');
  const engine = await resolveEngine(o.engine, options.ortLoader);
  let plan = await planRun(stackPath, o, engine.name === 'onnx' && o.shareStem);
  const onnx = engine.name === 'onnx' ? await exportRunToOnnx(o.runDir, plan.modelNames, { backend: o.backend, save: options.saveOnnx ?? false, shareStem: o.shareStem }) : null;
  if (onnx) report(ctx, 0, `onnx graphs: ${Object.entries(onnx.origin).map(([k, v]) => `${k} ${v === 'saved' ? 'from the run (written at training)' : 'exported now'}`).join(', ')}`);
  throwIfCancelled(ctx, 'prediction');
  // A small map that layout 'auto' predicts in this thread (whatever the thread count, so the
  // numbers do not depend on it) gets whole tiles and wide stem blocks: no worker needs a share
  // of the tiles, and every tile or block edge recomputes k − 1 halo rows/columns of the shared
  // maps (Tianshan: one 125 × 297 block instead of 4 × 2 blocks; probe, CNN, 2 intra-op threads,
  // idle: predictMap 2.3–2.5 s → 1.7–1.9 s).
  const small = o.layout !== 'workers' && o.intraOpThreads === 1 && smallSharedMap(onnx, plan.cells);
  if (small && o.tileRows === null) plan = { ...plan, tiles: planTiles(plan.rows, defaultTileRows(plan.rows, plan.cols, plan.channels, plan.window, true, false)) };
  const inThread = { ...o, maxTileCells: small ? SMALL_MAP_TILE_CELLS : undefined };
  const threads = Math.min(o.threads, plan.tiles.length);
  if (o.threads > 1 && inThreadLayout(o, engine, onnx, plan.cells)) await predictInThisThread(stackPath, { ...inThread, intraOpThreads: o.threads }, plan, engine, onnx, sink, ctx);
  else if (threads <= 1) await predictInThisThread(stackPath, inThread, plan, engine, onnx, sink, ctx);
  else await predictOnWorkers(stackPath, o, plan, threads, onnx, sink, ctx);
  report(ctx, 1, 'prediction done');
  return { modelNames: plan.modelNames, engine };
}

/**
 * Maps up to this many cells are predicted by the shared-stem ONNX engine in THIS thread with
 * `threads` ONNX Runtime intra-op threads instead of on `threads` worker threads (layout 'auto'),
 * when every model shares two layers (CNN, GK-CNN): a worker costs ≈ 0.7–1.5 CPU-s to start (tsx,
 * transpiling its modules, onnxruntime-node, sessions, its own stack reads), which on the
 * Tianshan grid (33,813 cells) is about as long as the prediction itself (measured CNN: 13,793 vs
 * 9,740 windows/s, same run). Not for the DCNs: their per-window deformable layers (GridSample,
 * transposes) scale badly over intra-op threads (measured: 1,811 vs 2,193 windows/s with 2
 * workers). Both layouts write the same bits (tested). See docs/prediction.md.
 */
export const IN_THREAD_MAX_CELLS = 150_000;

/** Whether layout 'auto' (or 'in-thread') runs one session per model with intra-op threads here instead of worker threads. */
function inThreadLayout(o: CheckedPredictRunOptions, engine: EngineChoice, onnx: OnnxRunPayload | null, cells: number): boolean {
  if (engine.name !== 'onnx' || !onnx || o.layout === 'workers') return false;
  if (o.layout === 'in-thread') return true;
  return o.intraOpThreads === 1 && smallSharedMap(onnx, cells);
}


/** Every model shares two layers (CNN, GK-CNN) and the map has at most IN_THREAD_MAX_CELLS cells. */
function smallSharedMap(onnx: OnnxRunPayload | null, cells: number): boolean {
  return !!onnx && onnx.models.every((m) => (m.tile?.sharing.sharedLayers ?? 0) >= 2) && cells <= IN_THREAD_MAX_CELLS;
}

/** Stem-block size (padded cells) of small maps in this thread: the Tianshan grid (125 × 297 padded) in one block; ≈ 6.4 KB of shared maps per cell (CNN). */
export const SMALL_MAP_TILE_CELLS = 40_000;

/**
 * predictRun into a GeoTIFF (one band per model, optional difference, mask); no file is left on
 * error or cancel. With `ensemble` (the CLI's default 'folds') each model's band p_<model> is the
 * mean over its ensemble members (run-store.ts ensembleMembers: the final model and CV fold
 * models) and a band sd_<model> holds their sd (ensemble-bands.ts). Baselines (models/<kind>/
 * baseline.json) are predicted in this thread through the same windows (predictMap), networks
 * through predictRun; their rows are merged in the sink.
 */
export async function predictRunToGeoTiff(
  stackPath: string,
  outPath: string,
  options: PredictRunOptions & { readonly ensemble?: EnsembleMode; readonly seeds?: number },
  ctx?: JobContext,
): Promise<{ bandNames: string[]; modelNames: string[]; engine: EngineChoice; members: Record<string, string[]> }> {
  const o = checkPredictRunOptions(options);
  // Resolved here so the file's metadata can name the engine that wrote it.
  const engine = await resolveEngine(o.engine, options.ortLoader);
  const plan = await planRun(stackPath, o, engine.name === 'onnx' && o.shareStem);
  const manifest = readManifest(o.runDir);
  const ensemble = options.ensemble;
  const members: Record<string, string[]> = {};
  for (const k of plan.modelNames) members[k] = ensemble && manifest.models[k] ? ensembleMembers(manifest, k, ensemble, options.seeds) : [k];
  const isBase = (k: string): boolean => isBaselineEntry(manifest.models[k.split('/')[0]]);
  const bases = plan.modelNames.filter(isBase);
  const nets = plan.modelNames.filter((k) => !isBase(k));
  const flat = (names: readonly string[]): { list: string[]; groups: number[][] } => {
    const list: string[] = [];
    const groups = names.map((k) => members[k].map((m) => list.push(m) - 1));
    return { list, groups };
  };
  const netMembers = flat(nets);
  const baseMembers = flat(bases);
  const source = await openStackSource(stackPath, { mask: o.mask });
  const grid = source.grid;
  await source.close();
  const extraBands = ensemble ? plan.modelNames.map((k) => `sd_${k}`) : [];
  const { bandNames } = await writePredictionGeoTiff(
    grid,
    plan.modelNames,
    { ...options, extraBands, metadata: { ...(options.metadata ?? {}), prediction_engine: engine.detail, ...(ensemble ? { ensemble: `${ensemble}: ${plan.modelNames.map((k) => `${k} ${members[k].length} member(s)`).join(', ')}` } : {}) } },
    outPath,
    async (sink) => {
      const cells = grid.rows * grid.cols;
      // Baselines: whole-grid mean/sd per model (4 bytes × 2 per cell and model).
      const baseMean = bases.map(() => new Float32Array(cells));
      const baseSd = bases.map(() => new Float32Array(cells));
      const baseMask = new Float32Array(cells);
      if (bases.length > 0) {
        const { window, stats } = runTransform(o.runDir, manifest);
        const src = await openStackSource(stackPath, { mask: o.mask });
        try {
          const classifiers = baselineClassifiers(o.runDir, baseMembers.list, window, manifest.bandNames.length);
          await predictMap(src, classifiers, { window, bandNames: manifest.bandNames, stats, batchSize: o.batchSize }, (rowStart, probs, mask) => {
            const { means, sds } = groupMeanSd(baseMembers.groups, probs);
            const at = rowStart * grid.cols;
            means.forEach((m, i) => baseMean[i].set(m, at));
            sds.forEach((d, i) => baseSd[i].set(d, at));
            baseMask.set(mask, at);
          }, nets.length > 0 ? undefined : ctx);
        } finally {
          await src.close();
        }
      }
      const emit = (rowStart: number, netMeans: Float32Array[], netSds: Float32Array[], mask: Float32Array): void => {
        const at = rowStart * grid.cols;
        const len = mask.length;
        const pick = (k: string, which: 'mean' | 'sd'): Float32Array => {
          const ni = nets.indexOf(k);
          if (ni >= 0) return which === 'mean' ? netMeans[ni] : netSds[ni];
          const bi = bases.indexOf(k);
          return (which === 'mean' ? baseMean[bi] : baseSd[bi]).subarray(at, at + len);
        };
        const bands = plan.modelNames.map((k) => pick(k, 'mean'));
        if (ensemble) for (const k of plan.modelNames) bands.push(pick(k, 'sd'));
        sink(rowStart, bands, mask);
      };
      if (nets.length === 0) {
        emit(0, [], [], baseMask);
        return;
      }
      await predictRun(
        stackPath,
        { ...options, models: netMembers.list, engine: engine.name },
        (rowStart, probs, mask) => {
          const { means, sds } = groupMeanSd(netMembers.groups, probs);
          emit(rowStart, means, sds, mask);
        },
        ctx,
      );
    },
  );
  return { bandNames, modelNames: plan.modelNames, engine, members };
}

async function predictInThisThread(
  stackPath: string,
  o: CheckedPredictRunOptions & { readonly maxTileCells?: number },
  plan: RunPlan,
  engine: EngineChoice,
  onnx: OnnxRunPayload | null,
  sink: PredictionSink,
  ctx?: JobContext,
): Promise<void> {
  const tileRows = plan.tiles[0][1] - plan.tiles[0][0];
  if (onnx && engine.ort) {
    const classifiers = await onnxRunClassifiers(engine.ort, onnx, o.intraOpThreads, o.maxTileCells);
    const source = await openStackSource(stackPath, { mask: o.mask });
    try {
      await predictMap(source, classifiers, { window: onnx.window, bandNames: onnx.bandNames, stats: onnx.stats, batchSize: o.batchSize, tileRows }, sink, ctx);
    } finally {
      await source.close();
      for (const c of classifiers) await c.dispose();
    }
    return;
  }
  await initBackend(o.backend);
  const run = await loadRun(o.runDir, plan.modelNames);
  const source = await openStackSource(stackPath, { mask: o.mask });
  try {
    await predictMap(source, runClassifiers(run), { window: run.window, bandNames: run.bandNames, stats: run.stats, batchSize: o.batchSize, tileRows }, sink, ctx);
  } finally {
    await source.close();
  }
  for (const m of run.models.values()) m.dispose();
}

const WORKER_URL = moduleUrl('./predict-worker.ts', import.meta.url);

async function predictOnWorkers(
  stackPath: string,
  o: CheckedPredictRunOptions,
  plan: RunPlan,
  threads: number,
  onnx: OnnxRunPayload | null,
  sink: PredictionSink,
  ctx?: JobContext,
): Promise<void> {
  const { tiles } = plan;
  const totalRows = tiles[tiles.length - 1][1];
  const input: PredictWorkerInput = { stackPath, mask: o.mask, runDir: o.runDir, models: plan.modelNames, backend: o.backend, batchSize: o.batchSize, onnx, intraOpThreads: o.intraOpThreads };
  const waiting = new Map<number, PredictTileResult>();
  const partial = new Float64Array(tiles.length);
  let rowsDone = 0;
  let nextToSink = 0;
  // The workers load the run's models (tfjs or ONNX Runtime, a native addon): no bundle, the tsx
  // entry; busy workers stop their tile before termination (inside an ONNX Runtime call it would
  // abort the process).
  const pool = await TaskPool.open<PredictTileTask, PredictTileResult>(WORKER_URL, { threads, workerData: input, label: 'prediction', loader: 'tsx', stopBeforeTerminate: true });
  let failure: Error | null = null;
  const fail = (e: Error): void => {
    if (failure) return;
    failure = e;
    void pool.close(true);
  };
  const onAbort = (): void => fail(new CancelledError('prediction'));
  ctx?.signal?.addEventListener('abort', onAbort, { once: true });
  if (ctx?.signal?.aborted) onAbort();
  const progress = (): void => {
    let f = rowsDone;
    for (let i = nextToSink; i < tiles.length; i++) f += partial[i] * (tiles[i][1] - tiles[i][0]);
    report(ctx, f / totalRows, `prediction: ${Math.round((100 * f) / totalRows)}% (${threads} threads)`);
  };
  // Finished tiles go to the sink in row order as soon as the next one is complete; a sink error fails the whole job.
  const onDone = (index: number, result: PredictTileResult): void => {
    if (failure) return;
    waiting.set(index, result);
    partial[index] = 1;
    try {
      while (waiting.has(nextToSink)) {
        const r = waiting.get(nextToSink) as PredictTileResult;
        waiting.delete(nextToSink);
        sink(r.rowStart, r.probabilities, r.mask);
        rowsDone += tiles[nextToSink][1] - tiles[nextToSink][0];
        nextToSink++;
      }
    } catch (e) {
      fail(e as Error);
      return;
    }
    progress();
  };
  try {
    await Promise.all(
      tiles.map((tile, index) =>
        pool
          .run({ rowStart: tile[0], rowEnd: tile[1] }, (f) => {
            partial[index] = Math.min(1, Math.max(0, f));
            progress();
          })
          .then(
            (r) => onDone(index, r),
            (e: unknown) => fail(e as Error),
          ),
      ),
    );
    if (failure) throw failure;
  } finally {
    ctx?.signal?.removeEventListener('abort', onAbort);
    await pool.close(failure !== null);
  }
}
