import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { GridMismatchError, InvalidOptionError } from '../errors.ts';
import { readGeoTiff, readStack } from '../io/geotiff-read.ts';
import { compareGrids } from '../grid/grid-spec.ts';
import type { RasterStack } from '../grid/raster.ts';
import { DEDUPE_POLICIES, readSitesGeoJson, sitesReadNote, type DedupePolicy } from '../sites/sites-geojson.ts';
import { parseCrs } from '../grid/crs.ts';
import { extractPatches } from '../sites/patches.ts';
import { BAND_TRANSFORMS, type BandTransform } from '../sites/band-transform.ts';
import { bandOnGridByIndex, parseIndexAlignment } from '../sites/label-cells.ts';
import { initBackend, type BackendPreference } from '../models/backend.ts';
import { defaultThreads } from '../jobs/worker-pool.ts';
import type { JobContext } from '../jobs/job.ts';
import { usesGeology } from '../models/architectures.ts';
import { parseModelList, comparisonOrder } from '../models/baselines/model-list.ts';
import type { BaselineKind, RobustComponents } from '../models/baselines/baseline-models.ts';
import { robustPca } from '../eval/robust-pca.ts';
import { formatComparison } from '../eval/bootstrap.ts';
import { trainingDataFrom, TRAIN_ENGINES, TRAIN_DEFAULTS, type TrainEngine } from '../models/train.ts';
import { loadOrt, ortVersion, OnnxRuntimeUnavailableError } from '../onnx/onnx-runtime.ts';
import { DEFAULT_ENGINE } from '../onnx/onnx-run.ts';
import { writeRunOnnx } from '../maps/onnx/export-run.ts';
import { compareModels, crossValidateAndFit, crossValidateBaselines, metricsJsonEntry, type BaselineRunResult, type CrossValidationResult, type CvProtocol, type ModelRunResult, type TunableOption, type TuneGrid } from '../models/cross-validate.ts';
import type { ThresholdMode } from '../eval/metrics.ts';
import { describeInput, foldModelName, packageVersions, saveBaseline, saveModel, writeManifest, METRICS_FILE, type EnsembleMember, type RunManifest } from '../models/run-store.ts';
import { writeJsonAtomic } from '../util/atomic-write.ts';
import { modelRoc, ROC_FILE } from '../models/run-roc.ts';
import { holdoutSpecFromArgs, runHoldoutForTrain } from './train-holdout.ts';
import { formatHoldout } from './holdout-run.ts';
import { describeTrainingArea, trainingArea } from '../sites/training-area.ts';
import { checkSeeds, trainSeedMembers } from '../models/seed-ensemble.ts';
import { parseAugmentations } from '../models/augment.ts';
import { parseLrSchedule } from '../models/lr-schedule.ts';
import { parseStopOn } from '../models/stopping.ts';
import { trainingWarnings } from '../models/training-warnings.ts';
import { formatWarning, type TrustWarning } from '../eval/trust-checks.ts';
import type { CvMetrics, TrainedModelSummary, TrainWorkflowResult } from './workflow-results.ts';
import { LAYER_ROW, inputLayerRow, dedupeRow } from './input-rows.ts';
import { checkWorkflowPaths, required, type OptionTable, type OptionsOf, type WorkflowPaths } from './option-table.ts';
import { queueBatchRow } from './queue-rows.ts';
import { parseQueueBatch } from '../queue/batch-option.ts';

/**
 * The options of "train a run folder", defined once: the CLI's flags and `--help`
 * (main/cli/commands/train.ts) and the app's typed `train` request come from this table.
 * Defaults live here (the ones of the training loop itself in TRAIN_DEFAULTS, main/models/train.ts).
 */
