import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { main } from '../../main/cli/main.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { filesUnder } from '../../main/queue/input-hash.ts';
import { join } from 'node:path';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { initBackend } from '../../main/models/backend.ts';
import { transformStack } from '../../main/sites/band-transform.ts';
import { writeRandomRun } from '../maps/random-run.ts';
import { krigeGrid } from '../../main/kriging/krige-grid.ts';
import { krigeGridViaQueue } from '../../main/queue/krige-units.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { Rng } from '../../main/util/rng.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';
import { freePort, startRedis, type RedisHarness, linesMatching } from '../helpers/redis-server.ts';

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'main/cli/bin.mjs'), ...args], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('geoanomaly worker and --queue on the command line', () => {
  let h: RedisHarness;
  beforeAll(async () => {
    h = await startRedis();
  }, 30_000);
  afterAll(async () => {
    await h?.stop();
  }, 30_000);

  it('worker with Redis down exits 1 with QueueUnreachableError naming the URL, never the password', async () => {
    const url = `redis://:sw0rdfish@127.0.0.1:${await freePort()}/3`;
    const r = cli('worker', '--queue', url, '--once');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('QueueUnreachableError');
    expect(r.stderr).toContain('redis://:***@127.0.0.1:');
    expect(r.stderr + r.stdout).not.toContain('sw0rdfish');
  });

  it('worker --once runs exactly one unit and exits 0; the next unit waits for another worker', { timeout: 120_000 }, async () => {
    const rng = new Rng(4);
    const n = 200;
    const x = Float64Array.from({ length: n }, () => rng.range(0, 5000));
    const y = Float64Array.from({ length: n }, () => rng.range(0, 5000));
    const v = Float64Array.from(x, (a, i) => Math.sin(a / 900) + Math.cos(y[i] / 700) + rng.normal(0, 0.1));
    const input = { x, y, fields: [{ name: 'Cu', values: v }], source: 'synthetic' };
    const grid: GridSpec = { originX: 0, originY: 5000, cellSizeX: 250, cellSizeY: 250, rows: 20, cols: 20, crs: null };
    const once = h.startWorker(['--once']);
    const second = new Promise<void>((res) => {
      void once.exited.then(() => {
        h.startWorker(['--once']);
        res();
      });
    });
    const q = await krigeGridViaQueue(input, grid, { nmax: 16 }, { url: h.url, workDir: tempDir(), units: 2 });
    await second;
    expect(await once.exited).toBe(0);
    expect(await linesMatching([once], /^ran krige group 0 rows/, 1)).toHaveLength(1);
    expect(await linesMatching([once], /1 unit\(s\) done, 0 failed/, 1)).toHaveLength(1);
    const local = await krigeGrid(input, grid, { nmax: 16, threads: 1 });
    expect(Buffer.from(q.prediction.bands[0].buffer).equals(Buffer.from(local.prediction.bands[0].buffer))).toBe(true);
  });

  it('lists worker in --help with its options', () => {
    const r = cli('worker', '--help');
    expect(r.code).toBe(0);
    for (const flag of ['--queue URL', '--concurrency N', '--threads N', '--once', '--lock-ms MS']) expect(r.stdout).toContain(flag);
  });

  it('predict --queue URL with one worker writes the same file as predict without it, and logs the redacted queue', { timeout: 180_000 }, async () => {
    await initBackend('wasm');
    const dir = tempDir();
    const grid: GridSpec = { originX: 0, originY: 2000, cellSizeX: 100, cellSizeY: 100, rows: 20, cols: 15, crs: null };
    const rng = new Rng(2);
    const names = ['Au', 'Cu', 'As'];
    const stack = { grid, bandNames: names, bands: names.map(() => Float32Array.from({ length: 300 }, () => Math.exp(rng.normal(1, 0.8)))) };
    const { stats } = transformStack(stack, { transform: 'log10-standardize' });
    writeGeoTiff(join(dir, 's.tif'), stack);
    await writeRandomRun(join(dir, 'run'), ['cnn'], stats, { patchSize: 5, stemFilters: 4, stageFilters: [4, 4], denseUnits: 4 }, 3);
    const w = h.startWorker();
    await w.waitFor(/on queue redis:/);
    const base = ['predict', '--run', join(dir, 'run'), '--stack', join(dir, 's.tif'), '--engine', 'tfjs', '--backend', 'wasm', '--ensemble', 'final'];
    const plain = cli(...base, '--threads', '1', '--out', join(dir, 'a.tif'));
    expect(plain.code, plain.stderr).toBe(0);
    const queued = cli(...base, '--queue', h.url, '--out', join(dir, 'b.tif'));
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stderr).toMatch(/queue redis:\/\/127\.0\.0\.1:\d+: \d+ prediction units enqueued/);
    expect(readFileSync(join(dir, 'b.tif')).equals(readFileSync(join(dir, 'a.tif')))).toBe(true);
    // spawnSync blocked this process: the worker's log lines arrive now.
    await expect(w.waitFor(/^ran predict tile rows/, 10_000)).resolves.toMatch(/^ran predict tile rows 0–2 /); // ⌈20 / 16⌉ = 2 rows per tile (defaultTileRows)
    w.child.kill('SIGTERM'); // the next test's units go to its own worker
    expect(await w.exited).toBe(0);
  });

  it('train --queue URL writes the same metrics.json, roc.json and model weights as train --threads 1', { timeout: 240_000 }, async () => {
    // The survey of tests/models/train-cli.test.ts: 24 × 24 cells, Au raised around four deposits.
    const dir = tempDir();
    const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: 24, cols: 24, crs: crsFromEpsg(32645) };
    const deposits = [5 * 24 + 5, 5 * 24 + 18, 18 * 24 + 5, 18 * 24 + 18];
    const negatives = [11 * 24 + 2, 2 * 24 + 11, 21 * 24 + 11, 11 * 24 + 21];
    const rng = new Rng(2);
    const bands = [0, 1, 2].map(() => Float32Array.from({ length: 576 }, () => Math.exp(rng.normal(1, 0.3))));
    for (const d of deposits) for (let dr = -2; dr <= 2; dr++) for (let dc = -2; dc <= 2; dc++) bands[0][(Math.floor(d / 24) + dr) * 24 + (d % 24) + dc] *= 4;
    writeGeoTiff(join(dir, 'stack.tif'), { grid, bandNames: ['Au', 'Cu', 'As'], bands });
    writeSitesGeoJson(join(dir, 'sites.geojson'), buildSites(grid, { depositCells: deposits, negatives: { kind: 'user', cells: negatives } }).set);
    const w = h.startWorker();
    await w.waitFor(/on queue redis:/);
    const args = ['train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--model', 'cnn', '--epochs', '2', '--folds', '2', '--repeats', '2', '--patch-size', '5', '--seed', '3', '--engine', 'tfjs', '--backend', 'wasm'];
    expect(await main([...args, '--threads', '1', '--out', join(dir, 'local')])).toBe(0);
    // Same --threads: the final models train on the command's threads, through the queue or not.
    expect(await main([...args, '--threads', '1', '--queue', h.url, '--out', join(dir, 'queue')])).toBe(0);
    for (const f of ['metrics.json', 'roc.json']) expect(readFileSync(join(dir, 'queue', f), 'utf8'), f).toBe(readFileSync(join(dir, 'local', f), 'utf8'));
    const bins = (d: string): string[] => filesUnder(d).filter((f) => f.endsWith('.bin')).map((f) => f.slice(d.length));
    expect(bins(join(dir, 'queue'))).toEqual(bins(join(dir, 'local')));
    expect(bins(join(dir, 'local'))).toHaveLength(5); // final model + 2 × 2 fold models
    for (const f of bins(join(dir, 'local'))) expect(readFileSync(join(dir, 'queue', f)).equals(readFileSync(join(dir, 'local', f))), f).toBe(true);
    expect((await w.waitFor(/^ran train cnn final model/, 10_000)).length).toBeGreaterThan(0);
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  });

  it('krige --queue URL writes the same prediction and variance GeoTIFFs as krige --threads 1', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const rng = new Rng(8);
    const rows = ['x,y,Cu,Au'];
    for (let i = 0; i < 150; i++) {
      const x = 500_000 + rng.range(0, 8000);
      const y = 4_600_000 + rng.range(0, 6000);
      rows.push(`${x.toFixed(1)},${y.toFixed(1)},${Math.exp(2 + Math.sin(x / 1500) + rng.normal(0, 0.2)).toFixed(3)},${i % 5 === 0 ? '<0.5' : (1 + rng.uniform()).toFixed(3)}`);
    }
    writeFileSync(join(dir, 's.csv'), rows.join('\n') + '\n');
    const w = h.startWorker();
    await w.waitFor(/on queue redis:/);
    const args = ['krige', '--samples', join(dir, 's.csv'), '--x', 'x', '--y', 'y', '--crs', 'EPSG:32645', '--fields', 'all', '--cell', '500', '--log', '--nmax', '16'];
    expect(await main([...args, '--threads', '1', '--out', join(dir, 'a.tif'), '--variance', join(dir, 'av.tif')])).toBe(0);
    expect(await main([...args, '--queue', h.url, '--out', join(dir, 'b.tif'), '--variance', join(dir, 'bv.tif')])).toBe(0);
    expect(readFileSync(join(dir, 'b.tif')).equals(readFileSync(join(dir, 'a.tif')))).toBe(true);
    expect(readFileSync(join(dir, 'bv.tif')).equals(readFileSync(join(dir, 'av.tif')))).toBe(true);
    await expect(w.waitFor(/^ran krige group/, 10_000)).resolves.toBeTruthy();
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  });

  it('--queue-batch N packs N units per queue job (same bits); a bad value is a named error before anything is enqueued', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const rng = new Rng(9);
    const rows = ['x,y,Cu'];
    for (let i = 0; i < 120; i++) rows.push(`${(500_000 + rng.range(0, 8000)).toFixed(1)},${(4_600_000 + rng.range(0, 6000)).toFixed(1)},${Math.exp(2 + rng.normal(0, 0.3)).toFixed(3)}`);
    writeFileSync(join(dir, 's.csv'), rows.join('\n') + '\n');
    const args = ['krige', '--samples', join(dir, 's.csv'), '--x', 'x', '--y', 'y', '--crs', 'EPSG:32645', '--fields', 'Cu', '--cell', '500', '--nmax', '16'];
    const bad = cli(...args, '--queue', h.url, '--queue-batch', '0', '--out', join(dir, 'bad.tif'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--queue-batch must be a whole number ≥ 1 or "auto", got "0"');
    const w = h.startWorker();
    await w.waitFor(/on queue redis:/);
    const plain = cli(...args, '--threads', '1', '--out', join(dir, 'a.tif'));
    expect(plain.code, plain.stderr).toBe(0);
    const queued = cli(...args, '--queue', h.url, '--queue-batch', '5', '--out', join(dir, 'b.tif'));
    expect(queued.code, queued.stderr).toBe(0);
    // 12 grid rows (6 km / 500 m), one group → min(12, 32) blocks of one row each, sent as ⌈12 / 5⌉ = 3 jobs.
    expect(queued.stderr).toMatch(/: 12 kriging units enqueued in 3 batches of ≤ 5 /);
    expect(readFileSync(join(dir, 'b.tif')).equals(readFileSync(join(dir, 'a.tif')))).toBe(true);
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  });
});
