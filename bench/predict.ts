/**
 * Benchmark (not a test): full-map prediction.
 *
 *  1. windows/s on the Tianshan grid (../shared/data/tianshan-gkdcn/elements, 117 rows × 289 cols
 *     × 39 bands, 9×9 windows, batch 1,024) for CNN and DCN: engine tfjs in one thread
 *     (predictMap in this thread) and on --threads worker threads (predictRun, worker start-up and
 *     model loading INCLUDED); engine onnx (onnxruntime-node, when installed) in this thread with
 *     1 and --threads intra-op threads and on --threads worker threads (export, session creation
 *     and worker start-up INCLUDED); and PyTorch 1.13 CPU (bench/predict-torch.py, torchvision
 *     DeformConv2d, 2 threads, same window building) measured in the same run; prints the ratios
 *     to PyTorch. The models are random-initialised models of the real architecture (timing does
 *     not depend on the weights).
 *  2. peak RSS (process.resourceUsage().maxRSS) of predicting a synthetic --big-size² × 39 grid
 *     (default 2,000) with the CNN (--big-model) into a GeoTIFF, in a fresh child process per engine
 *     (--big-engines, default onnx,tfjs) so that nothing else counts; the synthetic grid is
 *     written to a temp GeoTIFF row block by row block first.
 *
 *   npx tsx bench/predict.ts [--threads 2] [--models cnn,dcn] [--big-size 2000] [--big-rows R] [--big-engines onnx,tfjs] [--big-model cnn]
 *     [--intra-op 1] [--layout auto|workers|in-thread] [--share-stem true|false] [--skip-torch] [--skip-tfjs] [--skip-per-window] [--skip-big] [--skip-tianshan]
 *
 * The onnx rows run the shared-stem graphs (the default) and, unless --skip-per-window, the
 * per-window graph (shareStem false) in the same run. --intra-op / --layout / --share-stem apply
 * to the peak-RSS child.
 *
 * --big-rows R predicts R rows × --big-size cols instead of a square: memory per tile depends on
 * the row width only (tiles are whole rows), so R ≪ 2,000 rows of 2,000 cols shows the peak RSS
 * of the full 2,000 × 2,000 run in a fraction of its time.
 *
 * The machine may be shared: wall times swing with other jobs, so CPU seconds (process.cpuUsage,
 * all threads of the process; PyTorch: time.process_time) are printed next to them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initBackend } from '../main/models/backend.ts';
import { readStack } from '../main/io/geotiff-read.ts';
import { GeoTiffWriter } from '../main/io/geotiff-write.ts';
import { transformStack, type TransformStats } from '../main/sites/band-transform.ts';
import { openStackSource } from '../main/maps/stack-source.ts';
import { predictMap } from '../main/maps/predict-map.ts';
import { loadRun, runClassifiers } from '../main/maps/run-models.ts';
import { defaultTileRows, predictRun, predictRunToGeoTiff } from '../main/maps/parallel-predict.ts';
import { resolveEngine, type EnginePreference } from '../main/onnx/onnx-run.ts';
import { defaultThreads } from '../main/jobs/worker-pool.ts';
import { crsFromEpsg } from '../main/grid/crs.ts';
import type { GridSpec } from '../main/grid/grid-spec.ts';
import type { ModelKind } from '../main/models/architectures.ts';
import { Rng } from '../main/util/rng.ts';
import { writeRandomRun } from '../tests/maps/random-run.ts';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: String(defaultThreads()) },
    models: { type: 'string', default: 'cnn,dcn' },
    'big-size': { type: 'string', default: '2000' },
    'big-rows': { type: 'string' },
    'big-engines': { type: 'string', default: 'onnx,tfjs' },
    'big-model': { type: 'string', default: 'cnn' },
    engine: { type: 'string', default: 'tfjs' },
    'skip-torch': { type: 'boolean', default: false },
    'skip-tfjs': { type: 'boolean', default: false },
    'skip-per-window': { type: 'boolean', default: false },
    'share-stem': { type: 'string', default: 'true' },
    'intra-op': { type: 'string', default: '1' },
    layout: { type: 'string', default: 'auto' },
    'skip-big': { type: 'boolean', default: false },
    'skip-tianshan': { type: 'boolean', default: false },
    'rss-child': { type: 'string' },
  },
});

const TIANSHAN = fileURLToPath(new URL('../../shared/data/tianshan-gkdcn/elements', import.meta.url));
const threads = Number(values.threads);
const BATCH = 1024;
const ARCH = { patchSize: 9 } as const;

function cpuSeconds(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1e6;
}

interface Timing {
  readonly windows: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
}

async function timed(windows: number, f: () => Promise<void>): Promise<Timing> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await f();
  return { windows, seconds: (performance.now() - t0) / 1000, cpuSeconds: cpuSeconds(process.cpuUsage(c0)) };
}

function line(label: string, t: Timing): string {
  return `${label.padEnd(58)} ${(t.windows / t.seconds).toFixed(0).padStart(7)} windows/s wall  ${(t.windows / t.cpuSeconds).toFixed(0).padStart(7)} windows/CPU-s  (${t.seconds.toFixed(1)} s wall, ${t.cpuSeconds.toFixed(1)} s CPU)`;
}

async function tianshan(kinds: ModelKind[]): Promise<void> {
  const backend = await initBackend('auto');
  const onnxEngine = await resolveEngine('auto');
  const onnx = onnxEngine.name === 'onnx';
  console.log(`backend: ${backend.detail}; threads: ${threads}; ONNX: ${onnxEngine.detail}; models random-initialised (timing only)`);
  const stack = await readStack(TIANSHAN);
  const { stats } = transformStack(stack, { transform: 'log10-standardize' });
  const { rows, cols } = stack.grid;
  const windows = rows * cols;
  console.log(`Tianshan grid: ${rows} rows × ${cols} cols × ${stack.bandNames.length} bands = ${windows} windows per model, 9×9, batch ${BATCH}`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-predict-'));
  try {
    const runDir = join(dir, 'run');
    await writeRandomRun(runDir, kinds, stats, ARCH);
    for (const kind of kinds) {
      const run = await loadRun(runDir, [kind]);
      const rows: [string, Timing][] = [];
      if (!values['skip-tfjs']) {
        const src = await openStackSource(TIANSHAN);
        const opts = { window: run.window, bandNames: run.bandNames, stats: run.stats, batchSize: BATCH };
        // Warm-up on a few rows (kernel set-up, XNNPACK packing) so it is not timed.
        await predictMap(src, runClassifiers(run), { ...opts, rows: [0, 9] }, () => undefined);
        const single = await timed(windows, () => predictMap(src, runClassifiers(run), opts, () => undefined));
        await src.close();
        const parallel = await timed(windows, async () => {
          await predictRun(TIANSHAN, { runDir, models: [kind], threads, batchSize: BATCH }, () => undefined);
        });
        rows.push(['tfjs, 1 thread (this thread)', single], [`tfjs, ${threads} worker threads (incl. start-up)`, parallel]);
      }
      if (onnx) {
        // layout 'workers' forces worker threads for t > 1 (and the workers' tile plan); 'auto' is
        // what `geoanomaly predict --threads t` does (small CNN maps: this thread, whole tiles).
        const onnxRun = (t: number, intraOpThreads: number, shareStem: boolean, layout: 'auto' | 'workers' = 'workers'): Promise<Timing> =>
          timed(windows, async () => {
            await predictRun(TIANSHAN, { runDir, models: [kind], threads: t, intraOpThreads, batchSize: BATCH, engine: 'onnx', shareStem, layout }, () => undefined);
          });
        // Shared stem (the default): the stem convolution once per tile, shared by the windows.
        rows.push([`onnx shared stem, layout auto, --threads ${threads} (the CLI default)`, await onnxRun(threads, 1, true, 'auto')]);
        rows.push(['onnx shared stem, layout auto, --threads 1', await onnxRun(1, 1, true, 'auto')]);
        rows.push(['onnx shared stem, this thread, 1 intra-op', await onnxRun(1, 1, true)]);
        rows.push([`onnx shared stem, this thread, ${threads} intra-op`, await onnxRun(1, threads, true)]);
        rows.push([`onnx shared stem, ${threads} workers (incl. start-up)`, await onnxRun(threads, 1, true)]);
        if (!values['skip-per-window']) {
          // The per-window graph (every window convolved on its own), as before the shared stem.
          rows.push(['onnx per window, this thread, 1 intra-op', await onnxRun(1, 1, false)]);
          rows.push([`onnx per window, this thread, ${threads} intra-op`, await onnxRun(1, threads, false)]);
          rows.push([`onnx per window, ${threads} workers (incl. start-up)`, await onnxRun(threads, 1, false)]);
        }
      }
      console.log(`\n${kind.toUpperCase()}`);
      for (const [label, t] of rows) console.log(line(label, t));
      if (!values['skip-torch']) {
        const t = torch(kind);
        if (t) {
          const tt: Timing = { windows: t.windows, seconds: t.seconds, cpuSeconds: t.cpuSeconds };
          console.log(line(`PyTorch ${t.torch} CPU, ${t.threads} threads`, tt));
          for (const [label, r] of rows) {
            console.log(
              `ratio ${label} / PyTorch: ${(windows / r.seconds / t.windowsPerSecond).toFixed(2)}× wall, ` +
                `${(windows / r.cpuSeconds / t.windowsPerCpuSecond).toFixed(2)}× per CPU-second`,
            );
          }
        }
      }
      for (const m of run.models.values()) m.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface TorchResult {
  torch: string;
  threads: number;
  windows: number;
  seconds: number;
  cpuSeconds: number;
  windowsPerSecond: number;
  windowsPerCpuSecond: number;
}

function torch(kind: ModelKind): TorchResult | null {
  const script = fileURLToPath(new URL('./predict-torch.py', import.meta.url));
  const r = spawnSync('/usr/bin/python3', [script, '--stack', TIANSHAN, '--model', kind, '--threads', '2', '--batch', String(BATCH)], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '2', MKL_NUM_THREADS: '2' },
  });
  if (r.status !== 0) {
    process.stderr.write(`PyTorch run failed (${r.status}): ${r.stderr}\n`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as TorchResult;
}

/** Child process: writes the synthetic grid (streamed), predicts it, prints JSON with maxRSS. */
async function rssChild(size: number, rows: number): Promise<void> {
  const C = 39;
  const bandNames = Array.from({ length: C }, (_, b) => `e${String(b).padStart(2, '0')}`);
  const grid: GridSpec = { originX: 500000, originY: 4800000, cellSizeX: 100, cellSizeY: 100, rows, cols: size, crs: crsFromEpsg(32645) };
  const dir = mkdtempSync(join(tmpdir(), 'bench-predict-big-'));
  try {
    const stackPath = join(dir, 'stack.tif');
    const w = new GeoTiffWriter(stackPath, grid, bandNames, { nodata: -9999 });
    const rng = new Rng(7);
    const block = 50;
    for (let r0 = 0; r0 < rows; r0 += block) {
      const n = Math.min(block, rows - r0) * size;
      for (let b = 0; b < C; b++) w.writeRows(b, r0, Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.8))));
    }
    w.close();
    // log10-standardise statistics of lognormal(1, 0.8) values (known in closed form; no pass needed).
    const stats: TransformStats = {
      transform: 'log10-standardize',
      bandNames,
      floors: bandNames.map(() => 1e-6),
      flooredCells: bandNames.map(() => 0),
      means: bandNames.map(() => 1 / Math.LN10),
      stds: bandNames.map(() => 0.8 / Math.LN10),
    };
    await initBackend('auto');
    const runDir = join(dir, 'run');
    await writeRandomRun(runDir, [values['big-model'] as ModelKind], stats, ARCH);
    const rssBefore = process.resourceUsage().maxRSS;
    let last = -1;
    const t = await timed(rows * size, async () => {
      // The tiles of the full square grid (tile memory depends on the row width and tile height).
      const tileRows = defaultTileRows(size, size, C, ARCH.patchSize, values.engine === 'onnx' && values['share-stem'] !== 'false');
      await predictRunToGeoTiff(stackPath, join(dir, 'prob.tif'), {
        runDir,
        threads,
        intraOpThreads: Number(values['intra-op']),
        layout: values.layout as 'auto' | 'workers' | 'in-thread',
        shareStem: values['share-stem'] !== 'false',
        batchSize: BATCH,
        tileRows,
        engine: values.engine as EnginePreference,
      }, {
        progress: (f) => {
          const pct = Math.floor(f * 20) * 5;
          if (pct !== last) process.stderr.write(`  ${pct}%`);
          last = pct;
        },
      });
    });
    process.stderr.write('\n');
    console.log(JSON.stringify({ size, rows, threads, intraOp: values['intra-op'], shareStem: values['share-stem'], engine: values.engine, model: values['big-model'], rssBeforePredictKB: rssBefore, maxRssKB: process.resourceUsage().maxRSS, ...t }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function big(size: number, rows: number, engine: string): void {
  const model = values['big-model'];
  const layout = `${threads} thread(s) × ${values['intra-op']} intra-op, layout ${values.layout}, shared stem ${values['share-stem']}`;
  console.log(`\nPeak RSS: synthetic ${rows} rows × ${size} cols × 39 bands, ${model.toUpperCase()}, engine ${engine}, ${layout}, into a GeoTIFF (fresh child process)`);
  const r = spawnSync('npx', ['tsx', fileURLToPath(import.meta.url), '--rss-child', String(size), '--big-rows', String(rows), '--threads', String(threads), '--engine', engine, '--big-model', model, '--intra-op', values['intra-op'], '--share-stem', values['share-stem'], '--layout', values.layout], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) {
    console.log(`child failed (${r.status})`);
    return;
  }
  const j = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { maxRssKB: number; rssBeforePredictKB: number } & Timing;
  const stackMB = (rows * size * 39 * 4) / 2 ** 20;
  console.log(
    `peak RSS ${(j.maxRssKB / 1024).toFixed(0)} MB (whole process incl. ${threads} workers; ${(j.rssBeforePredictKB / 1024).toFixed(0)} MB before predicting) ` +
      `for a ${stackMB.toFixed(0)} MB stack; goal < 2048 MB → ${j.maxRssKB / 1024 < 2048 ? 'met' : 'NOT met'}`,
  );
  console.log(line(`${engine}, ${layout} (incl. start-up)`, j));
}

if (values['rss-child']) {
  await rssChild(Number(values['rss-child']), Number(values['big-rows'] ?? values['rss-child']));
} else {
  const kinds = values.models.split(',').map((s) => s.trim()) as ModelKind[];
  if (!values['skip-tianshan']) await tianshan(kinds);
  if (!values['skip-big']) {
    for (const engine of values['big-engines'].split(',').map((e) => e.trim())) big(Number(values['big-size']), Number(values['big-rows'] ?? values['big-size']), engine);
  }
}
