import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
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
});
