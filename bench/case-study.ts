/**
 * The GK-DCN case study on ../shared/data/tianshan-gkdcn (southern Tianshan Au–Cu district):
 * the four networks and the four baselines under grouped (by-site) k-fold CV, or under the
 * reference code's leaky random-patch protocol, with a chosen training recipe and engine. Output
 * feeds the tables in docs/gk-dcn.md.
 *
 *   npx tsx bench/case-study.ts --protocol grouped --models all,baselines --repeats 5 --engine onnx \
 *     --epochs 60 --min-epochs 10 --lr-schedule cosine --augment dihedral --out .tmp/case-grouped.json
 *   (same flags) --repeat-from 3 --models all --out .tmp/case-grouped-b.json   a second process for repeats 3…
 *   npx tsx bench/case-study.ts --table .tmp/case-grouped.json [more files of the same run]
 *   npx tsx bench/case-study.ts --compare-recipes new.json,new-b.json default.json,default-b.json
 *   (recipes) --stop-on smoothed | --patience 5 | --validation-fraction 0 --tune epochs=10,30,60 --inner-folds 3
 *
 * Data handling (see ../shared/data/README.md): 39 element grids log10-transformed and
 * standardised with whole-grid statistics; deposits = cells of label/Au_deposits0.tif equal to 1,
 * negatives = cells of label/non_deposits.tif equal to 0 (inverted coding), both paired with
 * the element grid by array index (0,0) as the authors did; 3×3 blocks; w = geology_weights.tif
 * paired by index the same way, read at each sample's own centre cell. The baselines get the
 * robust PCA of the stack's log10 values (unsupervised), as `train` gives them.
 *
 * Order of work: the baselines (fast) for every repeat, then repeat by repeat every network's
 * folds, so a partial run holds whole repeats of all models (the paired comparisons need the
 * same folds for both models). Every fold is written to --out as soon as it is done; a rerun
 * with the same --out skips the folds already there (resume), and refuses a file made with
 * other settings. The table pairs models on the (repeat, fold) cells that every model has.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readGeoTiff, readStack } from '../main/io/geotiff-read.ts';
import { buildSites } from '../main/sites/build-sites.ts';
import { bandOnGridByIndex, cellsFromLabelRaster } from '../main/sites/label-cells.ts';
import { extractPatches } from '../main/sites/patches.ts';
import { initBackend, type BackendPreference } from '../main/models/backend.ts';
import { trainingDataFrom, type TrainEngine, type TrainingData, type TrainOptions } from '../main/models/train.ts';
import {
  checkCrossValidationOptions,
  crossValidateBaselines,
  evaluateFold,
  foldsFor,
  METRIC_NAMES,
  scoredFolds,
  summarizeFolds,
  trainSeedFor,
  type CvProtocol,
  type FoldResult,
} from '../main/models/cross-validate.ts';
import { parseModelList } from '../main/models/baselines/model-list.ts';
import { parseAugmentations } from '../main/models/augment.ts';
import { parseLrSchedule } from '../main/models/lr-schedule.ts';
import { parseStopOn } from '../main/models/stopping.ts';
import { parseTune } from '../main/workflows/train.ts';
import { robustPca } from '../main/eval/robust-pca.ts';
import { comparisonRecord, formatComparison, pairedSiteBootstrap, type Comparison } from '../main/eval/bootstrap.ts';
import { writeJsonAtomic } from '../main/util/atomic-write.ts';
import { summarize } from '../main/eval/folds.ts';
import type { RasterStack } from '../main/grid/raster.ts';
import type { TransformStats } from '../main/sites/band-transform.ts';

const DATA = new URL('../../shared/data/tianshan-gkdcn/', import.meta.url);
const NETWORKS = ['cnn', 'dcn', 'gk-cnn', 'gk-dcn'];

export async function loadTianshan(options: { readonly shiftRadius?: number } = {}): Promise<{
  data: TrainingData;
  summary: Record<string, unknown>;
  stack: RasterStack;
  stats: TransformStats;
}> {
  const stack = await readStack(new URL('elements', DATA).pathname);
  const align = { rows: 0, cols: 0 };
  const deposits = cellsFromLabelRaster(stack.grid, await readGeoTiff(new URL('label/Au_deposits0.tif', DATA).pathname), { value: 1, alignByIndex: align, role: 'deposit' });
  const negatives = cellsFromLabelRaster(stack.grid, await readGeoTiff(new URL('label/non_deposits.tif', DATA).pathname), { value: 0, alignByIndex: align, role: 'negative' });
  const { set, summary } = buildSites(stack.grid, { depositCells: deposits.cells, negatives: { kind: 'user', cells: negatives.cells } });
  const w = await readGeoTiff(new URL('geology_weights.tif', DATA).pathname);
  const wOnGrid = bandOnGridByIndex(stack.grid, w.grid, w.bands[0], align);
  const patches = extractPatches(stack, set, {
    size: 9,
    transform: 'log10-standardize',
    knowledge: [wOnGrid],
    knowledgeNames: ['fault_weight'],
    ...(options.shiftRadius ? { shiftRadius: options.shiftRadius } : {}),
  });
  return {
    data: trainingDataFrom(patches),
    summary: { ...summary, clipped: patches.clipped.filter(Boolean).length, groups: new Set(patches.groupIds).size, bands: patches.bandNames.length },
    stack,
    stats: patches.stats,
  };
}

/** A fold as stored in the --out file: FoldResult without the ROC curve, plus its wall time. */
type StoredFold = Omit<FoldResult, 'roc'> & { readonly seconds?: number };
interface RunFile {
  readonly protocol: string;
  readonly options: Record<string, unknown>;
  readonly backend: string;
  readonly data?: Record<string, unknown>;
  /** Labels and fold groups of the samples (for the site bootstrap of --table). */
  readonly labels?: number[];
  readonly siteIds?: string[];
  readonly models: Record<string, { folds: StoredFold[] }>;
}