export const TRAIN_OPTIONS = {
  stack: { flag: 'stack', kind: 'string', description: 'element stack: multiband GeoTIFF or folder of single-band GeoTIFFs', valueName: 'PATH' },
  crs: { flag: 'crs', kind: 'string', description: 'CRS of the --sites layer if it declares none (EPSG:N or proj4); declared CRSs are reprojected onto the stack\'s (logged)', valueName: 'CRS' },
  sites: { flag: 'sites', kind: 'string', description: 'training sites GeoJSON (from "geoanomaly sites")', valueName: 'FILE' },
  knowledge: { flag: 'knowledge', kind: 'strings', description: 'knowledge raster(s) w for the geology term (repeatable)', valueName: 'W.tif' },
  alignByIndex: {
    flag: 'align-by-index',
    kind: 'string',
    description: 'knowledge rasters on another grid are paired by array index: their cell (r, c) is stack cell (r+R, c+C)',
    valueName: 'R,C',
  },
  model: {
    flag: 'model',
    kind: 'string',
    description: 'comma list of networks (cnn, dcn, gk-cnn, gk-dcn; all = the four) and baselines (index, pc, logreg, rf; baselines = the four)',
    valueName: 'LIST',
    default: 'all',
  },
  tune: {
    flag: 'tune',
    kind: 'strings',
    description:
      'nested tuning (networks), repeatable: OPTION=V1,V2,… with OPTION lambda, epochs, lr, weight-decay, patience or batch; each outer fold picks the best mean AUC of an inner grouped CV on its own training sites (--inner-folds); the manifest records the choices',
    valueName: 'OPT=V,…',
  },
  innerFolds: { flag: 'inner-folds', kind: 'number', description: 'folds of the inner CV of --tune', valueName: 'K', default: 3 },
  indexElements: {
    flag: 'index-elements',
    kind: 'string',
    description: 'elements of the index baseline (mean z-score of log10 values); default: those loading positively on the robust PC most correlated with the training deposits',
    valueName: 'A,B,…',
  },
  epochs: { flag: 'epochs', kind: 'number', description: 'maximum epochs per fit', valueName: 'N', default: 60 },
  batch: { flag: 'batch', kind: 'number', description: 'mini-batch size', valueName: 'N', default: 64 },
  lr: { flag: 'lr', kind: 'number', description: 'Adam learning rate', valueName: 'X', default: 0.001 },
  weightDecay: { flag: 'weight-decay', kind: 'number', description: 'L2 weight decay on kernels', valueName: 'X', default: 0.0001 },
  lambda: { flag: 'lambda', kind: 'number', description: 'weight λ of the geology term (gk-* models)', valueName: 'X', default: 1 },
  valFraction: { flag: 'val-fraction', kind: 'number', description: 'share of training sites held out for early stopping (0 = none)', valueName: 'X', default: 0.2 },
  patience: { flag: 'patience', kind: 'number', description: 'early-stopping patience in epochs (without validation-loss improvement; counted from --min-epochs on)', valueName: 'N', default: TRAIN_DEFAULTS.patience },
  minEpochs: {
    flag: 'min-epochs',
    kind: 'number',
    description: 'epochs before early stopping may act; the kept (best-validation) weights are chosen from this epoch on, so 1–2 noisy validation sites cannot keep an underfitted epoch 1–3',
    valueName: 'N',
    default: TRAIN_DEFAULTS.minEpochs,
  },
  stopOn: {
    flag: 'stop-on',
    kind: 'string',
    description:
      "what early stopping watches: 'raw' (the per-epoch validation loss) or 'smoothed' (its trailing 5-epoch mean; an improvement must be ≥ 1 %, so 1–3 noisy validation sites per class cannot keep one lucky epoch; first eligible epoch max(--min-epochs, 5))",
    valueName: 'raw|smoothed',
    default: TRAIN_DEFAULTS.stopOn,
  },
  lrSchedule: {
    flag: 'lr-schedule',
    kind: 'string',
    description: "learning rate per epoch: 'cosine' (from --lr down to 5% of it over --epochs), 'plateau' (halve after 5 epochs without validation improvement, floor 5%) or 'none' (constant --lr)",
    valueName: 'S',
    default: TRAIN_DEFAULTS.lrSchedule === 'constant' ? 'none' : TRAIN_DEFAULTS.lrSchedule,
  },
  augment: {
    flag: 'augment',
    kind: 'string',
    description:
      "leak-free augmentation of the training sites only (copies never reach a test fold or the validation sites): comma list of 'dihedral' (a random one of the 8 rotations/flips per patch and epoch), 'noise' (Gaussian, --noise-sd), 'shift' (the paper's sliding windows centred on cells within --shift-radius of each site block), or 'none'",
    valueName: 'LIST',
    default: TRAIN_DEFAULTS.augment.length > 0 ? TRAIN_DEFAULTS.augment.join(',') : 'none',
  },
  noiseSd: { flag: 'noise-sd', kind: 'number', description: "sd of the 'noise' augmentation in standardised band units (after log10-standardize: a share of each band's whole-grid sd)", valueName: 'X', default: TRAIN_DEFAULTS.noiseSd },
  shiftRadius: { flag: 'shift-radius', kind: 'number', description: "cells around each site block whose windows the 'shift' augmentation adds (Chebyshev distance)", valueName: 'N', default: 1 },
  folds: { flag: 'folds', kind: 'number', description: 'cross-validation folds', valueName: 'K', default: 5 },
  repeats: { flag: 'repeats', kind: 'number', description: 'cross-validation repeats (different fold seeds)', valueName: 'R', default: 3 },
  seed: { flag: 'seed', kind: 'number', description: 'seed of folds, initialisation, dropout and shuffling', valueName: 'N', default: 1 },
  protocol: { flag: 'protocol', kind: 'string', description: "'grouped' (by site) or 'leaky' (random patches, the reference code's; for comparison only)", valueName: 'P', default: 'grouped' },
  threshold: { flag: 'threshold', kind: 'string', description: "'fixed' (0.5) or 'f1-optimal' (chosen on the training folds)", valueName: 'MODE', default: 'fixed' },
  patchSize: { flag: 'patch-size', kind: 'number', description: 'patch side in cells (odd)', valueName: 'K', default: 9 },
  transform: { flag: 'transform', kind: 'string', description: `band transform: ${BAND_TRANSFORMS.join(', ')}`, valueName: 'T', default: 'log10-standardize' },
  backend: { flag: 'backend', kind: 'string', description: 'auto, wasm, cpu or tensorflow', valueName: 'NAME', default: 'auto' },
  engine: {
    flag: 'engine',
    kind: 'string',
    description: "training steps on 'onnx' (ONNX Runtime, multi-threaded CPU kernels), 'tfjs' (the tfjs backend), or 'auto' (onnx when onnxruntime-node loads)",
    valueName: 'E',
    default: DEFAULT_ENGINE,
  },
  threads: {
    flag: 'threads',
    kind: 'number',
    description: 'worker threads: folds and final models train in parallel, one per thread; with the onnx engine each final model then trains alone on N intra-op threads (1 = this thread; default: all cores)',
    valueName: 'N',
  },
  mask: {
    flag: 'mask',
    kind: 'string',
    description:
      'study-area mask: a GeoTIFF on the stack grid (inside = non-zero, finite) or polygons (.gpkg, .geojson, …); cells outside are nodata in the transform statistics, patches, baselines and hold-out maps, and sites outside are dropped',
    valueName: 'AREA.tif|.gpkg',
  },
  nodata: {
    flag: 'nodata',
    kind: 'string',
    description: "patches holding nodata: 'refuse' (stop, naming the sites), 'fill-mean' (the band's study-area mean, as predict fills windows), 'skip' (drop those sites); sites on a nodata cell are dropped unless refuse. Default: fill-mean with --mask, else refuse",
    valueName: 'fill-mean|skip|refuse',
  },
  seeds: {
    flag: 'seeds',
    kind: 'number',
    description: 'networks: also train N − 1 further final models with other seeds (models/<kind>/seed-<s>/), for predict --seeds N (mean p_ and sd_ over seeds)',
    valueName: 'N',
    default: 1,
  },
  holdoutRegion: {
    flag: 'holdout-region',
    kind: 'string',
    description:
      'region hold-out at map level: train every model on the sites outside this polygon (GeoJSON, GeoPackage, …), predict the whole grid, and score the deposits inside it (training cells excluded); metrics.json "holdout", beside the grouped CV',
    valueName: 'POLYGON',
  },
  holdoutBlocks: {
    flag: 'holdout-blocks',
    kind: 'number',
    description: 'region hold-out over N spatial blocks (as square as the grid allows): each block held out in turn, its deposits scored on the map of the models trained on the other blocks; AUC pooled over blocks',
    valueName: 'N',
  },
  out: { flag: 'out', kind: 'string', description: 'run directory (metrics.json, manifest.json, models/)', valueName: 'RUN_DIR' },
  // The same three rows as main/cli/layer-options.ts (LAYER_OPTION, inputLayerOptions('sites')) and main/cli/dedupe-option.ts.
  layer: LAYER_ROW,
  sitesLayer: inputLayerRow('sites'),
  dedupe: dedupeRow('two or more sites'),
  queue: {
    flag: 'queue',
    kind: 'string',
    description: 'train the folds × repeats × models and the final models as units on a Redis queue (redis://[:PASSWORD@]HOST:PORT[/DB] or rediss://) served by "geoanomaly worker" on machines sharing RUN_DIR; one thread per unit, the bits of --threads 1',
    valueName: 'URL',
  },
  queueBatch: queueBatchRow('trainings', 'auto', 'small trainings of a sweep take tens of ms, where one per job would spend a large share on Redis round trips'),
} as const satisfies OptionTable;

