import { initBackend, type BackendPreference } from '../models/backend.ts';
import { predictRunToGeoTiff } from '../maps/parallel-predict.ts';
import { defaultThreads } from '../jobs/worker-pool.ts';
import { readGeoTiff, readGeoTiffInfo } from '../io/geotiff-read.ts';
import { checkSaturatedMap, formatWarning, type TrustWarning } from '../eval/trust-checks.ts';
import { InvalidOptionError } from '../errors.ts';
import type { JobContext } from '../jobs/job.ts';
import { checkEngine, DEFAULT_ENGINE, resolveEngine } from '../onnx/onnx-run.ts';
import { ENSEMBLE_MODES, readManifest, type EnsembleMode } from '../models/run-store.ts';
import type { PredictWorkflowResult } from './workflow-results.ts';
import { checkWorkflowPaths, required, type OptionTable, type OptionsOf, type WorkflowPaths } from './option-table.ts';
import { queueBatchRow } from './queue-rows.ts';
import { parseQueueBatch } from '../queue/batch-option.ts';

/**
 * The options of "predict a run onto a stack", defined once: the CLI's flags and `--help`
 * (main/cli/commands/predict.ts) and the app's typed `predict` request come from this table.
 */
export const PREDICT_OPTIONS = {
  run: { flag: 'run', kind: 'string', description: 'run folder written by "geoanomaly train"', valueName: 'RUN_DIR' },
  stack: { flag: 'stack', kind: 'string', description: 'element stack (multiband GeoTIFF or folder of GeoTIFFs)', valueName: 'PATH' },
  model: { flag: 'model', kind: 'string', description: 'model name(s), comma separated, or all', valueName: 'NAME', default: 'all' },
  difference: { flag: 'difference', kind: 'string', description: 'add a difference band A − B of two models', valueName: 'A,B' },
  ensemble: {
    flag: 'ensemble',
    kind: 'string',
    description: 'members averaged per model: folds (final + first-repeat fold models), all-folds (every fold model), final (the final model only); writes sd_<model> bands',
    valueName: 'MODE',
    default: 'folds',
  },
  batch: { flag: 'batch', kind: 'number', description: 'windows per inference batch', valueName: 'N', default: 1024 },
  backend: { flag: 'backend', kind: 'string', description: 'auto | wasm | cpu | tensorflow', valueName: 'NAME', default: 'auto' },
  threads: { flag: 'threads', kind: 'number', description: 'worker threads (1 = predict in the main thread; default: all cores)', valueName: 'N' },
  engine: { flag: 'engine', kind: 'string', description: 'auto | tfjs | onnx (auto = onnx when onnxruntime-node loads)', valueName: 'NAME', default: DEFAULT_ENGINE },
  intraOpThreads: { flag: 'intra-op-threads', kind: 'number', description: 'engine onnx: ONNX Runtime threads per worker thread', valueName: 'N', default: 1 },
  saveOnnx: { flag: 'save-onnx', kind: 'boolean', description: 'engine onnx: also write RUN_DIR/models/<model>/model.onnx' },
  seeds: {
    flag: 'seeds',
    kind: 'number',
    description: 'average N seeds instead: the final model + the N − 1 seed members of each network (train --seeds N); p_<model> = mean, sd_<model> = sd over the seeds (baselines: their final model)',
    valueName: 'N',
  },
  mask: { flag: 'mask', kind: 'string', description: 'study-area mask: a GeoTIFF on the stack grid (inside = non-zero, finite) or polygons (.gpkg, .geojson, …); cells outside are nodata in every window and in the map', valueName: 'AREA.tif|.gpkg' },
  out: { flag: 'out', kind: 'string', description: 'output GeoTIFF', valueName: 'PROB.tif' },
  queue: { flag: 'queue', kind: 'string', description: 'run the tiles as units on a Redis queue (redis://[:PASSWORD@]HOST:PORT[/DB] or rediss://) served by "geoanomaly worker"; same bits as without', valueName: 'URL' },
  queueBatch: queueBatchRow('tiles', '1', 'a tile takes seconds, so one per job'),
} as const satisfies OptionTable;

export type PredictWorkflowOptions = OptionsOf<typeof PREDICT_OPTIONS>;

/** The flags of PREDICT_OPTIONS that name outputs and inputs: checked before anything is computed. */
export const PREDICT_PATHS: WorkflowPaths = { outputs: { out: 'file' }, inputs: ['run', 'stack'] };