const cellKey = (f: Pick<FoldResult, 'repeat' | 'fold'>): string => `${f.repeat}/${f.fold}`;

function table(files: string[], maxRepeats: number): void {
  const fmt = (m: number, s: number): string => `${m.toFixed(3)} ± ${s.toFixed(3)}`;
  // Runs of one protocol split over several files (models or repeats run in parallel) are merged.
  const byProtocol = new Map<string, RunFile>();
  for (const f of files) {
    const r = JSON.parse(readFileSync(f, 'utf8')) as RunFile;
    const prev = byProtocol.get(r.protocol);
    if (!prev) {
      byProtocol.set(r.protocol, r);
      continue;
    }
    const models = { ...prev.models };
    for (const [k, v] of Object.entries(r.models)) {
      const have = new Set((models[k]?.folds ?? []).map(cellKey));
      models[k] = { folds: [...(models[k]?.folds ?? []), ...v.folds.filter((x) => !have.has(cellKey(x)))] };
    }
    byProtocol.set(r.protocol, { ...prev, labels: prev.labels ?? r.labels, siteIds: prev.siteIds ?? r.siteIds, models });
  }
  for (const run of byProtocol.values()) {
    // Only the (repeat, fold) cells every model has: the comparisons are paired.
    const kinds = Object.keys(run.models);
    const common = kinds
      .map((k) => new Set(run.models[k].folds.filter((x) => x.repeat < maxRepeats).map(cellKey)))
      .reduce((a, b) => new Set([...a].filter((x) => b.has(x))));
    const foldsOf = (k: string): FoldResult[] =>
      run.models[k].folds
        .filter((x) => common.has(cellKey(x)))
        .sort((a, b) => a.repeat - b.repeat || a.fold - b.fold)
        .map((x) => ({ ...x, roc: { fpr: [], tpr: [], thresholds: [] } }) as unknown as FoldResult);
    const repeats = new Set([...common].map((c) => c.split('/')[0])).size;
    const data = run.labels && run.siteIds ? { labels: run.labels, siteIds: run.siteIds } : undefined;
    console.log(`\n${run.protocol} protocol — ${JSON.stringify(run.options)} — backend ${run.backend}`);
    console.log(`${common.size} test folds common to all models (${repeats} repeats)\n`);
    console.log(`| model | folds | ${METRIC_NAMES.join(' | ')} | AUC 95 % CI (site bootstrap) | kept epoch (median, range) | a, b (mean) |`);
    console.log(`|---|---|${METRIC_NAMES.map(() => '---').join('|')}|---|---|---|`);
    for (const kind of kinds) {
      const folds = foldsOf(kind);
      const s = summarizeFolds(folds, repeats, data);
      const kept = folds.map((f) => f.bestEpoch).sort((a, b) => a - b);
      const keptCell = NETWORKS.includes(kind) ? `${kept[Math.floor(kept.length / 2)]} (${kept[0]}–${kept[kept.length - 1]})` : '–';
      const geo = folds.filter((f) => f.geology);
      const geoCell =
        geo.length > 0 ? `${summarize(geo.map((f) => f.geology!.a[0])).mean.toFixed(3)}, ${summarize(geo.map((f) => f.geology!.b)).mean.toFixed(3)}` : '–';
      console.log(
        `| ${kind} | ${folds.length} | ${METRIC_NAMES.map((m) => fmt(s.mean[m], s.sd[m])).join(' | ')} | [${s.ci95.auc[0].toFixed(3)}, ${s.ci95.auc[1].toFixed(3)}] | ${keptCell} | ${geoCell} |`,
      );
    }
    if (!data) {
      console.log('\n(no labels in the file: no paired comparisons)');
      continue;
    }
    const mean = (k: string): number => summarize(foldsOf(k).map((f) => f.metrics.auc)).mean;
    const baselines = kinds.filter((k) => !NETWORKS.includes(k));
    const best = baselines.length > 0 ? baselines.reduce((a, b) => (mean(b) > mean(a) ? b : a)) : undefined;
    const comparisons: Comparison[] = [];
    for (const a of kinds.filter((k) => NETWORKS.includes(k))) {
      for (const b of ['cnn', ...(best ? [best] : [])]) {
        if (a === b || !kinds.includes(b)) continue;
        const d = pairedSiteBootstrap(scoredFolds(foldsOf(a), data), scoredFolds(foldsOf(b), data), 'auc', { replicates: 1000, seed: 1 });
        comparisons.push(comparisonRecord(a, b, 'auc', d));
      }
    }
    console.log(`\nPaired site bootstrap over the ${common.size} common folds (1000 replicates, seed 1); best baseline by mean AUC: ${best ?? 'none'}\n`);
    for (const c of comparisons) console.log(`- ${formatComparison(c)}`);
  }
}

