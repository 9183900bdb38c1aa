import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { QUEUE_NAME } from '../../main/queue/connection.ts';
import { filesUnder } from '../../main/queue/input-hash.ts';
import { InputHashMismatchError } from '../../main/queue/queue-errors.ts';
import { runXrfWorkflowViaQueue } from '../../main/queue/xrf-units.ts';
import { pixelGrid } from '../../main/xrf/detection-output.ts';
import { syntheticSample } from '../../main/xrf/synthetic.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';
import { freePort, startRedis, type RedisHarness, type WorkerChild, linesMatching } from '../helpers/redis-server.ts';

/**
 * `xrf --queue`: each detector method of the run is one unit (msfa, rx, lrx, autoad) run by a
 * `geoanomaly worker` process with main/xrf/workflow.ts' runXrfMethod; the command writes the
 * outputs. Against the local run (same seed, --threads 1) on a tiny synthetic cube: every output
 * file the same bytes, metrics.json the same but for its timing fields.
 */
const TIMING_FIELDS = ['seconds', 'secondsPerEpoch', 'cpuSecondsPerEpoch'];

function writeCubeTiff(path: string, s: ReturnType<typeof syntheticSample>): void {
  const { rows, cols, bandCount: B, pixels } = s.cube;
  const bands = Array.from({ length: B }, (_, b) => Float32Array.from({ length: rows * cols }, (_, i) => pixels[i * B + b]));
  writeGeoTiff(path, { grid: pixelGrid(rows, cols), bandNames: s.cube.bandNames, bands });
}

function withoutTiming(metrics: Record<string, Record<string, unknown>>, dir: string): Record<string, Record<string, unknown>> {
  return Object.fromEntries(Object.entries(metrics).map(([m, v]) => [m, Object.fromEntries(Object.entries(v).filter(([k]) => !TIMING_FIELDS.includes(k)).map(([k, x]) => [k, typeof x === 'string' ? x.replace(dir, '<out>') : x]))]));
}

async function leftovers(h: RedisHarness): Promise<string[]> {
  const keys = (await h.keys()).filter((k) => /xrf-|geoanomaly:cancel/.test(k));
  for (const list of ['wait', 'active', 'paused']) if ((await h.redis.llen(`bull:geoanomaly-units:${list}`)) > 0) keys.push(list);
  for (const set of ['completed', 'failed', 'delayed', 'prioritized']) if ((await h.redis.zcard(`bull:geoanomaly-units:${set}`)) > 0) keys.push(set);
  return keys;
}

