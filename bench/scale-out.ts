/**
 * Benchmark (not a test): scale-out through the Redis queue (BullMQ) against the local engine.
 *
 *  1. Prediction of a synthetic --rows × --cols × --bands stack (default 3,000 × 3,000 × 39, the
 *     issue's national-scale case; --rows R predicts R rows of the full width, which has the same
 *     memory per tile, in a fraction of the time) with the --model network (random-initialised
 *     real architecture; timing does not depend on weights): locally (predictRunToGeoTiff, 1 and 2
 *     worker threads) and through a real redis-server with 1 and 2 `geoanomaly worker` processes
 *     on this machine. Prints windows/s, the ratio to the local run with as many threads, the
 *     queue overhead per unit (W·wall − Σ unit times) / units (unit times measured by the workers:
 *     model loading of each worker's first unit included), its breakdown (overheadBreakdown), and
 *     the peak RSS of every worker (its own VmHWM, main/queue/peak-rss.ts: reported with each unit
 *     and read from /proc/PID/status by this script; not ru_maxrss, which a child inherits from
 *     this big process). Checks that the
 *     queue's GeoTIFF is byte-identical to the local one.
 *  2. A training sweep: --sweep trainings (tiny epochs, tiny networks, synthetic patches: folds ×
 *     repeats × 2 models + 2 final models) locally on one thread and through the queue with 1 and
 *     2 warm workers (after a warm-up run: tfjs loaded), for each --batch (units per BullMQ job: 1,
 *     or auto = sized from the probed unit time, queue-client.ts planBatches); overhead per unit ≈
 *     (W·wall_queue − wall_local) / units, and from the receipts (W·wall − Σ unit) / units.
 *
 *   npx tsx bench/scale-out.ts [--rows 3000] [--cols 3000] [--bands 39] [--model cnn] [--engine auto|tfjs|onnx]
 *     [--workers 1,2] [--sweep 200] [--epochs 1] [--batch 1,auto] [--skip-predict] [--skip-sweep]
 *
 * The machine may be shared: wall times swing with other jobs; run it on an idle machine for figures.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GeoTiffWriter } from '../main/io/geotiff-write.ts';
import { initBackend } from '../main/models/backend.ts';
import type { TransformStats } from '../main/sites/band-transform.ts';
import { predictRunToGeoTiff } from '../main/maps/parallel-predict.ts';
import { resolveEngine, type EnginePreference } from '../main/onnx/onnx-run.ts';
import { crossValidateAndFit, summarizeFolds } from '../main/models/cross-validate.ts';
import { predictRunToGeoTiffViaQueue } from '../main/queue/predict-units.ts';
import { crossValidateAndFitViaQueue } from '../main/queue/train-units.ts';
import { crsFromEpsg } from '../main/grid/crs.ts';
import type { GridSpec } from '../main/grid/grid-spec.ts';
import type { ModelKind } from '../main/models/architectures.ts';
import { Rng } from '../main/util/rng.ts';
import { writeRandomRun } from '../tests/maps/random-run.ts';
import { TINY, toyData } from '../tests/models/toy-data.ts';
import { startRedis, type RedisHarness, type WorkerChild } from '../tests/helpers/redis-server.ts';
import { peakRssOfPidKB } from '../main/queue/peak-rss.ts';
import type { UnitReceipt } from '../main/queue/units.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '3000' },
    cols: { type: 'string', default: '3000' },
    bands: { type: 'string', default: '39' },
    model: { type: 'string', default: 'cnn' },
    engine: { type: 'string', default: 'auto' },
    workers: { type: 'string', default: '1,2' },
    sweep: { type: 'string', default: '200' },
    epochs: { type: 'string', default: '1' },
    batch: { type: 'string', default: '1,auto' },
    'skip-predict': { type: 'boolean', default: false },
    'skip-sweep': { type: 'boolean', default: false },
  },
});
const ARCH = { patchSize: 9, stemFilters: 32, stageFilters: [32, 64], denseUnits: 64 };
const workerCounts = values.workers.split(',').map(Number);
const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;

let current: WorkerChild[] = [];
const workerPids = (): number[] => current.map((w) => w.child.pid ?? 0);

/**
 * Where the queue's time goes, from the workers' receipts (one machine, one clock): the command's
 * lead (planning, hashing the inputs, enqueueing: workers idle), the gaps between a worker's units
 * (BullMQ: complete + fetch the next), each unit's Redis prep, input check and result write, the
 * first unit's model load (ONNX export, sessions), the idle tail of workers that finished early,
 * and the command's assembly after the last unit. All in ms per unit, and the worker-side part
 * (prep + check + write + gaps) as a share of the mean compute time of a unit.
 */
