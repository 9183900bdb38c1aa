import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command, ParsedArgs } from '../command.ts';
import { optionalNumber, optionalString, requireString } from '../command.ts';
import { GridMismatchError, InvalidOptionError } from '../../errors.ts';
import { readGeoTiff, readStack } from '../../io/geotiff-read.ts';
import { compareGrids } from '../../grid/grid-spec.ts';
import type { RasterStack } from '../../grid/raster.ts';
import { readSitesGeoJson, sitesReadNote } from '../../sites/sites-geojson.ts';
import { LAYER_OPTION, inputLayerOptions, layerFor } from '../layer-options.ts';
import { DEDUPE_FIRST_FLAG, dedupeOf, dedupeOption } from '../dedupe-option.ts';
import { parseCrs } from '../../grid/crs.ts';
import { extractPatches } from '../../sites/patches.ts';
import { BAND_TRANSFORMS, type BandTransform } from '../../sites/band-transform.ts';
import { bandOnGridByIndex, parseIndexAlignment } from '../../sites/label-cells.ts';
import { initBackend, type BackendPreference } from '../../models/backend.ts';
import { defaultThreads } from '../../jobs/worker-pool.ts';
import { usesGeology } from '../../models/architectures.ts';
import { parseModelList, comparisonOrder } from '../../models/baselines/model-list.ts';
import type { BaselineKind, RobustComponents } from '../../models/baselines/baseline-models.ts';
import { robustPca } from '../../eval/robust-pca.ts';
import { formatComparison } from '../../eval/bootstrap.ts';
import { trainingDataFrom, TRAIN_ENGINES, type TrainEngine } from '../../models/train.ts';
import { loadOrt, ortVersion, OnnxRuntimeUnavailableError } from '../../maps/onnx/onnx-runtime.ts';
import { compareModels, crossValidateAndFit, crossValidateBaselines, metricsJsonEntry, type BaselineRunResult, type CrossValidationResult, type CvProtocol, type ModelRunResult, type TunableOption, type TuneGrid } from '../../models/cross-validate.ts';
import { describeInput, foldModelName, packageVersions, saveBaseline, saveModel, writeManifest, METRICS_FILE, type EnsembleMember, type RunManifest } from '../../models/run-store.ts';
import { writeJsonAtomic } from '../../util/atomic-write.ts';
import { modelRoc, ROC_FILE } from '../../models/run-roc.ts';
import type { ThresholdMode } from '../../eval/metrics.ts';
import { holdoutSpecFromArgs, runHoldoutForTrain } from '../../eval/holdout-cli.ts';
import { describeTrainingArea, trainingArea } from '../../sites/training-area.ts';
import { checkSeeds, trainSeedMembers } from '../../eval/seed-ensemble.ts';
import { parseAugmentations } from '../../models/augment.ts';
import { parseLrSchedule } from '../../models/lr-schedule.ts';
import { TRAIN_DEFAULTS } from '../../models/train.ts';
import { trainingWarnings } from '../../models/training-warnings.ts';
import { formatWarning, type TrustWarning } from '../../eval/trust-checks.ts';

function intOption(args: ParsedArgs, name: string, min: number): number | undefined {
  const v = optionalNumber(args, name, 'train');
  if (v !== undefined && !(Number.isInteger(v) && v >= min)) {
    throw new InvalidOptionError(`geoanomaly train: --${name} must be an integer ≥ ${min}, got ${v}`);
  }
  return v;
}

function listOption(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [String(v)]).filter((s) => s !== '');
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