/** Merged runs of one recipe (several files = processes that split the repeats). */
function loadRuns(files: string[]): RunFile {
  const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as RunFile);
  const models: RunFile['models'] = {};
  for (const r of runs) {
    for (const [k, v] of Object.entries(r.models)) {
      const have = new Set((models[k]?.folds ?? []).map(cellKey));
      models[k] = { folds: [...(models[k]?.folds ?? []), ...v.folds.filter((x) => !have.has(cellKey(x)))] };
    }
  }
  return { ...runs[0], models };
}

/** Two recipes on the same folds (same seed, folds, repeats): paired site bootstrap of each network's AUC, first − second. */
function compareRecipes(first: string[], second: string[]): void {
  const a = loadRuns(first);
  const b = loadRuns(second);
  if (!a.labels || !a.siteIds) throw new Error('the first run has no labels: re-run it with this version');
  const data = { labels: a.labels, siteIds: a.siteIds };
  const sorted = (f: StoredFold[], keep: Set<string>): FoldResult[] =>
    f.filter((x) => keep.has(cellKey(x))).sort((x, y) => x.repeat - y.repeat || x.fold - y.fold) as unknown as FoldResult[];
  for (const k of NETWORKS) {
    if (!a.models[k] || !b.models[k]) continue;
    const inB = new Set(b.models[k].folds.map(cellKey));
    const common = new Set(a.models[k].folds.map(cellKey).filter((c) => inB.has(c)));
    const d = pairedSiteBootstrap(scoredFolds(sorted(a.models[k].folds, common), data), scoredFolds(sorted(b.models[k].folds, common), data), 'auc', { replicates: 1000, seed: 1 });
    console.log(`${k} (${common.size} folds): ${formatComparison(comparisonRecord(`${k} first`, `${k} second`, 'auc', d))}`);
  }
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    protocol: { type: 'string', default: 'grouped' },
    models: { type: 'string', default: 'all,baselines' },
    folds: { type: 'string', default: '5' },
    repeats: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    epochs: { type: 'string', default: '60' },
    patience: { type: 'string', default: '15' },
    'validation-fraction': { type: 'string', default: '0.2' },
    'min-epochs': { type: 'string', default: '1' },
    'lr-schedule': { type: 'string', default: 'none' },
    // raw | smoothed (main/models/stopping.ts); recorded in the run file only when given.
    'stop-on': { type: 'string' },
    // Nested tuning as `train --tune` (e.g. --validation-fraction 0 --tune epochs=10,30,60), repeatable.
    tune: { type: 'string', multiple: true },
    'inner-folds': { type: 'string', default: '3' },
    augment: { type: 'string', default: 'none' },
    'noise-sd': { type: 'string', default: '0.1' },
    'shift-radius': { type: 'string', default: '1' },
    lr: { type: 'string', default: '0.001' },
    lambda: { type: 'string', default: '1' },
    engine: { type: 'string', default: 'onnx' },
    backend: { type: 'string', default: 'auto' },
    out: { type: 'string' },
    table: { type: 'boolean', default: false },
    // --compare-recipes A.json[,A-b.json] B.json[,B-b.json]: the networks of two recipes on the same folds.
    'compare-recipes': { type: 'boolean', default: false },
    'max-repeats': { type: 'string', default: '1000' },
    // A second process on the same settings can take the later repeats (its own --out; --table merges).
    'repeat-from': { type: 'string', default: '0' },
  },
});