function overheadBreakdown(receipts: readonly UnitReceipt[], t0: number, t1: number, n: number, sharedTailMs = 0): string {
  const rs = receipts.filter((x) => x.phases && x.startedAt !== undefined && x.endedAt !== undefined);
  if (rs.length === 0) return '  (no phases in the receipts)';
  const U = rs.length;
  const sum = (f: (x: UnitReceipt) => number): number => rs.reduce((a, x) => a + f(x), 0);
  const byWorker = new Map<string, UnitReceipt[]>();
  for (const x of rs) byWorker.set(x.worker, [...(byWorker.get(x.worker) ?? []), x]);
  let gaps = 0;
  let load = 0;
  let idleTail = 0;
  const lastEnd = Math.max(...rs.map((x) => x.endedAt as number));
  const firstStart = Math.min(...rs.map((x) => x.startedAt as number));
  const runs: number[] = [];
  for (const list of byWorker.values()) {
    list.sort((a, b) => (a.startedAt as number) - (b.startedAt as number));
    for (let i = 1; i < list.length; i++) gaps += (list[i].startedAt as number) - (list[i - 1].endedAt as number);
    idleTail += lastEnd - (list.at(-1)?.endedAt as number);
    runs.push(...list.slice(1).map((x) => x.phases?.runMs ?? 0));
    // A worker's first unit loads the models: its excess over the mean of its other units.
    if (list.length > 1) load += (list[0].phases?.runMs ?? 0) - list.slice(1).reduce((a, x) => a + (x.phases?.runMs ?? 0), 0) / (list.length - 1);
  }
  const compute = runs.length > 0 ? runs.reduce((a, b) => a + b, 0) / runs.length : sum((x) => x.phases?.runMs ?? 0) / U;
  const prep = sum((x) => x.phases?.prepMs ?? 0) / U;
  const check = sum((x) => x.phases?.checkMs ?? 0) / U;
  const write = sum((x) => x.phases?.writeMs ?? 0) / U;
  const gap = gaps / U;
  const workerSide = prep + check + write + gap;
  const f = (v: number): string => v.toFixed(1);
  // The command's tail also holds work the local run does as well (the sweep's fold summaries with
  // their bootstrap intervals, timed by the caller): only the rest is queue cost.
  const lead = (n * (firstStart - t0)) / U;
  const tail = (n * (t1 - lastEnd)) / U;
  const shared = (n * sharedTailMs) / U;
  const queueOnly = workerSide + lead + idleTail / U + Math.max(0, tail - shared);
  const sharedText = sharedTailMs > 0 ? `, of which ${f(shared)} the fold summaries the local run computes too; queue cost all in (worker side + lead + idle + the rest of the tail) ${f(queueOnly)} (${((100 * queueOnly) / compute).toFixed(1)}% of compute)` : '';
  return (
    `  per unit (ms): compute ${f(compute)}; worker side: Redis prep ${f(prep)}, input check ${f(check)}, result write ${f(write)}, gap between units ${f(gap)} ` +
    `→ ${f(workerSide)} (${((100 * workerSide) / compute).toFixed(1)}% of compute); model load on first units ${f(load / U)}; ` +
    `command lead (plan, hash, enqueue) ${f((n * (firstStart - t0)) / U)}, workers idle at the end ${f(idleTail / U)}, command tail (assemble, write) ${f(tail)}${sharedText}`
  );
}

async function withWorkers<T>(h: RedisHarness, n: number, f: () => Promise<T>): Promise<T> {
  const ws = Array.from({ length: n }, () => h.startWorker());
  current = ws;
  await Promise.all(ws.map((w) => w.waitFor(/on queue redis:/)));
  try {
    return await f();
  } finally {
    for (const w of ws) w.child.kill('SIGTERM');
    await Promise.all(ws.map((w) => w.exited));
  }
}