export type TrainWorkflowOptions = OptionsOf<typeof TRAIN_OPTIONS>;

/** The flags of TRAIN_OPTIONS that name outputs and inputs: checked before anything is computed. */
export const TRAIN_PATHS: WorkflowPaths = { outputs: { out: 'dir' }, inputs: ['stack', 'sites', 'knowledge', 'mask', 'holdout-region'] };


function int(v: number, flag: string, min: number): number;
function int(v: number | undefined, flag: string, min: number): number | undefined;
function int(v: number | undefined, flag: string, min: number): number | undefined {
  if (v !== undefined && !(Number.isInteger(v) && v >= min)) {
    throw new InvalidOptionError(`geoanomaly train: --${flag} must be an integer ≥ ${min}, got ${v}`);
  }
  return v;
}

/** The flag value that keeps the first feature, as refusals quote it (main/cli/dedupe-option.ts's DEDUPE_FIRST_FLAG). */
const DEDUPE_FIRST_FLAG = '--dedupe first';

function dedupeOf(v: string | undefined): DedupePolicy {
  const p = v ?? TRAIN_OPTIONS.dedupe.default;
  if (!(DEDUPE_POLICIES as readonly string[]).includes(p)) throw new InvalidOptionError(`geoanomaly train: --dedupe must be "first" or "refuse", got "${p}"`);
  return p as DedupePolicy;
}