describe('xrf through the Redis queue (BullMQ, real redis-server, 2 worker processes)', () => {
  let h: RedisHarness;
  let dir: string;
  let cubePath: string;
  let workers: WorkerChild[];
  beforeAll(async () => {
    h = await startRedis();
    workers = [h.startWorker(), h.startWorker()];
    dir = tempDir('ga-qxrf-');
    const s = syntheticSample({ rows: 12, cols: 12, channels: 8, inclusions: 4, seed: 6 });
    cubePath = join(dir, 'cube.tif');
    writeCubeTiff(cubePath, s);
    writeFileSync(join(dir, 'truth.json'), JSON.stringify(Array.from(s.cube.truth!)));
    await Promise.all(workers.map((w) => w.waitFor(/on queue redis:\/\/127\.0\.0\.1/)));
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  }, 30_000);

  it('--method all: score maps, ROC, separability and spectral axis byte-identical to the local run; metrics.json equal but for timing', { timeout: 120_000 }, async () => {
    const common = ['xrf', '--cube', cubePath, '--method', 'all', '--epochs', '2', '--seed', '3', '--threads', '1'];
    const localOut = join(dir, 'local');
    const queueOut = join(dir, 'queued');
    expect(await main([...common, '--out', localOut])).toBe(0);
    expect(await main([...common, '--queue', h.url, '--out', queueOut])).toBe(0);
    const files = (d: string): string[] => filesUnder(d).map((f) => relative(d, f));
    expect(files(queueOut)).toEqual(files(localOut));
    // 4 methods × (score .tif + .png), metrics.json, spectral-axis.json (the cube TIFF carries no truth: no ROC files).
    expect(files(localOut)).toHaveLength(10);
    for (const f of files(localOut)) {
      if (f === 'metrics.json') continue;
      expect(readFileSync(join(queueOut, f)).equals(readFileSync(join(localOut, f))), f).toBe(true);
    }
    const a = JSON.parse(readFileSync(join(localOut, 'metrics.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    const b = JSON.parse(readFileSync(join(queueOut, 'metrics.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(Object.keys(b)).toEqual(['msfa', 'rx', 'lrx', 'autoad']);
    // Exact equality of everything else: finalLoss, DBSCAN clusters, Auto-AD iterations, engines, backends.
    expect(withoutTiming(b, queueOut)).toEqual(withoutTiming(a, localOut));
    expect(typeof b.msfa.finalLoss).toBe('number');
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]); // the run's input and unit files removed
    expect(await leftovers(h)).toEqual([]);
  });

  it('with a truth mask: AUC, roc.json, separability.json/.png identical to the local run', { timeout: 120_000 }, async () => {
    const truth = Uint8Array.from(JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as number[]);
    const s = syntheticSample({ rows: 12, cols: 12, channels: 8, inclusions: 4, seed: 6 });
    const o = { methods: ['rx', 'lrx'] as const, seed: 2, threads: 1, truth };
    const localOut = join(dir, 'truth-local');
    const queueOut = join(dir, 'truth-queued');
    const { runXrfWorkflow } = await import('../../main/xrf/workflow.ts');
    const a = await runXrfWorkflow(s.cube, { ...o, outDir: localOut });
    const b = await runXrfWorkflowViaQueue(s.cube, { ...o, outDir: queueOut }, { url: h.url, workDir: dir });
    expect(b.rx.auc).toBe(a.rx.auc);
    expect(b.lrx.auc).toBe(a.lrx.auc);
    for (const f of ['roc.json', 'separability.json', 'separability.png', 'rx-score.tif', 'lrx-score.tif']) {
      expect(readFileSync(join(queueOut, f)).equals(readFileSync(join(localOut, f))), f).toBe(true);
    }
  });

  it('a worker that reads different bytes than the command hashed refuses the unit: InputHashMismatchError, no output', { timeout: 60_000 }, async () => {
    const s = syntheticSample({ rows: 12, cols: 12, channels: 8, inclusions: 4, seed: 6 });
    const out = join(dir, 'mismatch');
    // After the units are enqueued, the run's input file changes under the workers: what a worker
    // without the shared storage would read instead. The queue is paused while the unit is
    // enqueued, so no worker can take (and hash) it before the change: resumed only after it.
    const control = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: h.port, maxRetriesPerRequest: null } });
    await control.pause();
    let resumed: Promise<void> = Promise.resolve();
    const log = (line: string): void => {
      if (!/enqueued/.test(line)) return;
      const run = readdirSync(dir).find((n) => n.startsWith('.queue-xrf-'));
      if (run) writeFileSync(join(dir, run, 'input.json'), '{"other":"bytes"}');
      resumed = control.resume();
    };
    const err = await runXrfWorkflowViaQueue(s.cube, { methods: ['lrx'], outDir: out }, { url: h.url, workDir: dir, log })
      .catch((e: unknown) => e)
      .finally(async () => {
        await resumed;
        await control.resume(); // (also if the log line never came: the later tests need a running queue)
        await control.close();
      });
    expect((err as Error).name).toBe('InputHashMismatchError');
    expect((err as InputHashMismatchError).details.file).toMatch(/\.queue-xrf-.*input\.json$/);
    expect(existsSync(join(out, 'metrics.json'))).toBe(false);
    expect(existsSync(join(out, 'lrx-score.tif'))).toBe(false);
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(await leftovers(h)).toEqual([]);
  });

  it('Redis down: exit 1 with QueueUnreachableError naming the URL without its password, no output', { timeout: 60_000 }, async () => {
    const url = `redis://:hunter2@127.0.0.1:${await freePort()}`;
    const out = join(dir, 'down');
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'main/cli/bin.mjs'), 'xrf', '--cube', cubePath, '--method', 'lrx', '--queue', url, '--out', out], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('QueueUnreachableError');
    expect(r.stderr).toContain(url.replace('hunter2', '***'));
    expect(r.stderr + r.stdout).not.toContain('hunter2');
    expect(existsSync(join(out, 'metrics.json'))).toBe(false);
  });

  it('a worker SIGKILLed mid-unit (MSFA-Net training): the unit is retried on another worker and the outputs are identical', { timeout: 180_000 }, async () => {
    // Only the victim serves the queue when the unit is enqueued, so it surely takes the unit; the
    // survivor starts after the kill. Short locks (4 s) so the dead worker's unit stalls quickly.
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    const flags = ['--lock-ms', '4000', '--stalled-ms', '1000'];
    const victim = h.startWorker(flags);
    await victim.waitFor(/on queue redis:\/\/127\.0\.0\.1/);
    const common = ['xrf', '--cube', cubePath, '--method', 'msfa', '--epochs', '2', '--seed', '5', '--threads', '1'];
    const localOut = join(dir, 'kill-local');
    const queueOut = join(dir, 'kill-queued');
    expect(await main([...common, '--out', localOut])).toBe(0);
    let survivor: WorkerChild | null = null;
    const killer = victim.waitFor(/^start xrf msfa/, 120_000).then(async () => {
      victim.child.kill('SIGKILL');
      await victim.exited;
      survivor = h.startWorker(flags);
    });
    expect(await main([...common, '--queue', h.url, '--out', queueOut])).toBe(0);
    await killer;
    const s = survivor as WorkerChild | null;
    expect(victim.log.some((l) => /^ran xrf msfa/.test(l))).toBe(false); // it died inside the unit
    expect(await linesMatching(s ? [s] : [], /^ran xrf msfa/, 1)).toHaveLength(1);
    const files = (d: string): string[] => filesUnder(d).map((f) => relative(d, f));
    expect(files(queueOut)).toEqual(files(localOut));
    for (const f of files(localOut)) {
      if (f === 'metrics.json') continue;
      expect(readFileSync(join(queueOut, f)).equals(readFileSync(join(localOut, f))), f).toBe(true);
    }
    const a = JSON.parse(readFileSync(join(localOut, 'metrics.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    const b = JSON.parse(readFileSync(join(queueOut, 'metrics.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(withoutTiming(b, queueOut)).toEqual(withoutTiming(a, localOut));
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(await leftovers(h)).toEqual([]);
  });
});
