import type { GridSpec } from '../grid/grid-spec.ts';
import { makeStack, type RasterStack } from '../grid/raster.ts';
import { InvalidOptionError } from '../errors.ts';
import type { JobContext } from '../jobs/job.ts';
import { report, subJob, throwIfCancelled } from '../jobs/job.ts';
import { cancelPoint } from '../jobs/cancel-point.ts';
import { runTasks } from '../jobs/worker-pool.ts';
import { checkKrigeOptions, type KrigeOptions } from './krige-options.ts';
import { PredictorCache, predictBlock, type BlockResult, type BlockTask, type PredictionData } from './predict-block.ts';
import { prepareKriging, type FieldModel, type PreparedKriging, type SampleInput } from './prepare-samples.ts';
import { moduleUrl } from '../util/module-url.ts';
import { assertGridSize } from './grid-size-limit.ts';

export interface KrigeResult {
  /** Predictions, one band per variable (back-transformed with `log`). NaN = too few neighbours. */
  readonly prediction: RasterStack;
  /** Kriging variances, one band per variable (on the log scale with `log`). */
  readonly variance: RasterStack;
  /** Model used per variable, with its fit when fitted. */
  readonly models: FieldModel[];
  /** Cells left NaN per variable because fewer than nmin points lay within maxDistM. */
  readonly cellsWithoutNeighbours: Record<string, number>;
  /** Samples merged into another at identical coordinates. */
  readonly mergedDuplicates: number;
  /** Worker threads used (1 = in the calling thread). */
  readonly threads: number;
}

const WORKER_URL = moduleUrl('./kriging-worker.ts', import.meta.url);
/** Rows per block when kriging on this thread (the cancel latency is one such block). */
const SINGLE_THREAD_BLOCK_ROWS = 8;

/**
 * Kriges every variable of `input` onto `grid` (cell centres), fitting a variogram per variable
 * unless fixed ones are given. Grid rows are split into blocks predicted on worker threads
 * (options.threads, default all cores), with progress and cancellation through `ctx`.
 */
export async function krigeGrid(input: SampleInput, grid: GridSpec, options: KrigeOptions = {}, ctx?: JobContext): Promise<KrigeResult> {
  const o = checkKrigeOptions(options);
  if (!(grid.rows >= 1 && grid.cols >= 1)) throw new InvalidOptionError(`grid must have at least one cell, got ${grid.rows}×${grid.cols}`);
  assertGridSize(grid);
  const prepared = prepareKriging(input, o, subJob(ctx, 0, 0.05, 'variograms'));
  throwIfCancelled(ctx, 'kriging');
  const data: PredictionData = { origin: prepared.origin, x: prepared.x, y: prepared.y, groups: prepared.groups, options: o, grid };
  const nGroups = prepared.groups.length;
  // Several blocks per thread so the threads finish together; every block shares the cached
  // neighbour factorisations within one thread.
  const blocksPerGroup = Math.min(grid.rows, Math.max(1, Math.ceil((o.threads * 4) / nGroups)));
  // On one thread the blocks run synchronously here, and a cancel can only arrive between
  // them (cancelPoint yields): blocks of at most SINGLE_THREAD_BLOCK_ROWS rows keep Ctrl-C
  // responsive. Rows are independent and share one cache, so the numbers do not change.
  const rowsPerBlock = o.threads <= 1 ? Math.min(SINGLE_THREAD_BLOCK_ROWS, Math.ceil(grid.rows / blocksPerGroup)) : Math.ceil(grid.rows / blocksPerGroup);
  const tasks: BlockTask[] = [];
  for (let g = 0; g < nGroups; g++) {
    for (let r = 0; r < grid.rows; r += rowsPerBlock) tasks.push({ group: g, rowStart: r, rowEnd: Math.min(grid.rows, r + rowsPerBlock) });
  }
  const predJob = subJob(ctx, 0.05, 1);
  let results: BlockResult[];
  const threads = Math.min(o.threads, tasks.length);
  if (threads <= 1) {
    const cache = new PredictorCache(data);
    results = [];
    for (let t = 0; t < tasks.length; t++) {
      await cancelPoint(ctx, 'kriging');
      results.push(
        predictBlock(data, cache, tasks[t], (f) => report(predJob, (t + f) / tasks.length, `${Math.round((100 * (t + f)) / tasks.length)}%`), () => throwIfCancelled(ctx, 'kriging')),
      );
    }
  } else {
    results = await runTasks<BlockTask, BlockResult>(WORKER_URL, tasks, { threads, workerData: data, label: 'kriging' }, predJob);
  }
  report(ctx, 1, 'kriging done');
  return assembleKrigeResult(input, grid, prepared, results, Math.max(1, threads));
}

/**
 * The kriged stacks from the row blocks of every field group, in any order: shared by the local
 * path above and the queue's assembly (main/queue/krige-units.ts), so both give the same bits.
 */
export function assembleKrigeResult(input: SampleInput, grid: GridSpec, prepared: PreparedKriging, results: readonly BlockResult[], threads: number): KrigeResult {
  const nf = input.fields.length;
  const cells = grid.rows * grid.cols;
  const pred = Array.from({ length: nf }, () => new Float32Array(cells));
  const vars = Array.from({ length: nf }, () => new Float32Array(cells));
  const tooFew = new Array<number>(nf).fill(0);
  for (const r of results) {
    const g = prepared.groups[r.group];
    const rows = r.rowEnd - r.rowStart;
    g.fields.forEach((f, k) => {
      const from = k * rows * grid.cols;
      pred[f.fieldIndex].set(r.pred.subarray(from, from + rows * grid.cols), r.rowStart * grid.cols);
      vars[f.fieldIndex].set(r.variance.subarray(from, from + rows * grid.cols), r.rowStart * grid.cols);
      tooFew[f.fieldIndex] += r.tooFew[k];
    });
  }
  const names = input.fields.map((f) => f.name);
  return {
    prediction: makeStack(grid, names, pred, input.source),
    variance: makeStack(grid, names.slice(), vars, input.source),
    models: prepared.fieldModels,
    cellsWithoutNeighbours: Object.fromEntries(names.map((n, i) => [n, tooFew[i]])),
    mergedDuplicates: prepared.mergedDuplicates,
    threads,
  };
}