/** Anomaly probability maps of a run's models over a whole stack (streamed in tiles). */
export async function predictWorkflow(o: PredictWorkflowOptions, ctx: JobContext = {}): Promise<PredictWorkflowResult> {
  checkWorkflowPaths(PREDICT_OPTIONS, PREDICT_PATHS, o);
  const log = (m: string): void => ctx.log?.(m);
  const runDir = required(o.run, 'run', 'predict');
  const stackPath = required(o.stack, 'stack', 'predict');
  const out = required(o.out, 'out', 'predict');
  const backend = (o.backend ?? PREDICT_OPTIONS.backend.default) as BackendPreference;
  log(`backend: ${(await initBackend(backend)).detail}`);
  const models = (o.model ?? PREDICT_OPTIONS.model.default).split(',').map((s) => s.trim());
  const diff = o.difference ? o.difference.split(',').map((s) => s.trim()) : undefined;
  if (diff && diff.length !== 2) throw new InvalidOptionError('geoanomaly predict: --difference takes two model names, e.g. gk-dcn,gk-cnn');
  const threads = o.threads ?? defaultThreads();
  const seeds = o.seeds;
  if (seeds !== undefined && !(Number.isInteger(seeds) && seeds >= 1)) throw new InvalidOptionError(`geoanomaly predict: --seeds must be an integer ≥ 1, got ${seeds}`);
  const ensemble = (seeds !== undefined ? 'seeds' : (o.ensemble ?? PREDICT_OPTIONS.ensemble.default)) as EnsembleMode;
  if (!ENSEMBLE_MODES.includes(ensemble)) throw new InvalidOptionError(`geoanomaly predict: --ensemble must be one of ${ENSEMBLE_MODES.join(', ')}, got "${ensemble}"`);
  const enginePreference = checkEngine(o.engine || undefined);
  const engine = await resolveEngine(enginePreference);
  log(`engine: ${engine.detail}`);
  const trainedMask = (readManifest(runDir).options as { mask?: string | null }).mask;
  if (trainedMask && !o.mask) log(`predict: the run was trained with --mask ${trainedMask}; pass --mask to leave the cells outside the study area nodata in the map`);
  const t0 = performance.now();
  const queue = o.queue || undefined;
  const queueBatch = parseQueueBatch(o.queueBatch, 1, 'predict');
  // --queue: the same tiles as units on the queue (main/queue/predict-units.ts); lazily imported.
  const predictTo = queue
    ? async (...a: Parameters<typeof predictRunToGeoTiff>) => (await import('../queue/predict-units.ts')).predictRunToGeoTiffViaQueue(a[0], a[1], { ...a[2], queue, log, batch: queueBatch }, a[3])
    : predictRunToGeoTiff;
  const { bandNames, modelNames, members } = await predictTo(
    stackPath,
    out,
    {
      runDir,
      models,
      threads,
      backend,
      engine: enginePreference,
      intraOpThreads: o.intraOpThreads ?? PREDICT_OPTIONS.intraOpThreads.default,
      saveOnnx: o.saveOnnx === true,
      batchSize: o.batch ?? PREDICT_OPTIONS.batch.default,
      difference: diff as [string, string] | undefined,
      ensemble,
      ...(seeds !== undefined ? { seeds } : {}),
      mask: o.mask || undefined,
    },
    { signal: ctx.signal, progress: ctx.progress },
  );
  const seconds = (performance.now() - t0) / 1000;
  log(`ensemble ${ensemble}: ${modelNames.map((k) => `${k} ${members[k].length} member(s)`).join(', ')}`);
  const info = await readGeoTiffInfo(out);
  const windows = info.grid.rows * info.grid.cols * Object.values(members).reduce((a, m) => a + m.length, 0);
  // Trust check: a p_<model> band at ≤ 0.01 or ≥ 0.99 over most of the grid ranks nothing there.
  const written = await readGeoTiff(out);
  const warnings: TrustWarning[] = [];
  written.bandNames.forEach((b, i) => {
    if (/^p_/.test(b)) warnings.push(...checkSaturatedMap(written.bands[i], b.slice(2)));
  });
  for (const w of warnings) log(formatWarning(w));
  return {
    outputs: { map: out },
    bandNames,
    modelNames,
    ensemble,
    members,
    grid: { rows: info.grid.rows, cols: info.grid.cols, crs: info.grid.crs?.name ?? null },
    windows,
    seconds,
    threads,
    engine: engine.detail,
    warnings,
  };
}

/** The lines "geoanomaly predict" prints on stdout for a result. */
export function predictResultLines(r: PredictWorkflowResult): string[] {
  return [
    `${r.outputs.map}: ${r.bandNames.join(', ')} on ${r.grid.rows}×${r.grid.cols} cells (${r.grid.crs ?? 'no CRS'})`,
    `${r.windows} windows in ${r.seconds.toFixed(1)} s (${(r.windows / r.seconds).toFixed(0)} windows/s, ${r.threads} thread${r.threads === 1 ? '' : 's'}, worker start-up included); engine ${r.engine}`,
  ];
}

export type { PredictWorkflowResult } from './workflow-results.ts';