export const trainCommand: Command = {
  name: 'train',
  summary: 'cross-validate and train CNN / DCN / GK-CNN / GK-DCN patch classifiers and baselines (index, pc, logreg, rf)',
  usage:
    '--stack STACK.tif|DIR --sites SITES.geojson [--knowledge W.tif …] --model all,baselines|cnn,dcn,gk-cnn,gk-dcn,index,pc,logreg,rf [--index-elements A,B,…] ' +
    '[--epochs N] [--batch N] [--lr X] [--lambda X] [--min-epochs N] [--patience N] [--lr-schedule cosine|plateau|none] ' +
    '[--augment dihedral,noise,shift|none] [--noise-sd X] [--folds K] [--repeats R] [--seed N] [--engine auto|tfjs|onnx] [--seeds N] [--mask AREA.tif|.gpkg] [--nodata fill-mean|skip|refuse] [--holdout-region POLYGON|--holdout-blocks N] --out RUN_DIR',
  paths: { outputs: { out: 'dir' }, inputs: ['stack', 'sites', 'knowledge', 'mask', 'holdout-region'] },
  options: {
    stack: { type: 'string', description: 'element stack: multiband GeoTIFF or folder of single-band GeoTIFFs', valueName: 'PATH' },
    crs: { type: 'string', description: 'CRS of the --sites layer if it declares none (EPSG:N or proj4); declared CRSs are reprojected onto the stack\'s (logged)', valueName: 'CRS' },
    sites: { type: 'string', description: 'training sites GeoJSON (from "geoanomaly sites")', valueName: 'FILE' },
    knowledge: { type: 'string', multiple: true, description: 'knowledge raster(s) w for the geology term (repeatable)', valueName: 'W.tif' },
    'align-by-index': {
      type: 'string',
      description: 'knowledge rasters on another grid are paired by array index: their cell (r, c) is stack cell (r+R, c+C)',
      valueName: 'R,C',
    },
    model: {
      type: 'string',
      description: 'comma list of networks (cnn, dcn, gk-cnn, gk-dcn; all = the four) and baselines (index, pc, logreg, rf; baselines = the four)',
      valueName: 'LIST',
      default: 'all',
    },
    tune: {
      type: 'string',
      multiple: true,
      description:
        'nested tuning (networks), repeatable: OPTION=V1,V2,… with OPTION lambda, epochs, lr, weight-decay, patience or batch; each outer fold picks the best mean AUC of an inner grouped CV on its own training sites (--inner-folds); the manifest records the choices',
      valueName: 'OPT=V,…',
    },
    'inner-folds': { type: 'string', description: 'folds of the inner CV of --tune', valueName: 'K', default: '3' },
    'index-elements': {
      type: 'string',
      description: 'elements of the index baseline (mean z-score of log10 values); default: those loading positively on the robust PC most correlated with the training deposits',
      valueName: 'A,B,…',
    },
    epochs: { type: 'string', description: 'maximum epochs per fit', valueName: 'N', default: '60' },
    batch: { type: 'string', description: 'mini-batch size', valueName: 'N', default: '64' },
    lr: { type: 'string', description: 'Adam learning rate', valueName: 'X', default: '0.001' },
    'weight-decay': { type: 'string', description: 'L2 weight decay on kernels', valueName: 'X', default: '0.0001' },
    lambda: { type: 'string', description: 'weight λ of the geology term (gk-* models)', valueName: 'X', default: '1' },
    'val-fraction': { type: 'string', description: 'share of training sites held out for early stopping (0 = none)', valueName: 'X', default: '0.2' },
    patience: { type: 'string', description: 'early-stopping patience in epochs (without validation-loss improvement; counted from --min-epochs on)', valueName: 'N', default: String(TRAIN_DEFAULTS.patience) },
    'min-epochs': {
      type: 'string',
      description: 'epochs before early stopping may act; the kept (best-validation) weights are chosen from this epoch on, so 1–2 noisy validation sites cannot keep an underfitted epoch 1–3',
      valueName: 'N',
      default: String(TRAIN_DEFAULTS.minEpochs),
    },
    'lr-schedule': {
      type: 'string',
      description: "learning rate per epoch: 'cosine' (from --lr down to 5% of it over --epochs), 'plateau' (halve after 5 epochs without validation improvement, floor 5%) or 'none' (constant --lr)",
      valueName: 'S',
      default: TRAIN_DEFAULTS.lrSchedule === 'constant' ? 'none' : TRAIN_DEFAULTS.lrSchedule,
    },
    augment: {
      type: 'string',
      description:
        "leak-free augmentation of the training sites only (copies never reach a test fold or the validation sites): comma list of 'dihedral' (a random one of the 8 rotations/flips per patch and epoch), 'noise' (Gaussian, --noise-sd), 'shift' (the paper's sliding windows centred on cells within --shift-radius of each site block), or 'none'",
      valueName: 'LIST',
      default: TRAIN_DEFAULTS.augment.length > 0 ? TRAIN_DEFAULTS.augment.join(',') : 'none',
    },
    'noise-sd': { type: 'string', description: "sd of the 'noise' augmentation in standardised band units (after log10-standardize: a share of each band's whole-grid sd)", valueName: 'X', default: String(TRAIN_DEFAULTS.noiseSd) },
    'shift-radius': { type: 'string', description: "cells around each site block whose windows the 'shift' augmentation adds (Chebyshev distance)", valueName: 'N', default: '1' },
    folds: { type: 'string', description: 'cross-validation folds', valueName: 'K', default: '5' },
    repeats: { type: 'string', description: 'cross-validation repeats (different fold seeds)', valueName: 'R', default: '3' },
    seed: { type: 'string', description: 'seed of folds, initialisation, dropout and shuffling', valueName: 'N', default: '1' },
    protocol: { type: 'string', description: "'grouped' (by site) or 'leaky' (random patches, the reference code's; for comparison only)", valueName: 'P', default: 'grouped' },
    threshold: { type: 'string', description: "'fixed' (0.5) or 'f1-optimal' (chosen on the training folds)", valueName: 'MODE', default: 'fixed' },
    'patch-size': { type: 'string', description: 'patch side in cells (odd)', valueName: 'K', default: '9' },
    transform: { type: 'string', description: `band transform: ${BAND_TRANSFORMS.join(', ')}`, valueName: 'T', default: 'log10-standardize' },
    backend: { type: 'string', description: 'auto, wasm, cpu or tensorflow', valueName: 'NAME', default: 'auto' },
    engine: {
      type: 'string',
      description: "training steps on 'onnx' (ONNX Runtime, multi-threaded CPU kernels), 'tfjs' (the tfjs backend), or 'auto' (onnx when onnxruntime-node loads)",
      valueName: 'E',
      default: 'auto',
    },
    threads: {
      type: 'string',
      description: 'worker threads: folds train in parallel, then each final model on them (onnx engine: intra-op threads; tfjs: data-parallel replicas) (1 = this thread; default: all cores)',
      valueName: 'N',
    },
    mask: {
      type: 'string',
      description:
        'study-area mask: a GeoTIFF on the stack grid (inside = non-zero, finite) or polygons (.gpkg, .geojson, …); cells outside are nodata in the transform statistics, patches, baselines and hold-out maps, and sites outside are dropped',
      valueName: 'AREA.tif|.gpkg',
    },
    nodata: {
      type: 'string',
      description: "patches holding nodata: 'refuse' (stop, naming the sites), 'fill-mean' (the band's study-area mean, as predict fills windows), 'skip' (drop those sites); sites on a nodata cell are dropped unless refuse. Default: fill-mean with --mask, else refuse",
      valueName: 'fill-mean|skip|refuse',
    },
    seeds: {
      type: 'string',
      description: 'networks: also train N − 1 further final models with other seeds (models/<kind>/seed-<s>/), for predict --seeds N (mean p_ and sd_ over seeds)',
      valueName: 'N',
      default: '1',
    },
    'holdout-region': {
      type: 'string',
      description:
        'region hold-out at map level: train every model on the sites outside this polygon (GeoJSON, GeoPackage, …), predict the whole grid, and score the deposits inside it (training cells excluded); metrics.json "holdout", beside the grouped CV',
      valueName: 'POLYGON',
    },
    'holdout-blocks': {
      type: 'string',
      description: 'region hold-out over N spatial blocks (as square as the grid allows): each block held out in turn, its deposits scored on the map of the models trained on the other blocks; AUC pooled over blocks',
      valueName: 'N',
    },
    out: { type: 'string', description: 'run directory (metrics.json, manifest.json, models/)', valueName: 'RUN_DIR' },
    ...LAYER_OPTION,
    ...inputLayerOptions('sites'),
    ...dedupeOption('two or more sites'),
    queue: {
      type: 'string',
      description: 'train the folds × repeats × models and the final models as units on a Redis queue (redis://[:PASSWORD@]HOST:PORT[/DB] or rediss://) served by "geoanomaly worker" on machines sharing RUN_DIR; one thread per unit, the bits of --threads 1',
      valueName: 'URL',
    },
  },
  details: [
    'Writes RUN_DIR/metrics.json: { "<model>": { "folds": [{acc, auc, kappa, mcc, precision, recall, f1}, …],',
    '"mean": {…}, "sd": {…}, "ci95": {…} }, "comparisons": [{ "a", "b", "metric": "auc", "diff", "ci95", "method": "site bootstrap" }] },',
    'ci95 = 95% site-bootstrap percentile interval of the mean (held-out sites resampled in every fold; always inside',
    'the metric\'s range); comparisons = paired site bootstrap of every pair of models (same resample for both).',
    'Baselines run in the same folds: index (mean z of log10 values over --index-elements), pc (the robust PC',
    'most correlated with the training deposits), logreg (ml-logistic-regression) and rf (ml-random-forest) on',
    'per-site features (each element\'s centre value, window mean and sd); saved as models/<kind>/baseline.json.',
    'RUN_DIR/manifest.json (inputs\' SHA-256, options, seed,',
    'backend, package versions, band names, transform statistics) and one final model per kind,',
    'trained on all sites, under RUN_DIR/models/<kind>/ (TensorFlow.js layers format).',
    'RUN_DIR/roc.json: per model every fold\'s ROC points { folds: [{repeat, fold, auc, fpr, tpr}], mean: {fpr, tpr, auc} }',
    '(mean = vertical average on 101 false-positive rates; fold AUCs equal metrics.json\'s).',
    'manifest.json models.<kind>: history (per epoch: trainLoss, valLoss, learningRate, geologyShare, a, b), the kept',
    'epoch, a, b and geologyShare; manifest.json warnings: trust warnings (predictions collapsing to one class in most',
    'folds, a validation loss that never improves), each with its fix, also printed on stderr as "warning [code] …".',
    'Folds keep every cell of a site block (and overlapping blocks) together; the decision threshold',
    'is chosen on training folds only.',
    '',
    'Example (the Tianshan case study, whose label and weight grids are paired by index):',
    '  geoanomaly train --stack elements/ --sites sites.geojson --knowledge geology_weights.tif \\',
    '    --align-by-index 0,0 --model all --folds 5 --repeats 3 --out run1',
  ].join('\n'),
  async run(args, io) {
    const stackPath = requireString(args, 'stack', 'train');
    const sitesPath = requireString(args, 'sites', 'train');
    const outDir = resolve(requireString(args, 'out', 'train'));
    if (existsSync(outDir) && !statSync(outDir).isDirectory()) {
      throw new InvalidOptionError(`geoanomaly train: --out ${outDir} exists and is not a directory`);
    }
    const { networks: kinds, baselines } = parseModelList(optionalString(args, 'model') ?? 'all');
    const tune = parseTune(listOption(args, 'tune'));
    const holdout = holdoutSpecFromArgs(args);
    const seeds = checkSeeds(intOption(args, 'seeds', 1));
    const indexElements = optionalString(args, 'index-elements')?.split(',').map((e) => e.trim()).filter((e) => e !== '');
    const knowledgePaths = listOption(args, 'knowledge');
    const needGeology = kinds.filter(usesGeology);
    if (needGeology.length > 0 && knowledgePaths.length === 0) {
      throw new InvalidOptionError(
        `geoanomaly train: ${needGeology.join(', ')} need(s) a knowledge raster (--knowledge W.tif, e.g. the fault weight map from "geoanomaly faults"); ` +
          'give one or choose --model cnn or dcn',
      );
    }
    const protocol = (optionalString(args, 'protocol') ?? 'grouped') as CvProtocol;
    const threshold = (optionalString(args, 'threshold') ?? 'fixed') as ThresholdMode;
    const transform = (optionalString(args, 'transform') ?? 'log10-standardize') as BandTransform;
    const align = optionalString(args, 'align-by-index');
    const seed = intOption(args, 'seed', 0) ?? 1;
    // Folds train in parallel, one per thread (bit-identical to 1 thread); the final model of each
    // kind then trains alone, data-parallel over the same threads (main/models/data-parallel.ts).
    const threads = intOption(args, 'threads', 1) ?? defaultThreads();
    const requestedEngine = (optionalString(args, 'engine') ?? 'auto') as TrainEngine;
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
    io.err(`training engine: ${engineDetail}`);
    const augment = optionalString(args, 'augment') !== undefined ? parseAugmentations(optionalString(args, 'augment') as string) : [...TRAIN_DEFAULTS.augment];
    const shiftRadius = augment.includes('shift') ? (intOption(args, 'shift-radius', 1) ?? 1) : 0;
    const cvOptions = {
      folds: intOption(args, 'folds', 2) ?? 5,
      repeats: intOption(args, 'repeats', 1) ?? 3,
      seed,
      protocol,
      threshold,
      train: {
        epochs: intOption(args, 'epochs', 1) ?? 60,
        batchSize: intOption(args, 'batch', 1) ?? 64,
        learningRate: optionalNumber(args, 'lr', 'train') ?? 1e-3,
        weightDecay: optionalNumber(args, 'weight-decay', 'train') ?? 1e-4,
        lambda: optionalNumber(args, 'lambda', 'train') ?? 1,
        validationFraction: optionalNumber(args, 'val-fraction', 'train') ?? 0.2,
        patience: intOption(args, 'patience', 1) ?? TRAIN_DEFAULTS.patience,
        minEpochs: intOption(args, 'min-epochs', 1) ?? TRAIN_DEFAULTS.minEpochs,
        lrSchedule: parseLrSchedule(optionalString(args, 'lr-schedule') ?? TRAIN_DEFAULTS.lrSchedule),
        augment: augment,
        noiseSd: optionalNumber(args, 'noise-sd', 'train') ?? TRAIN_DEFAULTS.noiseSd,
        threads,
        engine,
      },
      threads,
      backend: optionalString(args, 'backend') ?? 'auto',
      // Every fold model is kept for predict's ensembles (mean and sd bands).
      saveFoldModels: outDir,
      tune,
      innerFolds: intOption(args, 'inner-folds', 2) ?? 3,
    };

    const backend = await initBackend((optionalString(args, 'backend') ?? 'auto') as BackendPreference);
    io.err(`backend: ${backend.detail}`);

    const rawStack = await readStack(stackPath);
    const sitesCrs = optionalString(args, 'crs');
    const rawSites = await readSitesGeoJson(sitesPath, rawStack.grid, { assumeCrs: sitesCrs ? parseCrs(sitesCrs) : undefined, log: (m) => io.err(`train: ${m}`), ...layerFor(args, 'sites'), dedupe: dedupeOf(args, 'train'), dedupeFlag: DEDUPE_FIRST_FLAG });
    const sitesNote = sitesReadNote(sitesPath, rawSites);
    if (sitesNote) io.err(`train: ${sitesNote}`);
    // --mask / --nodata (main/sites/training-area.ts): cells outside the study area become nodata.
    const area = await trainingArea(rawStack, rawSites, { mask: optionalString(args, 'mask'), nodata: optionalString(args, 'nodata'), patchSize: intOption(args, 'patch-size', 1) ?? 9 });
    const { stack, sites } = area;
    for (const line of describeTrainingArea(area)) io.err(line);
    const knowledge: (Float32Array | RasterStack)[] = [];
    const knowledgeNames: string[] = [];
    for (const p of knowledgePaths) {
      const k = await readGeoTiff(p);
      if (k.bands.length !== 1) throw new InvalidOptionError(`${p}: a knowledge raster needs one band, found ${k.bands.length}`);
      const cmp = compareGrids(stack.grid, k.grid);
      if (align) {
        knowledge.push(bandOnGridByIndex(stack.grid, k.grid, k.bands[0], parseIndexAlignment(align)));
        io.err(`${p}: paired with the stack by array index (${align}) as requested; grids differ: ${JSON.stringify(cmp)}`);
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
    const patchSize = intOption(args, 'patch-size', 1) ?? 9;
    const patches = extractPatches(stack, sites, { size: patchSize, transform, knowledge, knowledgeNames, nodata: area.nodata === 'refuse' ? 'error' : 'fill-mean', shiftRadius });
    const data = trainingDataFrom(patches);
    const nPos = Array.from(patches.labels).filter((l) => l === 1).length;
    io.err(
      `${data.n} patches ${patchSize}×${patchSize}×${data.channels} (${nPos} deposit, ${data.n - nPos} non-deposit; ` +
        `${new Set(data.siteIds).size} site groups; ${patches.clipped.filter(Boolean).length} clipped by the grid edge)`,
    );

    // Progress before the first epoch ends (the app showed "starting" until then, issue #18).
    io.progress(0, `${data.n} patches ready; fitting ${kinds.join(', ') || 'the baselines'} (progress follows each epoch)`);
    const queue = optionalString(args, 'queue');
    const jobCtx = { signal: io.signal, progress: io.progress };
    // --queue: the same fits as units on the queue (main/queue/train-units.ts); lazily imported.
    const fit = queue
      ? async () => (await import('../../queue/train-units.ts')).crossValidateAndFitViaQueue(kinds, data, cvOptions, { url: queue, workDir: outDir, log: io.err }, jobCtx)
      : () => crossValidateAndFit(kinds, data, cvOptions, jobCtx);
    const results = kinds.length > 0 ? await fit() : new Map<string, ModelRunResult>();
    // RPCA of the stack's log10 values (unsupervised: no label enters it) for pc and the default index.
    let components: RobustComponents | undefined;
    const needRpca = baselines.includes('pc') || (baselines.includes('index') && !(indexElements && indexElements.length > 0));
    if (needRpca && transform === 'log10-standardize') {
      const rp = robustPca(stack, { transform: 'log10', maxSamples: 20_000, seed, biplotSamples: 0 });
      components = { center: rp.center, loadings: rp.loadings, explained: rp.explained };
      io.err(`robust PCA for the baselines: ${rp.mcd.cellsUsed} cells${rp.mcd.subsampled ? ' (seeded subsample)' : ''}, PC1 explains ${(100 * rp.explained[0]).toFixed(1)}%`);
    }
    const baselineFit = { bandNames: stack.bandNames, components, scaling: components ? { means: patches.stats.means, stds: patches.stats.stds } : undefined, indexElements };
    const baselineResults =
      baselines.length > 0
        ? crossValidateBaselines(
            baselines,
            data,
            baselineFit,
            cvOptions,
            { signal: io.signal, progress: io.progress },
          )
        : new Map<BaselineKind, BaselineRunResult>();
    const metrics: Record<string, unknown> = {};
    const models: RunManifest['models'] = {};
    const warnings: TrustWarning[] = [];
    const cvs = new Map<string, CrossValidationResult>();
    const line = (kind: string, cv: CrossValidationResult): void => {
      const m = cv.mean;
      io.out(
        `${kind.padEnd(7)} ${protocol} ${cvOptions.folds}-fold × ${cvOptions.repeats}: acc ${m.acc.toFixed(3)} ± ${cv.sd.acc.toFixed(3)}, ` +
          `AUC ${m.auc.toFixed(3)} ± ${cv.sd.auc.toFixed(3)} [${cv.ci95.auc[0].toFixed(3)}, ${cv.ci95.auc[1].toFixed(3)}], kappa ${m.kappa.toFixed(3)}, MCC ${m.mcc.toFixed(3)}, F1 ${m.f1.toFixed(3)}`,
      );
    };
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
        if (tuning) io.out(`${kind.padEnd(7)} tuned: final ${JSON.stringify(tuning.final)}; folds ${tuning.folds.map((f) => JSON.stringify(f.chosen)).join(' ')}`);
        const seedMembers = seeds > 1 ? await trainSeedMembers(r.final.kind, data, { ...cvOptions.train, ...(r.finalTuned?.chosen ?? {}) }, { seed, seeds, runDir: outDir }, { signal: io.signal, progress: io.progress }) : [];
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
        line(kind, r.cv);
        if (r.final.geology) {
          io.out(`${kind.padEnd(7)} geology term: a = [${r.final.geology.a.map((v) => v.toFixed(4)).join(', ')}], b = ${r.final.geology.b.toFixed(4)}${kept?.geologyShare !== undefined ? `, share of the loss ${(100 * kept.geologyShare).toFixed(1)}%` : ''} (epoch ${r.final.bestEpoch})`);
        }
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
      line(kind, r.cv);
      warnings.push(...trainingWarnings(kind, { cv: r.cv }));
    }
    for (const w of warnings) io.err(formatWarning(w));
    const order = comparisonOrder([...cvs.keys()]);
    const comparisons = compareModels(order.map((k) => [k, cvs.get(k) as CrossValidationResult] as const), data, { metric: 'auc', seed });
    if (comparisons.length > 0) metrics.comparisons = comparisons;
    for (const c of comparisons) io.out(formatComparison(c));
    if (holdout) metrics.holdout = await runHoldoutForTrain(holdout, { stack, sites, data, stats: patches.stats, networks: kinds, baselines, baselineFit, train: cvOptions.train, tuned: Object.fromEntries([...results].map(([k, r]) => [k, r.finalTuned?.chosen ?? {}])), seed, cvs }, io);
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
    io.out(`wrote ${join(outDir, METRICS_FILE)}, manifest.json and ${cvs.size} model(s) under ${join(outDir, 'models')}`);
    return 0;
  },
};
