/**
 * Start-up time of the `geoanomaly` command against bare Node (`node -e 0`), measured in the
 * same run, interleaved, so machine load affects every case alike. Goal (issue 16):
 * `geoanomaly --help` ≤ 0.4 s on an idle 2-core machine and ≤ 8× `node -e 0`.
 *
 *   npx tsx bench/startup.ts [--runs 15] [--file tests/fixtures/vectors/points.geojson]
 *
 * Cases: the compiled CLI (dist/, what `npm ci` installs) for `--help` and `info FILE`, and for
 * comparison the same from the TypeScript sources through tsx (GEOANOMALY_FROM_SOURCE=1, the
 * fallback of a development checkout without a current build). Each case is a fresh process
 * (spawnSync); the figure is the median wall time, with min and max.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { distIsCurrent, ensureBuilt } from '../tests/helpers/dist-build.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BIN = join(ROOT, 'main/cli/bin.mjs');

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    file: { type: 'string', default: join(ROOT, 'tests/fixtures/vectors/points.geojson') },
  },
});
const runs = Number(values.runs);
if (!(Number.isInteger(runs) && runs >= 1)) throw new Error(`--runs must be an integer ≥ 1, got ${values.runs}`);

interface Case {
  readonly name: string;
  readonly args: string[];
  readonly env?: Record<string, string>;
}
const cases: Case[] = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'geoanomaly --help (dist)', args: [BIN, '--help'] },
  { name: `geoanomaly info FILE (dist)`, args: [BIN, 'info', values.file as string] },
  { name: 'geoanomaly --help (tsx, sources)', args: [BIN, '--help'], env: { GEOANOMALY_FROM_SOURCE: '1' } },
  { name: 'geoanomaly info FILE (tsx, sources)', args: [BIN, 'info', values.file as string], env: { GEOANOMALY_FROM_SOURCE: '1' } },
];

function once(c: Case): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, c.args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', ...c.env } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${c.name} exited with ${r.status}: ${r.stderr}`);
  return ms;
}

await ensureBuilt();
if (!distIsCurrent()) throw new Error('dist/ is not current after npm run build');
for (const c of cases) once(c); // warm the file-system cache once
const times = cases.map(() => [] as number[]);
for (let r = 0; r < runs; r++) cases.forEach((c, i) => times[i].push(once(c)));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const base = median(times[0]);
console.log(`start-up, ${runs} interleaved runs per case, median [min … max] wall time; ratio to node -e 0 (same run)`);
console.log(`| case | median ms | min … max ms | × node -e 0 |`);
console.log(`|---|---:|---:|---:|`);
cases.forEach((c, i) => {
  const m = median(times[i]);
  console.log(`| ${c.name} | ${m.toFixed(0)} | ${Math.min(...times[i]).toFixed(0)} … ${Math.max(...times[i]).toFixed(0)} | ${(m / base).toFixed(2)} |`);
});
const help = median(times[1]);
const ok = help <= 400 && help / base <= 8;
console.log(`goal --help ≤ 400 ms and ≤ 8× node -e 0: ${help.toFixed(0)} ms, ${(help / base).toFixed(2)}× → ${ok ? 'met' : 'NOT met'}`);