async function benchPredict(h: RedisHarness, dir: string): Promise<void> {
  const rows = Number(values.rows);
  const cols = Number(values.cols);
  const C = Number(values.bands);
  const bandNames = Array.from({ length: C }, (_, i) => `E${i + 1}`);
  const grid: GridSpec = { originX: 0, originY: rows * 100, cellSizeX: 100, cellSizeY: 100, rows, cols, crs: crsFromEpsg(32645) };
  const stackPath = join(dir, 'stack.tif');
  const w = new GeoTiffWriter(stackPath, grid, bandNames, { nodata: -9999 });
  const rng = new Rng(7);
  for (let r0 = 0; r0 < rows; r0 += 50) {
    const n = Math.min(50, rows - r0) * cols;
    for (let b = 0; b < C; b++) w.writeRows(b, r0, Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.8))));
  }
  w.close();
  const stats: TransformStats = { transform: 'log10-standardize', bandNames, floors: bandNames.map(() => 1e-6), flooredCells: bandNames.map(() => 0), means: bandNames.map(() => 1 / Math.LN10), stds: bandNames.map(() => 0.8 / Math.LN10) };
  await initBackend('auto');
  const runDir = join(dir, 'run');
  await writeRandomRun(runDir, [values.model as ModelKind], stats, ARCH);
  const engine = await resolveEngine(values.engine as EnginePreference);
  const windows = rows * cols;
  console.log(`\n== prediction: ${rows} × ${cols} × ${C}, ${values.model}, engine ${engine.detail}`);
  const common = { runDir, engine: engine.name, ensemble: 'final' as const, layout: 'workers' as const };
  const local: Record<number, number> = {};
  for (const t of workerCounts) {
    const t0 = performance.now();
    await predictRunToGeoTiff(stackPath, join(dir, `local-${t}.tif`), { ...common, threads: t });
    local[t] = (performance.now() - t0) / 1000;
    console.log(`local, ${t} thread(s):        ${local[t].toFixed(1)} s, ${(windows / local[t]).toFixed(0)} windows/s (worker start-up included)`);
  }
  for (const n of workerCounts) {
    await withWorkers(h, n, async () => {
      const t0 = performance.now();
      const epoch0 = Date.now(); // the receipts' clock (workers on this machine)
      const out = join(dir, `queue-${n}.tif`);
      const r = await predictRunToGeoTiffViaQueue(stackPath, out, { ...common, queue: h.url });
      const wall = (performance.now() - t0) / 1000;
      const unitSum = r.receipts.reduce((a, x) => a + x.ms, 0) / 1000;
      const overhead = (n * wall - unitSum) / r.units;
      const perWorker = new Map<string, number>();
      for (const x of r.receipts) perWorker.set(x.worker, Math.max(perWorker.get(x.worker) ?? 0, x.maxRssKB));
      const same = readFileSync(out).equals(readFileSync(join(dir, `local-${workerCounts[0]}.tif`)));
      // Each worker's own peak read from outside (/proc/PID/status VmHWM): a cross-check of the receipts.
      const outside = workerPids().map((pid) => peakRssOfPidKB(pid) ?? 0);
      console.log(
        `queue, ${n} worker(s):         ${wall.toFixed(1)} s, ${(windows / wall).toFixed(0)} windows/s, ×${(local[n] / wall).toFixed(2)} of local ${n} thread(s); ` +
          `${r.units} units, mean unit ${((1000 * unitSum) / r.units).toFixed(0)} ms, overhead/unit ${(1000 * overhead).toFixed(0)} ms (${((100 * overhead * r.units) / unitSum).toFixed(1)}% of unit time); ` +
          `peak RSS per worker ${[...perWorker.values()].map(mb).join(', ')} (VmHWM read from outside: ${outside.map(mb).join(', ')}); output identical to local: ${same}`,
      );
      console.log(overheadBreakdown(r.receipts, epoch0, epoch0 + wall * 1000, n));
    });
  }
}