function cvSummary(cv: CrossValidationResult): CvMetrics {
  return { mean: { ...cv.mean }, sd: { ...cv.sd }, ci95: { ...cv.ci95 } };
}

const TUNE_FLAGS: Record<string, TunableOption> = { lambda: 'lambda', epochs: 'epochs', lr: 'learningRate', 'weight-decay': 'weightDecay', patience: 'patience', batch: 'batchSize' };

/** `--tune lambda=0.1,1,10 --tune epochs=30,60` → { lambda: [0.1, 1, 10], epochs: [30, 60] }. */
export function parseTune(specs: readonly string[]): TuneGrid {
  const grid: Record<string, number[]> = {};
  for (const spec of specs) {
    const m = /^([a-z-]+)=(.+)$/.exec(spec.trim());
    const key = m ? TUNE_FLAGS[m[1]] : undefined;
    if (!m || !key) throw new InvalidOptionError(`geoanomaly train: --tune "${spec}" is not OPTION=V1,V2,…; OPTION is one of ${Object.keys(TUNE_FLAGS).join(', ')} (e.g. --tune lambda=0.1,1,10)`);
    const values = m[2].split(',').map((v) => Number(v.trim()));
    if (values.some((v) => !Number.isFinite(v))) throw new InvalidOptionError(`geoanomaly train: --tune ${m[1]} values must be numbers, got "${m[2]}"`);
    grid[key] = values;
  }
  return grid as TuneGrid;
}

/**
 * Cross-validates and trains the chosen networks and baselines on a stack and its sites and
 * writes the run folder (metrics.json, roc.json, manifest.json, models/). Notes and trust
 * warnings go to `ctx.log`; the result carries the metrics and each network's learning history.
 */
