import { basename } from 'node:path';
import type { GridSpec } from '../grid/grid-spec.ts';
import type { RasterStack } from '../grid/raster.ts';
import { readVector } from '../io/vector.ts';
import type { SiteSet } from '../sites/site-blocks.ts';
import type { TransformStats } from '../sites/band-transform.ts';
import type { TrainingData, TrainOptions } from '../models/train.ts';
import { trainModel } from '../models/train.ts';
import type { ModelKind } from '../models/architectures.ts';
import { baselineScorer, fitBaseline, type BaselineFitContext, type BaselineKind } from '../models/baselines/baseline-models.ts';
import { modelClassifier } from '../maps/run-models.ts';
import { predictMap, type NamedClassifier } from '../maps/predict-map.ts';
import type { StackSource } from '../maps/stack-source.ts';
import { report, subJob, throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { assertUsableSplit, holdoutRecord, holdoutSplit, regionCells, scoreHeldOut, spatialBlocks, HoldoutRegionError, type HeldOutScore, type HoldoutModelRecord, type HoldoutRegion, type HoldoutSpec, type HoldoutSplit } from '../eval/region-holdout.ts';

/**
 * Region hold-out at map level (region-holdout.ts has the rules): for each held-out region,
 * every requested model is trained on the samples of the other regions only, the WHOLE grid is
 * predicted with it (the same windows, transform and nodata rules as `predict`), and the
 * region's deposits are scored on that map. Networks train with the run's own options and seed;
 * baselines are fitted with the run's fit context.
 */

/** The in-memory stack as predictMap's row source (the stack is already read by train). */
export function memoryStackSource(stack: RasterStack): StackSource {
  const { cols } = stack.grid;
  return {
    path: stack.source ?? 'stack',
    grid: stack.grid,
    bandNames: [...stack.bandNames],
    readRows: async (r0, r1, bands) => bands.map((b) => stack.bands[b].slice(r0 * cols, r1 * cols)),
    close: async () => {},
  };
}

export interface HoldoutRunInput {
  readonly stack: RasterStack;
  readonly sites: SiteSet;
  readonly data: TrainingData;
  /** The run's transform statistics (whole-grid, unsupervised: no label enters them). */
  readonly stats: TransformStats;
  readonly networks: readonly ModelKind[];
  readonly baselines: readonly BaselineKind[];
  readonly baselineFit: BaselineFitContext;
  readonly train: TrainOptions;
  /** Per network, settings chosen by nested tuning (train --tune) for its final model; applied to its hold-out models too. @default none */
  readonly tuned?: Readonly<Record<string, Partial<TrainOptions>>>;
  readonly seed: number;
  readonly regions: readonly HoldoutRegion[];
  /** The flag quoted in errors (--holdout-region / --holdout-blocks). */
  readonly flag: string;
  /** Called with each split before training (the CLI logs it; tests check the split). */
  readonly onSplit?: (split: HoldoutSplit) => void;
  /** Called with each region's full-map probabilities, one per model in `names` order (tests recompute the AUC). */
  readonly onMaps?: (split: HoldoutSplit, names: readonly string[], maps: readonly Float32Array[]) => void;
}

export interface HoldoutRunResult {
  readonly models: Record<string, HoldoutModelRecord>;
  readonly splits: HoldoutSplit[];
}

export async function runRegionHoldout(input: HoldoutRunInput, ctx?: JobContext): Promise<HoldoutRunResult> {
  const { data, sites, stack } = input;
  const splits = input.regions.map((r) => holdoutSplit(sites, r));
  for (const s of splits) assertUsableSplit(s, data.labels, input.flag);
  const names = [...input.networks, ...input.baselines];
  const scores = new Map<string, HeldOutScore[]>(names.map((n) => [n, []]));
  const source = memoryStackSource(stack);
  for (const [si, split] of splits.entries()) {
    input.onSplit?.(split);
    const step = subJob(ctx, si / splits.length, (si + 1) / splits.length, `hold-out ${split.region}`);
    const disposers: (() => void)[] = [];
    try {
      const classifiers: NamedClassifier[] = [];
      for (const [m, kind] of input.networks.entries()) {
        throwIfCancelled(ctx, 'region hold-out');
        const trained = await trainModel(kind, data, split.trainIdx, { ...input.train, ...(input.tuned?.[kind] ?? {}), seed: input.seed }, subJob(step, m / (names.length + 1), (m + 1) / (names.length + 1), kind));
        disposers.push(() => trained.model.dispose());
        classifiers.push(modelClassifier(kind, trained.model, data.patchSize, data.channels));
      }
      for (const kind of input.baselines) {
        const scorer = baselineScorer(fitBaseline(kind, data, split.trainIdx, { ...input.baselineFit, seed: input.seed }));
        classifiers.push({ name: kind, classify: (x, n) => scorer.score(x, n, data.patchSize, data.channels) });
      }
      const cells = stack.grid.rows * stack.grid.cols;
      const maps = classifiers.map(() => new Float32Array(cells).fill(NaN));
      await predictMap(
        source,
        classifiers,
        { window: data.patchSize, bandNames: stack.bandNames, stats: input.stats },
        (rowStart, probs) => probs.forEach((p, m) => maps[m].set(p, rowStart * stack.grid.cols)),
        subJob(step, names.length / (names.length + 1), 1, 'full-map prediction'),
      );
      input.onMaps?.(split, classifiers.map((c) => c.name), maps);
      classifiers.forEach((c, m) => scores.get(c.name)?.push(scoreHeldOut(maps[m], split)));
    } finally {
      for (const d of disposers) d();
    }
    report(ctx, (si + 1) / splits.length, `hold-out ${split.region}: ${split.depositCells.length} deposit(s) scored`);
  }
  const models: Record<string, HoldoutModelRecord> = {};
  for (const [name, s] of scores) models[name] = holdoutRecord(s, input.seed);
  return { models, splits };
}

/** The held-out regions of a spec on the stack's grid (a polygon file is reprojected into the grid's CRS). */
export async function holdoutRegions(spec: HoldoutSpec, grid: GridSpec): Promise<HoldoutRegion[]> {
  if (spec.kind === 'blocks') return spatialBlocks(grid, spec.blocks);
  const layer = await readVector(spec.path, grid.crs ? { targetCrs: grid.crs } : {});
  const cells = regionCells(grid, layer.features, spec.path);
  if (!cells.some((v) => v === 1)) {
    throw new HoldoutRegionError(`${spec.path}: the hold-out polygon covers no cell centre of the ${grid.rows}×${grid.cols} grid. Check its CRS (the grid is in ${grid.crs?.name ?? 'an undeclared CRS'}) and extent.`, { file: spec.path });
  }
  return [{ name: basename(spec.path), cells }];
}

/** One CLI line per model: the hold-out AUC beside the grouped CV's. */
export function formatHoldout(name: string, r: HoldoutModelRecord, cvAuc?: number): string {
  const f = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(3));
  const ci = (c: [number, number] | null): string => (c ? ` [${c[0].toFixed(3)}, ${c[1].toFixed(3)}]` : '');
  return `${name.padEnd(7)} region hold-out: map AUC ${f(r.auc)}${ci(r.ci95)} (in region ${f(r.aucInRegion)}${ci(r.ci95InRegion)}) at ${r.deposits} held-out deposit(s)` + (cvAuc !== undefined ? `; grouped CV AUC ${cvAuc.toFixed(3)}` : '');
}
