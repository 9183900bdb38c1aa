import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { Rng } from '../../main/util/rng.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';
import { sharedData } from '../helpers/shared-data.ts';

/**
 * Issue 19: every long command stops on Ctrl-C (SIGINT) in every engine and thread count, and
 * leaves nothing at its output path. Each command below is configured to run for minutes
 * (epochs / grids far beyond what it needs); the child gets SIGINT once its first progress line
 * shows the long loop has started, and must exit with 130 well before EXIT_DEADLINE_MS. That
 * bound is not a speed target (tests never assert speed): a run that ignores the signal would
 * take minutes, so the bound only separates "stopped" from "ran on". The measured latency is
 * printed for the record (the goal is < 1 s; cancelPoint yields every 50 ms).
 */
const EXIT_DEADLINE_MS = 10_000;
/** Time allowed for start-up (tsx, TensorFlow.js, ONNX Runtime on a shared 2-core machine) before the marker. */
const START_TIMEOUT_MS = 240_000;

interface CancelOutcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly latencyMs: number;
  readonly stderr: string;
}

/** Spawns `geoanomaly ARGS`, sends SIGINT after `marker` appears on stdout/stderr, waits for the exit. */
function runAndInterrupt(args: readonly string[], marker: RegExp): Promise<CancelOutcome> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'main/cli/bin.mjs'), ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let sentAt = 0;
    const startTimer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`geoanomaly ${args[0]}: no progress line matching ${marker} within ${START_TIMEOUT_MS} ms:\n${text}`));
    }, START_TIMEOUT_MS);
    let killTimer: NodeJS.Timeout | undefined;
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      if (sentAt === 0 && marker.test(text)) {
        clearTimeout(startTimer);
        sentAt = performance.now();
        child.kill('SIGINT');
        // A child that ignores SIGINT is killed after the deadline (then the assertions fail).
        killTimer = setTimeout(() => child.kill('SIGKILL'), EXIT_DEADLINE_MS * 3);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(startTimer);
      if (killTimer) clearTimeout(killTimer);
      if (sentAt === 0) {
        reject(new Error(`geoanomaly ${args[0]} exited (${code}) before its progress marker:\n${text}`));
        return;
      }
      resolvePromise({ code, signal, latencyMs: performance.now() - sentAt, stderr: text });
    });
  });
}

function expectCancelled(label: string, r: CancelOutcome): void {
  process.stdout.write(`cancel latency ${label}: ${r.latencyMs.toFixed(0)} ms\n`);
  expect(r.code, r.stderr).toBe(130);
  expect(r.stderr).toMatch(/cancelled/);
  expect(r.latencyMs, `${label} exited ${r.latencyMs.toFixed(0)} ms after SIGINT`).toBeLessThan(EXIT_DEADLINE_MS);
}

/** No output file and no temporary sibling (ours are `.NAME.PID.TIME.tmp`) in `dir`. */
function expectNoOutput(dir: string, names: readonly string[]): void {
  const left = existsSync(dir) ? readdirSync(dir) : [];
  for (const n of names) expect(left, `${n} left in ${dir}`).not.toContain(n);
  expect(left.filter((f) => f.endsWith('.tmp')), `temporary files left in ${dir}`).toEqual([]);
}

const HYDICE = (): string => sharedData('hyperspectral/HYDICE_data.mat');
// The 20 × 20 two-element survey of tests/models/train-roc.test.ts, and a 1500 × 1500 stack with
// the same bands for predict (2.25 M windows: minutes on one thread).
const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: 20, cols: 20, crs: crsFromEpsg(32645) };
const at = (r: number, c: number): number => r * grid.cols + c;
let dir = '';