if (values.table) {
  table(positionals, Number(values['max-repeats']));
} else if (values['compare-recipes']) {
  compareRecipes(positionals[0].split(','), positionals[1].split(','));
} else {
  const be = await initBackend(values.backend as BackendPreference);
  const augment = parseAugmentations(values.augment);
  const { data, summary, stack, stats } = await loadTianshan({ shiftRadius: augment.includes('shift') ? Number(values['shift-radius']) : 0 });
  console.log(`backend ${be.detail}; ${data.n} patches, ${JSON.stringify(summary)}`);
  const protocol = values.protocol as CvProtocol;
  const train: TrainOptions = {
    epochs: Number(values.epochs),
    patience: Number(values.patience),
    validationFraction: Number(values['validation-fraction']),
    minEpochs: Number(values['min-epochs']),
    ...(values['stop-on'] !== undefined ? { stopOn: parseStopOn(values['stop-on']) } : {}),
    lrSchedule: parseLrSchedule(values['lr-schedule']),
    augment,
    noiseSd: Number(values['noise-sd']),
    learningRate: Number(values.lr),
    lambda: Number(values.lambda),
    engine: values.engine as TrainEngine,
  };
  const tune = parseTune(values.tune ?? []);
  const options = {
    folds: Number(values.folds),
    repeats: Number(values.repeats),
    seed: Number(values.seed),
    protocol,
    train,
    ...(Object.keys(tune).length > 0 ? { tune, innerFolds: Number(values['inner-folds']) } : {}),
  };
  const o = checkCrossValidationOptions(options);
  const { networks, baselines } = parseModelList(values.models);
  const out = values.out ?? `.tmp/case-${protocol}.json`;
  const prev = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as RunFile) : undefined;
  const recorded = { ...options, shiftRadius: augment.includes('shift') ? Number(values['shift-radius']) : 0 };
  if (prev && JSON.stringify(prev.options) !== JSON.stringify(recorded)) {
    throw new Error(`${out} was made with other settings (${JSON.stringify(prev.options)}); give another --out`);
  }
  const run: RunFile = {
    protocol,
    options: recorded,
    backend: be.detail,
    data: summary,
    labels: Array.from(data.labels),
    siteIds: [...data.siteIds],
    models: prev?.models ?? {},
  };
  const save = (): void => writeJsonAtomic(out, run);
  const stored = (f: FoldResult, seconds: number): StoredFold => {
    const { roc: _roc, ...rest } = f;
    return { ...rest, seconds };
  };
  if (baselines.length > 0 && Number(values['repeat-from']) === 0) {
    const t0 = performance.now();
    const rp = robustPca(stack, { transform: 'log10', maxSamples: 20_000, seed: o.seed, biplotSamples: 0 });
    const components = { center: rp.center, loadings: rp.loadings, explained: rp.explained };
    const res = crossValidateBaselines(baselines, data, { bandNames: stack.bandNames, components, scaling: { means: stats.means, stds: stats.stds } }, options);
    const seconds = (performance.now() - t0) / 1000 / Math.max(1, baselines.length * o.folds * o.repeats);
    for (const [kind, r] of res) {
      run.models[kind] = { folds: r.cv.folds.map((f) => stored(f, seconds)) };
      console.log(`${kind} ${protocol}: AUC ${r.cv.mean.auc.toFixed(3)} ± ${r.cv.sd.auc.toFixed(3)}`);
    }
    save();
  }
  for (let r = Number(values['repeat-from']); r < o.repeats; r++) {
    const split = foldsFor(data, o, r);
    for (const kind of networks) {
      const have = new Set((run.models[kind]?.folds ?? []).map(cellKey));
      for (let f = 0; f < split.length; f++) {
        if (have.has(`${r}/${f}`)) continue;
        const t0 = performance.now();
        const res = await evaluateFold(kind, data, { repeat: r, fold: f, train: split[f].train, test: split[f].test, trainSeed: trainSeedFor(o.seed, r, f) }, o);
        const seconds = (performance.now() - t0) / 1000;
        run.models[kind] = { folds: [...(run.models[kind]?.folds ?? []), stored(res, seconds)] };
        save();
        console.log(`${kind} repeat ${r} fold ${f}: AUC ${res.metrics.auc.toFixed(3)}, kept epoch ${res.bestEpoch}${res.stoppedEarly ? ' (stopped early)' : ''}${res.geology ? `, a ${res.geology.a[0].toFixed(3)} b ${res.geology.b.toFixed(3)}` : ''} (${seconds.toFixed(1)} s)`);
      }
    }
  }
}
