import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
import { freePort, startRedis, type RedisHarness } from '../helpers/redis-server.ts';

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
    expect(once.log.filter((l) => /^ran krige group 0 rows/.test(l))).toHaveLength(1);
    expect(once.log.some((l) => /1 unit\(s\) done, 0 failed/.test(l))).toBe(true);
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
  });
});
