import type { UnitsPerJob } from './batch-option.ts';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { GridSpec } from '../grid/grid-spec.ts';
import { InvalidOptionError } from '../errors.ts';
import { report, subJob, throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { checkKrigeOptions, type KrigeOptions } from '../kriging/krige-options.ts';
import { assembleKrigeResult, type KrigeResult } from '../kriging/krige-grid.ts';
import { PredictorCache, predictBlock, type BlockResult, type BlockTask, type PredictionData } from '../kriging/predict-block.ts';
import { prepareKriging, type SampleInput } from '../kriging/prepare-samples.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { hashInputs } from './input-hash.ts';
import { decodePlain, encodePlain } from './plain-codec.ts';
import { newRunId, runUnits } from './queue-client.ts';
import type { QueueUnit, UnitHandler } from './units.ts';

/**
 * Kriging through the queue: the units of krige-grid.ts (a block of grid rows of one neighbour
 * group of variables), each run by kriging-worker.ts' code (predictBlock with a PredictorCache),
 * and assembled here exactly as krigeGrid does. The prepared samples and variograms travel once
 * per run as a file on the shared storage (hashed). Blocks do not change the numbers (krigeGrid
 * gives the same bits for any thread count, tests/kriging/krige-grid.test.ts), so the result is
 * bit-identical to the local run.
 */
export interface KrigeBlockPayload {
  readonly inputPath: string;
  readonly task: BlockTask;
  /** Cells predicted between two yields to the event loop (see runKrigeBlockUnit). */
  readonly sliceCells: number;
}

let cached: { path: string; data: PredictionData; cache: PredictorCache } | null = null;

/** Worker side of a 'krige-block' unit. */
export const runKrigeBlockUnit: UnitHandler = async (payload, ctx) => {
  const p = payload as KrigeBlockPayload;
  if (cached?.path !== p.inputPath) {
    const data = decodePlain<PredictionData>(readFileSync(p.inputPath));
    cached = { path: p.inputPath, data, cache: new PredictorCache(data) };
  }
  const { data, cache } = cached;
  // predictBlock is synchronous; one call over a big block would hold the event loop for minutes,
  // so BullMQ could not renew the unit's lock (another worker would run it again) and the cancel
  // poll would not run. The block is predicted in slices with a yield between them. Rows do not
  // depend on the split (a fresh factorisation per row; krigeGrid is bit-identical for any thread
  // count), and slices have an even number of rows so each row keeps its serpentine direction.
  const { group, rowStart, rowEnd } = p.task;
  const rows = rowEnd - rowStart;
  const cols = data.grid.cols;
  const slice = Math.max(2, 2 * Math.ceil(p.sliceCells / cols / 2));
  let pred: Float32Array | null = null;
  let variance: Float32Array | null = null;
  let tooFew: number[] = [];
  for (let a = rowStart; a < rowEnd; a += slice) {
    throwIfCancelled(ctx, 'kriging');
    const b = Math.min(rowEnd, a + slice);
    const part = predictBlock(data, cache, { group, rowStart: a, rowEnd: b }, (f) => report(ctx, (a - rowStart + f * (b - a)) / rows, 'block'), () => throwIfCancelled(ctx, 'kriging'));
    const nf = part.tooFew.length;
    pred ??= new Float32Array(nf * rows * cols);
    variance ??= new Float32Array(nf * rows * cols);
    if (tooFew.length === 0) tooFew = new Array<number>(nf).fill(0);
    for (let f = 0; f < nf; f++) {
      // Field-major layout of BlockResult: (f·rows + (r − rowStart))·cols + c.
      pred.set(part.pred.subarray(f * (b - a) * cols, (f + 1) * (b - a) * cols), (f * rows + (a - rowStart)) * cols);
      variance.set(part.variance.subarray(f * (b - a) * cols, (f + 1) * (b - a) * cols), (f * rows + (a - rowStart)) * cols);
      tooFew[f] += part.tooFew[f];
    }
    await new Promise((res) => setImmediate(res));
  }
  return encodePlain({ group, rowStart, rowEnd, pred: pred ?? new Float32Array(0), variance: variance ?? new Float32Array(0), tooFew } satisfies BlockResult);
};

/** Cells predicted between two yields to the event loop in a worker's kriging unit. @default */
export const KRIGE_SLICE_CELLS = 20_000;

/** Units a kriging run is split into (about; at least one block per neighbour group). */
export const KRIGE_QUEUE_UNITS = 32;

export async function krigeGridViaQueue(
  input: SampleInput,
  grid: GridSpec,
  options: KrigeOptions,
  queue: { readonly url: string; readonly workDir: string; readonly log?: (line: string) => void; readonly attempts?: number; readonly units?: number; readonly sliceCells?: number; readonly batch?: UnitsPerJob },
  ctx?: JobContext,
): Promise<KrigeResult> {
  const o = checkKrigeOptions(options);
  if (!(grid.rows >= 1 && grid.cols >= 1)) throw new InvalidOptionError(`grid must have at least one cell, got ${grid.rows}×${grid.cols}`);
  const prepared = prepareKriging(input, o, subJob(ctx, 0, 0.05, 'variograms'));
  throwIfCancelled(ctx, 'kriging');
  const data: PredictionData = { origin: prepared.origin, x: prepared.x, y: prepared.y, groups: prepared.groups, options: o, grid };
  const nGroups = prepared.groups.length;
  const blocksPerGroup = Math.min(grid.rows, Math.max(1, Math.ceil((queue.units ?? KRIGE_QUEUE_UNITS) / nGroups)));
  const rowsPerBlock = Math.ceil(grid.rows / blocksPerGroup);
  const tasks: BlockTask[] = [];
  for (let g = 0; g < nGroups; g++) {
    for (let r = 0; r < grid.rows; r += rowsPerBlock) tasks.push({ group: g, rowStart: r, rowEnd: Math.min(grid.rows, r + rowsPerBlock) });
  }
  const runId = newRunId('krige');
  const dir = join(resolve(queue.workDir), `.queue-${runId}`);
  mkdirSync(dir, { recursive: true });
  try {
    const inputPath = join(dir, 'input.json');
    writeFileAtomic(inputPath, encodePlain(data));
    const inputs = await hashInputs([inputPath]);
    const units: QueueUnit<KrigeBlockPayload>[] = tasks.map((task, i) => ({
      runId,
      index: i,
      kind: 'krige-block',
      label: `krige group ${task.group} rows ${task.rowStart}–${task.rowEnd}`,
      inputs,
      resultPath: join(dir, `block-${i}.json`),
      payload: { inputPath, task, sliceCells: queue.sliceCells ?? KRIGE_SLICE_CELLS },
    }));
    await runUnits(queue.url, units, { label: 'kriging', log: queue.log, attempts: queue.attempts, batch: queue.batch ?? 1 }, subJob(ctx, 0.05, 1));
    const results = units.map((u) => decodePlain<BlockResult>(readFileSync(u.resultPath)));
    report(ctx, 1, 'kriging done');
    return assembleKrigeResult(input, grid, prepared, results, 1); // the assembly of krigeGrid
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