export async function trainWorkflow(o: TrainWorkflowOptions, ctx: JobContext = {}): Promise<TrainWorkflowResult> {
  checkWorkflowPaths(TRAIN_OPTIONS, TRAIN_PATHS, o);
  const T = TRAIN_OPTIONS;
  const log = (m: string): void => ctx.log?.(m);
  const stackPath = required(o.stack, 'stack', 'train');
  const sitesPath = required(o.sites, 'sites', 'train');
  const outDir = resolve(required(o.out, 'out', 'train'));
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) {
    throw new InvalidOptionError(`geoanomaly train: --out ${outDir} exists and is not a directory`);
  }
  const { networks: kinds, baselines } = parseModelList(o.model ?? T.model.default);
  const tune = parseTune(o.tune ?? []);
  const holdout = holdoutSpecFromArgs({ holdoutRegion: o.holdoutRegion, holdoutBlocks: o.holdoutBlocks });
  const seeds = checkSeeds(int(o.seeds ?? T.seeds.default, 'seeds', 1));
  const indexElements = o.indexElements?.split(',').map((e) => e.trim()).filter((e) => e !== '');
  const knowledgePaths = (o.knowledge ?? []).filter((s) => s !== '');
  const needGeology = kinds.filter(usesGeology);
  if (needGeology.length > 0 && knowledgePaths.length === 0) {
    throw new InvalidOptionError(
      `geoanomaly train: ${needGeology.join(', ')} need(s) a knowledge raster (--knowledge W.tif, e.g. the fault weight map from "geoanomaly faults"); ` +
        'give one or choose --model cnn or dcn',
    );
  }
  const protocol = (o.protocol ?? T.protocol.default) as CvProtocol;
  const threshold = (o.threshold ?? T.threshold.default) as ThresholdMode;
  const transform = (o.transform ?? T.transform.default) as BandTransform;
  const align = o.alignByIndex || undefined;
  const seed = int(o.seed ?? T.seed.default, 'seed', 0);
  // Folds train in parallel, one per thread (bit-identical to 1 thread). Engine onnx: the final
  // model of each kind then trains alone on that many intra-op threads; engine tfjs: the final
  // models are tasks of the same pool (the tfjs loop has one thread; its data-parallel trainer
  // was retired, issue 17).
  const threads = int(o.threads, 'threads', 1) ?? defaultThreads();
  const requestedEngine = (o.engine ?? T.engine.default) as TrainEngine;
  if (!TRAIN_ENGINES.includes(requestedEngine)) {
    throw new InvalidOptionError(`geoanomaly train: --engine must be one of ${TRAIN_ENGINES.join(', ')}, got ${requestedEngine}`);
  }
  // 'auto' is resolved once here, so every fold and final model uses the same engine and the
  // manifest can say which one ran ('onnx' stops here if onnxruntime-node cannot be loaded).
  let engine: 'tfjs' | 'onnx' = 'tfjs';
  let engineDetail = 'tfjs (the backend below)';
  if (requestedEngine !== 'tfjs') {
    try {
      const ort = await loadOrt();
      engine = 'onnx';
      engineDetail = `onnx (onnxruntime-node ${ortVersion(ort)}, CPU; a final model on ${threads} intra-op thread(s), folds on 1 each)`;
    } catch (e) {
      if (!(e instanceof OnnxRuntimeUnavailableError) || requestedEngine === 'onnx') throw e;
      engineDetail = `tfjs (onnxruntime-node unavailable: ${e.message.split('. ')[0]})`;
    }
  }
  if (engine === 'tfjs') engineDetail += `; folds and final models one per thread on ${threads} thread(s)`;
  log(`training engine: ${engineDetail}`);
  const augment = parseAugmentations(o.augment ?? T.augment.default);
  const shiftRadius = augment.includes('shift') ? int(o.shiftRadius ?? T.shiftRadius.default, 'shift-radius', 1) : 0;
  const cvOptions = {
    folds: int(o.folds ?? T.folds.default, 'folds', 2),
    repeats: int(o.repeats ?? T.repeats.default, 'repeats', 1),
    seed,
    protocol,
    threshold,
    train: {
      epochs: int(o.epochs ?? T.epochs.default, 'epochs', 1),
      batchSize: int(o.batch ?? T.batch.default, 'batch', 1),
      learningRate: o.lr ?? T.lr.default,
      weightDecay: o.weightDecay ?? T.weightDecay.default,
      lambda: o.lambda ?? T.lambda.default,
      validationFraction: o.valFraction ?? T.valFraction.default,
      patience: int(o.patience ?? T.patience.default, 'patience', 1),
      minEpochs: int(o.minEpochs ?? T.minEpochs.default, 'min-epochs', 1),
      stopOn: parseStopOn(o.stopOn ?? T.stopOn.default),
      lrSchedule: parseLrSchedule(o.lrSchedule ?? T.lrSchedule.default),
      augment: augment,
      noiseSd: o.noiseSd ?? T.noiseSd.default,
      // The tfjs loop trains on one thread (trainModel refuses more, TfjsThreadsError).
      threads: engine === 'onnx' ? threads : 1,
      engine,
    },
    threads,
    backend: o.backend ?? T.backend.default,
    // Every fold model is kept for predict's ensembles (mean and sd bands).
    saveFoldModels: outDir,
    tune,
    innerFolds: int(o.innerFolds ?? T.innerFolds.default, 'inner-folds', 2),
  };

  const backend = await initBackend((o.backend ?? T.backend.default) as BackendPreference);
  log(`backend: ${backend.detail}`);

  // Progress from the first step on: reading a large stack and cutting its patches come before
  // any epoch, and the app showed "starting" through all of it (issue 18).
  ctx.progress?.(0, `reading the stack ${basename(stackPath)}`);
  const rawStack = await readStack(stackPath);
  ctx.progress?.(0, `reading the sites ${basename(sitesPath)}`);
  const sitesCrs = o.crs || undefined;
  const rawSites = await readSitesGeoJson(sitesPath, rawStack.grid, { assumeCrs: sitesCrs ? parseCrs(sitesCrs) : undefined, log: (m) => log(`train: ${m}`), layer: o.sitesLayer ?? (o.layer || undefined), layerFlag: '--sites-layer', dedupe: dedupeOf(o.dedupe), dedupeFlag: DEDUPE_FIRST_FLAG });
  const sitesNote = sitesReadNote(sitesPath, rawSites);
  if (sitesNote) log(`train: ${sitesNote}`);
  // --mask / --nodata (main/sites/training-area.ts): cells outside the study area become nodata.
  const area = await trainingArea(rawStack, rawSites, { mask: o.mask || undefined, nodata: o.nodata || undefined, patchSize: int(o.patchSize ?? T.patchSize.default, 'patch-size', 1) });
  const { stack, sites } = area;
  for (const line of describeTrainingArea(area)) log(line);
  const knowledge: (Float32Array | RasterStack)[] = [];
  const knowledgeNames: string[] = [];
  for (const p of knowledgePaths) {
    const k = await readGeoTiff(p);
    if (k.bands.length !== 1) throw new InvalidOptionError(`${p}: a knowledge raster needs one band, found ${k.bands.length}`);
    const cmp = compareGrids(stack.grid, k.grid);
    if (align) {
      knowledge.push(bandOnGridByIndex(stack.grid, k.grid, k.bands[0], parseIndexAlignment(align)));
      log(`${p}: paired with the stack by array index (${align}) as requested; grids differ: ${JSON.stringify(cmp)}`);
    } else {
      if (!cmp.aligned) {
        throw new GridMismatchError(
          `knowledge raster ${p} is not on the stack's grid (${cmp.problems.join('; ')}). ` +
            'Resample it onto the stack grid, or pass --align-by-index R,C if its cells are paired with the stack by array index.',
          { file: p, ...cmp },
        );
      }
      knowledge.push(k);
    }
    knowledgeNames.push(k.bandNames[0] ?? p);
  }
  const patchSize = int(o.patchSize ?? T.patchSize.default, 'patch-size', 1);
  ctx.progress?.(0, `cutting ${patchSize}×${patchSize} patches around ${sites.sites.length} sites`);
  const patches = extractPatches(stack, sites, { size: patchSize, transform, knowledge, knowledgeNames, nodata: area.nodata === 'refuse' ? 'error' : 'fill-mean', shiftRadius });
  const data = trainingDataFrom(patches);
  const nPos = Array.from(patches.labels).filter((l) => l === 1).length;
  log(
    `${data.n} patches ${patchSize}×${patchSize}×${data.channels} (${nPos} deposit, ${data.n - nPos} non-deposit; ` +
      `${new Set(data.siteIds).size} site groups; ${patches.clipped.filter(Boolean).length} clipped by the grid edge)`,
  );

  // Progress before the first epoch ends (the app showed "starting" until then, issue #18).
  ctx.progress?.(0, `${data.n} patches ready; fitting ${kinds.join(', ') || 'the baselines'} (progress follows each batch)`);
  const queue = o.queue || undefined;
  const queueBatch = parseQueueBatch(o.queueBatch, 'auto', 'train');
  const jobCtx: JobContext = { signal: ctx.signal, progress: ctx.progress };
  // --queue: the same fits as units on the queue (main/queue/train-units.ts); lazily imported.
  const fit = queue
    ? async () => (await import('../queue/train-units.ts')).crossValidateAndFitViaQueue(kinds, data, cvOptions, { url: queue, workDir: outDir, log, batch: queueBatch }, jobCtx)
    : () => crossValidateAndFit(kinds, data, cvOptions, jobCtx);
  const results = kinds.length > 0 ? await fit() : new Map<string, ModelRunResult>();
  // RPCA of the stack's log10 values (unsupervised: no label enters it) for pc and the default index.
  let components: RobustComponents | undefined;
  const needRpca = baselines.includes('pc') || (baselines.includes('index') && !(indexElements && indexElements.length > 0));
  if (needRpca && transform === 'log10-standardize') {
    const rp = robustPca(stack, { transform: 'log10', maxSamples: 20_000, seed, biplotSamples: 0 });
    components = { center: rp.center, loadings: rp.loadings, explained: rp.explained };
    log(`robust PCA for the baselines: ${rp.mcd.cellsUsed} cells${rp.mcd.subsampled ? ' (seeded subsample)' : ''}, PC1 explains ${(100 * rp.explained[0]).toFixed(1)}%`);
  }
  const baselineFit = { bandNames: stack.bandNames, components, scaling: components ? { means: patches.stats.means, stds: patches.stats.stds } : undefined, indexElements };
  const baselineResults =
    baselines.length > 0
      ? crossValidateBaselines(
          baselines,
          data,
          baselineFit,
          cvOptions,
          jobCtx,
        )
      : new Map<BaselineKind, BaselineRunResult>();
  const metrics: Record<string, unknown> = {};
  const models: RunManifest['models'] = {};
  const warnings: TrustWarning[] = [];
  const cvs = new Map<string, CrossValidationResult>();
  const summaries: TrainedModelSummary[] = [];
  try {
    for (const [kind, r] of results) {
      metrics[kind] = metricsJsonEntry(r.cv);
      cvs.set(kind, r.cv);
      const dir = await saveModel(r.final.model, outDir, kind);
      const members: EnsembleMember[] = r.cv.folds.map((f) => {
        const name = foldModelName(kind, f.repeat, f.fold);
        return { name, path: join('models', name, 'model.json'), repeat: f.repeat, fold: f.fold };
      });
      const tuning = r.finalTuned
        ? { final: r.finalTuned.chosen, folds: r.cv.folds.map((f) => ({ repeat: f.repeat, fold: f.fold, chosen: f.tuned?.chosen ?? {}, candidates: [...(f.tuned?.candidates ?? [])] })) }
        : undefined;
      const seedMembers = seeds > 1 ? await trainSeedMembers(r.final.kind, data, { ...cvOptions.train, ...(r.finalTuned?.chosen ?? {}) }, { seed, seeds, runDir: outDir }, jobCtx) : [];
      const kept = r.final.history[r.final.bestEpoch - 1];
      models[kind] = {
        path: join(dir, 'model.json'),
        epochs: r.final.bestEpoch,
        engine: r.final.engine,
        type: 'network',
        members,
        ...(seedMembers.length > 0 ? { seeds: seedMembers } : {}),
        ...(tuning ? { tuning } : {}),
        ...(r.final.geology ? { geology: r.final.geology } : {}),
        ...(kept?.geologyShare !== undefined ? { geologyShare: kept.geologyShare } : {}),
        stoppedEarly: r.final.stoppedEarly,
        history: r.final.history,
      };
      summaries.push({
        kind,
        type: 'network',
        path: models[kind].path,
        cv: cvSummary(r.cv),
        epochs: r.final.bestEpoch,
        stoppedEarly: r.final.stoppedEarly,
        history: r.final.history,
        ...(tuning ? { tuning: { final: tuning.final, folds: tuning.folds.map((f) => ({ repeat: f.repeat, fold: f.fold, chosen: f.chosen })) } } : {}),
        ...(r.final.geology ? { geology: { a: [...r.final.geology.a], b: r.final.geology.b } } : {}),
        ...(kept?.geologyShare !== undefined ? { geologyShare: kept.geologyShare } : {}),
      });
      warnings.push(...trainingWarnings(kind, r));
    }
  } finally {
    for (const r of results.values()) r.final.model.dispose();
  }
  for (const [kind, r] of baselineResults) {
    metrics[kind] = metricsJsonEntry(r.cv);
    cvs.set(kind, r.cv);
    const saved = (model: typeof r.final) => ({ format: 'geoanomaly-baseline/1' as const, bandNames: [...stack.bandNames], patchSize, model });
    const path = saveBaseline(outDir, kind, saved(r.final));
    const members: EnsembleMember[] = r.foldModels.map((f) => {
      const name = foldModelName(kind, f.repeat, f.fold);
      saveBaseline(outDir, name, saved(f.model));
      return { name, path: join('models', name, 'baseline.json'), repeat: f.repeat, fold: f.fold };
    });
    models[kind] = { path, epochs: 0, type: 'baseline', members };
    summaries.push({ kind, type: 'baseline', path, cv: cvSummary(r.cv), epochs: 0 });
    warnings.push(...trainingWarnings(kind, { cv: r.cv }));
  }
  // The ONNX graphs of every network (final, fold and seed models) next to its tfjs files, so
  // predict's onnx engine uses them instead of exporting on every call (issue 17 §2).
  const networkNames = Object.entries(models).flatMap(([k, m]) => (m.type === 'network' ? [k, ...(m.members ?? []).map((x) => x.name), ...(m.seeds ?? []).map((x) => x.name)] : []));
  if (networkNames.length > 0) {
    const t0 = performance.now();
    const onnx = await writeRunOnnx(outDir, networkNames, { window: patchSize, bandNames: stack.bandNames });
    log(`model.onnx written for ${onnx.written.length} network(s) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    for (const s of onnx.skipped) log(`model.onnx not written for ${s.name} (predict --engine onnx will say why): ${s.reason}`);
  }
  for (const w of warnings) log(formatWarning(w));
  const order = comparisonOrder([...cvs.keys()]);
  const comparisons = compareModels(order.map((k) => [k, cvs.get(k) as CrossValidationResult] as const), data, { metric: 'auc', seed });
  if (comparisons.length > 0) metrics.comparisons = comparisons;
  // The hold-out's lines are the result's (trainResultLines); its notes go to the log.
  const holdoutIo = { out: () => undefined, err: log, progress: (f: number, m: string) => ctx.progress?.(f, m), signal: ctx.signal ?? new AbortController().signal };
  const holdoutMetrics = holdout ? await runHoldoutForTrain(holdout, { stack, sites, data, stats: patches.stats, networks: kinds, baselines, baselineFit, train: cvOptions.train, tuned: Object.fromEntries([...results].map(([k, r]) => [k, r.finalTuned?.chosen ?? {}])), seed, cvs }, holdoutIo) : undefined;
  if (holdoutMetrics) metrics.holdout = holdoutMetrics;
  writeJsonAtomic(join(outDir, METRICS_FILE), metrics);
  // Per-fold ROC points and their mean curve, for the app's ROC chart.
  writeJsonAtomic(join(outDir, ROC_FILE), Object.fromEntries([...cvs].map(([kind, cv]) => [kind, modelRoc(cv.folds)])));
  const inputs = [
    ...(await describeInput('stack', stackPath)),
    ...(await describeInput('sites', sitesPath)),
    ...(await Promise.all(knowledgePaths.map((p) => describeInput('knowledge', p)))).flat(),
    ...(area.mask ? await describeInput('mask', area.mask.path) : []),
    ...(holdout?.kind === 'region' ? await describeInput('holdout-region', holdout.path) : []),
  ];
  writeManifest(outDir, {
    format: 'geoanomaly-run/1',
    createdAt: new Date().toISOString(),
    command: `geoanomaly train ${process.argv.slice(3).join(' ')}`.trim(),
    inputs,
    seed,
    options: { models: [...kinds, ...baselines], ...cvOptions, indexElements: indexElements ?? null, patchSize, transform, alignByIndex: align ?? null, knowledgeNames, seeds, holdout: holdout ?? null, mask: area.mask?.path ?? null, nodata: area.nodata },
    backend,
    engine: { requested: requestedEngine, name: engine, detail: engineDetail },
    packages: packageVersions(),
    bandNames: [...stack.bandNames],
    patch: { size: patchSize, transform, stats: patches.stats, samples: data.n, positives: nPos },
    models,
    metrics,
    warnings,
  });
  return {
    outputs: { runDir: outDir, metrics: join(outDir, METRICS_FILE), manifest: join(outDir, 'manifest.json'), roc: join(outDir, ROC_FILE), models: join(outDir, 'models') },
    protocol,
    folds: cvOptions.folds,
    repeats: cvOptions.repeats,
    engine: { requested: requestedEngine, name: engine, detail: engineDetail },
    models: summaries,
    comparisons: comparisons.map((c) => ({ a: c.a, b: c.b, metric: c.metric, diff: c.diff, ci95: [c.ci95[0], c.ci95[1]] as [number, number] })),
    ...(holdoutMetrics ? { holdout: holdoutMetrics } : {}),
    warnings,
  };
}

/** The lines "geoanomaly train" prints on stdout for a result (tests and scripts read them). */
export function trainResultLines(r: TrainWorkflowResult): string[] {
  const lines: string[] = [];
  for (const m of r.models) {
    if (m.tuning) lines.push(`${m.kind.padEnd(7)} tuned: final ${JSON.stringify(m.tuning.final)}; folds ${m.tuning.folds.map((f) => JSON.stringify(f.chosen)).join(' ')}`);
    const { mean, sd, ci95 } = m.cv;
    lines.push(
      `${m.kind.padEnd(7)} ${r.protocol} ${r.folds}-fold × ${r.repeats}: acc ${mean.acc.toFixed(3)} ± ${sd.acc.toFixed(3)}, ` +
        `AUC ${mean.auc.toFixed(3)} ± ${sd.auc.toFixed(3)} [${ci95.auc[0].toFixed(3)}, ${ci95.auc[1].toFixed(3)}], kappa ${mean.kappa.toFixed(3)}, MCC ${mean.mcc.toFixed(3)}, F1 ${mean.f1.toFixed(3)}`,
    );
    if (m.geology) {
      lines.push(`${m.kind.padEnd(7)} geology term: a = [${m.geology.a.map((v) => v.toFixed(4)).join(', ')}], b = ${m.geology.b.toFixed(4)}${m.geologyShare !== undefined ? `, share of the loss ${(100 * m.geologyShare).toFixed(1)}%` : ''} (epoch ${m.epochs})`);
    }
  }
  for (const c of r.comparisons) lines.push(formatComparison(c));
  for (const [name, rec] of Object.entries(r.holdout?.models ?? {})) lines.push(formatHoldout(name, rec, rec.cvAuc ?? undefined));
  lines.push(`wrote ${r.outputs.metrics}, manifest.json and ${r.models.length} model(s) under ${r.outputs.models}`);
  return lines;
}

export type { CvMetrics, TrainedModelSummary, TrainWorkflowResult } from './workflow-results.ts';