async function benchSweep(h: RedisHarness, dir: string): Promise<void> {
  await initBackend('wasm');
  const data = toyData({ sites: 20, perSite: 3, signal: 2, seed: 5 });
  const kinds = ['cnn', 'dcn'] as const;
  const folds = 5;
  const repeats = Math.max(1, Math.round((Number(values.sweep) - kinds.length) / (folds * kinds.length)));
  const units = folds * repeats * kinds.length + kinds.length;
  const o = { folds, repeats, seed: 3, backend: 'wasm', train: { epochs: Number(values.epochs), batchSize: 16, learningRate: 3e-3, architecture: TINY, engine: 'tfjs' as const } };
  console.log(`\n== training sweep: ${units} trainings (${folds} folds × ${repeats} repeats × ${kinds.length} models + ${kinds.length} final), ${values.epochs} epoch(s), ${data.n} patches`);
  let t0 = performance.now();
  const loc = await crossValidateAndFit(kinds, data, { ...o, threads: 1 });
  const wallLocal = (performance.now() - t0) / 1000;
  for (const r of loc.values()) r.final.model.dispose();
  // The fold summaries (means, bootstrap intervals) of both models: the queued command computes them after its last unit, as the local run does.
  const ts = performance.now();
  for (const r of loc.values()) summarizeFolds(r.cv.folds, repeats, data, o.seed);
  const summaryMs = performance.now() - ts;
  console.log(`local, 1 thread:       ${wallLocal.toFixed(1)} s (${((1000 * wallLocal) / units).toFixed(0)} ms per training)`);
  const batches: (number | 'auto')[] = values.batch.split(',').map((b) => (b === 'auto' ? 'auto' : Number(b)));
  for (const n of workerCounts) {
    await withWorkers(h, n, async () => {
      // Warm-up: long-lived workers have loaded tfjs and its backend before a run; the first run
      // of a fresh process pays that (≈ 1 s) once. Measured runs follow on warm workers.
      const warm = await crossValidateAndFitViaQueue(kinds, data, { ...o, repeats: 1 }, { url: h.url, workDir: join(dir, `sweep-warm-${n}`), batch: 1 });
      for (const r of warm.values()) r.final.model.dispose();
      for (const batch of batches) {
        let receipts: readonly UnitReceipt[] = [];
        const lines: string[] = [];
        const epoch0 = Date.now();
        t0 = performance.now();
        const q = await crossValidateAndFitViaQueue(kinds, data, o, { url: h.url, workDir: join(dir, `sweep-${n}-${batch}`), batch, log: (l) => lines.push(l), onReceipts: (r) => (receipts = r) });
        const wall = (performance.now() - t0) / 1000;
        for (const r of q.values()) r.final.model.dispose();
        const overhead = (n * wall - wallLocal) / units;
        const unitSum = receipts.reduce((a, x) => a + x.ms, 0) / 1000;
        const overheadR = (n * wall - unitSum) / units;
        const same = kinds.every((k) => JSON.stringify(q.get(k)!.cv.mean) === JSON.stringify(loc.get(k)!.cv.mean) && JSON.stringify(q.get(k)!.cv.folds) === JSON.stringify(loc.get(k)!.cv.folds));
        const plan = lines.find((l) => /units of ≈|batches of/.test(l))?.replace(/^queue \S+: /, '') ?? 'one unit per job';
        console.log(
          `queue, ${n} worker(s), batch ${batch}: ${wall.toFixed(1)} s, ×${(wallLocal / wall).toFixed(2)} of local 1 thread; ` +
            `overhead/unit vs local ≈ ${(1000 * overhead).toFixed(1)} ms (${((100 * overhead * units) / wallLocal).toFixed(1)}% of local unit time); ` +
            `from receipts (W·wall − Σ unit) / U = ${(1000 * overheadR).toFixed(1)} ms (${((100 * overheadR * units) / unitSum).toFixed(1)}% of mean unit ${((1000 * unitSum) / units).toFixed(1)} ms); ` +
            `CV folds and means identical: ${same}; ${plan}`,
        );
        console.log(overheadBreakdown(receipts, epoch0, epoch0 + wall * 1000, n, summaryMs));
      }
    });
  }
}

const dir = mkdtempSync(join(tmpdir(), 'ga-scale-out-'));
const h = await startRedis();
try {
  if (!values['skip-predict']) await benchPredict(h, dir);
  if (!values['skip-sweep']) await benchSweep(h, dir);
} finally {
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
}