beforeAll(async () => {
  dir = tempDir('cancel-');
  const rng = new Rng(4);
  const n = grid.rows * grid.cols;
  const bands = [0, 1].map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.5))));
  const deposits = [at(4, 4), at(4, 15), at(15, 4), at(15, 15)];
  for (const d of deposits) for (let dr = -2; dr <= 2; dr++) for (let dc = -2; dc <= 2; dc++) bands[0][d + dr * grid.cols + dc] *= 1.3;
  writeGeoTiff(join(dir, 'stack.tif'), { grid, bandNames: ['Au', 'Cu'], bands });
  writeSitesGeoJson(join(dir, 'sites.geojson'), buildSites(grid, { depositCells: deposits, negatives: { kind: 'user', cells: [at(10, 2), at(2, 10), at(17, 10), at(10, 17)] } }).set);
  const big: GridSpec = { ...grid, rows: 1500, cols: 1500 };
  const bn = big.rows * big.cols;
  writeGeoTiff(join(dir, 'big.tif'), { grid: big, bandNames: ['Au', 'Cu'], bands: [0, 1].map(() => Float32Array.from({ length: bn }, () => Math.exp(rng.normal(1, 0.5)))) });
  const code = await main(['train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--model', 'cnn', '--epochs', '1', '--folds', '2', '--repeats', '1', '--patch-size', '5', '--threads', '1', '--out', join(dir, 'run')]);
  expect(code).toBe(0);
  await main(['demo-data', '--out', join(dir, 'demo'), '--seed', '3']);
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SIGINT stops every long command with no partial output (issue 19)', () => {
  for (const threads of ['1', '2']) {
    it(`xrf --method msfa --threads ${threads}`, async () => {
      const out = join(dir, `xrf-${threads}`);
      const r = await runAndInterrupt(['xrf', '--cube', HYDICE(), '--method', 'msfa', '--epochs', '100000', '--threads', threads, '--out', out], /MSFA-Net epoch|epoch 1\//);
      expectCancelled(`xrf msfa threads ${threads}`, r);
      expectNoOutput(out, ['metrics.json', 'msfa-score.tif', 'msfa-score.png']);
    }, START_TIMEOUT_MS + 60_000);
  }

  it('xrf --method autoad', async () => {
    const out = join(dir, 'xrf-autoad');
    const r = await runAndInterrupt(['xrf', '--cube', HYDICE(), '--method', 'autoad', '--out', out], /Auto-AD iteration/);
    expectCancelled('xrf autoad', r);
    expectNoOutput(out, ['metrics.json', 'autoad-score.tif']);
  }, START_TIMEOUT_MS + 60_000);

  for (const engine of ['tfjs', 'onnx']) {
    it(`train --engine ${engine} --threads 1`, async () => {
      const out = join(dir, `run-${engine}`);
      const r = await runAndInterrupt(
        ['train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--model', 'dcn', '--epochs', '100000', '--patience', '100000', '--folds', '2', '--repeats', '1', '--patch-size', '5', '--engine', engine, '--threads', '1', '--out', out],
        /epoch \d+\//,
      );
      expectCancelled(`train ${engine}`, r);
      expectNoOutput(out, ['metrics.json', 'manifest.json']);
    }, START_TIMEOUT_MS + 60_000);
  }

  for (const engine of ['auto', 'tfjs']) {
    it(`train --engine ${engine} --threads 2 (folds on worker threads)`, async () => {
      const out = join(dir, `run-t2-${engine}`);
      const r = await runAndInterrupt(
        ['train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--model', 'cnn', '--epochs', '100000', '--patience', '100000', '--folds', '2', '--repeats', '1', '--patch-size', '5', '--engine', engine, '--threads', '2', '--out', out],
        /\[\s*\d+%\]/,
      );
      expectCancelled(`train ${engine} threads 2`, r);
      expectNoOutput(out, ['metrics.json', 'manifest.json']);
    }, START_TIMEOUT_MS + 60_000);
  }

  for (const threads of ['1', '2']) {
    it(`krige --threads ${threads}`, async () => {
      const out = join(dir, `krige-${threads}`);
      const r = await runAndInterrupt(
        ['krige', '--samples', join(dir, 'demo', 'samples.csv'), '--x', 'x', '--y', 'y', '--crs', 'EPSG:32645', '--fields', 'all', '--cell', '40', '--nmax', '64', '--threads', threads, '--out', join(out, 'stack.tif')],
        /\[\s*([6-9]|\d\d)%\]/,
      );
      expectCancelled(`krige threads ${threads}`, r);
      expectNoOutput(out, ['stack.tif']);
    }, START_TIMEOUT_MS + 60_000);
  }

  for (const [engine, threads] of [['auto', '1'], ['auto', '2'], ['tfjs', '1']]) {
    it(`predict --engine ${engine} --threads ${threads}`, async () => {
      const out = join(dir, `prob-${engine}-${threads}`);
      const r = await runAndInterrupt(['predict', '--run', join(dir, 'run'), '--stack', join(dir, 'big.tif'), '--engine', engine, '--threads', threads, '--out', join(out, 'prob.tif')], /row \d+\/|prediction: \d+%/);
      expectCancelled(`predict ${engine} threads ${threads}`, r);
      expectNoOutput(out, ['prob.tif']);
    }, START_TIMEOUT_MS + 60_000);
  }
});
