/**
 * Kriging benchmark (issue 3): our engine vs R gstat, timed in one run on the same machine.
 *   node --import tsx bench/kriging.ts [--skip-gstat] [--threads N]
 * Cases: 5,000 random points → 250 × 250 grid, nmax = 32, with 1 and with 39 elements; and
 * 50,000 points, 1 element. Both engines get the same fixed spherical models (no fitting is timed),
 * so the times compare kriging alone. Ours includes starting the worker threads. Prints wall and
 * CPU seconds (CPU = all threads of the process; for R user + system), their ratios, and the largest
 * relative difference between the two engines' predictions of the first element.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { krigeGrid } from '../main/kriging/krige-grid.ts';
import type { VariogramModel } from '../main/kriging/variogram-model.ts';
import type { GridSpec } from '../main/grid/grid-spec.ts';
import { defaultThreads } from '../main/jobs/worker-pool.ts';
import { Rng } from '../main/util/rng.ts';

const args = process.argv.slice(2);
const skipGstat = args.includes('--skip-gstat');
const threadsArg = args.indexOf('--threads');
const threads = threadsArg >= 0 ? Number(args[threadsArg + 1]) : defaultThreads();
const SIDE_M = 10_000;
const ROWS = 250, COLS = 250;
const NMAX = 32;

function survey(n: number, nFields: number, seed: number) {
  const rng = new Rng(seed);
  const x = Float64Array.from({ length: n }, () => rng.range(0, SIDE_M));
  const y = Float64Array.from({ length: n }, () => rng.range(0, SIDE_M));
  const fields = Array.from({ length: nFields }, (_, f) => {
    const fr = rng.fork(f);
    const px = fr.range(0, 6.3), py = fr.range(0, 6.3), lx = 900 + 60 * f, ly = 1300 + 40 * f;
    return { name: `f${f}`, values: Float64Array.from(x, (xx, i) => Math.sin(xx / lx + px) + Math.cos(y[i] / ly + py) + fr.normal(0, 0.3)) };
  });
  const models: Record<string, VariogramModel> = Object.fromEntries(fields.map((f, i) => [f.name, { type: 'sph', nugget: 0.09, psill: 0.9 + 0.01 * i, rangeM: 1500 + 40 * i }]));
  return { x, y, fields, models };
}

interface Timing { wallS: number; cpuS: number }
interface GstatTiming extends Timing { pred0: number[]; version: string }

async function ours(s: ReturnType<typeof survey>, grid: GridSpec): Promise<Timing & { pred0: Float32Array; rssMB: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await krigeGrid({ x: s.x, y: s.y, fields: s.fields }, grid, { variogram: s.models, nmax: NMAX, threads });
  const wallS = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { wallS, cpuS: (c.user + c.system) / 1e6, pred0: r.prediction.bands[0], rssMB: process.memoryUsage().rss / 2 ** 20 };
}

function gstat(s: ReturnType<typeof survey>, dir: string): GstatTiming {
  const pts = join(dir, 'points.csv'), mods = join(dir, 'models.csv'), out = join(dir, 'gstat.json');
  const lines = [['x', 'y', ...s.fields.map((f) => f.name)].join(',')];
  for (let i = 0; i < s.x.length; i++) lines.push([s.x[i], s.y[i], ...s.fields.map((f) => f.values[i])].join(','));
  writeFileSync(pts, lines.join('\n') + '\n');
  writeFileSync(mods, ['field,nugget,psill,range', ...s.fields.map((f) => { const m = s.models[f.name]; return `${f.name},${m.nugget},${m.psill},${m.rangeM}`; })].join('\n') + '\n');
  execFileSync('Rscript', ['bench/kriging-gstat.R', pts, mods, String(s.fields.length), String(NMAX), '0', '0', String(SIDE_M / COLS), String(ROWS), String(COLS), out], { stdio: ['ignore', 'ignore', 'inherit'] });
  const j = JSON.parse(readFileSync(out, 'utf8')) as { elapsed: number; cpu: number; pred0: number[]; gstat: string; r: string };
  return { wallS: j.elapsed, cpuS: j.cpu, pred0: j.pred0, version: `gstat ${j.gstat}, ${j.r}` };
}

function maxRelDiff(a: Float32Array, b: number[]): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]) / Math.max(1e-3, Math.abs(b[i])));
  return w;
}

const grid: GridSpec = { originX: 0, originY: SIDE_M, cellSizeX: SIDE_M / COLS, cellSizeY: SIDE_M / ROWS, rows: ROWS, cols: COLS, crs: null };
const dir = mkdtempSync(join(tmpdir(), 'bench-kriging-'));
console.log(`kriging benchmark: ${ROWS}×${COLS} grid, nmax ${NMAX}, spherical models; ours on ${threads} worker thread(s); ` +
  `${cpus().length} logical CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}`);
const fmt = (v: number): string => v.toFixed(2).padStart(8);
try {
  for (const [n, nFields] of [[5000, 1], [5000, 39], [50000, 1]] as const) {
    const s = survey(n, nFields, 20260 + n + nFields);
    const o = await ours(s, grid);
    let line = `${String(n).padStart(6)} points ${String(nFields).padStart(2)} element(s): ours wall ${fmt(o.wallS)} s cpu ${fmt(o.cpuS)} s (rss ${o.rssMB.toFixed(0)} MB)`;
    if (!skipGstat) {
      const g = gstat(s, dir);
      line += ` | gstat wall ${fmt(g.wallS)} s cpu ${fmt(g.cpuS)} s | ratio ours/gstat wall ${(o.wallS / g.wallS).toFixed(3)} cpu ${(o.cpuS / g.cpuS).toFixed(3)}` +
        ` | max rel diff f0 ${maxRelDiff(o.pred0, g.pred0).toExponential(1)} (${g.version})`;
    }
    console.log(line);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
