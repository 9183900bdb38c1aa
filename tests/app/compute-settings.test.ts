import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHandlers, type Handlers } from '../../main/api/handlers.ts';
import type { JobManager } from '../../main/api/job-manager.ts';
import type { Events, JobResult, RunRecord } from '../../main/api/contract.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { initBackend } from '../../main/models/backend.ts';
import { filesUnder } from '../../main/queue/input-hash.ts';
import { emptyProject } from '../../main/project/project-file.ts';
import { transformStack } from '../../main/sites/band-transform.ts';
import { Rng } from '../../main/util/rng.ts';
import { pixelGrid } from '../../main/xrf/detection-output.ts';
import { syntheticSample } from '../../main/xrf/synthetic.ts';
import { writeRandomRun } from '../maps/random-run.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';
import { startRedis, type RedisHarness } from '../helpers/redis-server.ts';

/**
 * Settings → Compute at the contract level: with a queue URL set, a predict job started through
 * the handlers runs as units on a real redis-server (password-protected) served by a
 * `geoanomaly worker` child, with the same output bytes as the local job; the URL's password
 * never reaches an answer, an event, the job log, the project file or any file of the data folder.
 */
const PASSWORD = 'pa55-W0rd-xyz';

describe('Settings → Compute: local or a queue URL', () => {
  let h: RedisHarness;
  let worker: ChildProcess;
  const workerLog: string[] = [];
  let url: string;
  let handlers: Handlers;
  let jobs: JobManager;
  const events: { name: keyof Events; payload: unknown }[] = [];
  const dataDir = tempDir('ga-compute-settings-');
  beforeAll(async () => {
    h = await startRedis();
    // The harness' own client is already authenticated; every new connection needs the password.
    await h.redis.config('SET', 'requirepass', PASSWORD);
    url = `redis://:${PASSWORD}@127.0.0.1:${h.port}`;
    worker = spawn(process.execPath, [join(REPO_ROOT, 'main/cli/bin.mjs'), 'worker', '--queue', url], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const ready = new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`worker did not start:\n${workerLog.join('')}`)), 60_000);
      const on = (d: Buffer): void => {
        workerLog.push(d.toString('utf8'));
        if (/on queue redis:\/\//.test(workerLog.join(''))) {
          clearTimeout(t);
          res();
        }
      };
      worker.stderr?.on('data', on);
      worker.stdout?.on('data', on);
    });
    ({ handlers, jobs } = createHandlers({ dataDir, host: 'browser', emit: (name, payload) => events.push({ name, payload }), autosaveDelayMs: 60_000 }));
    await ready;
  }, 90_000);
  afterAll(async () => {
    jobs?.cancelAll();
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker.once('exit', r));
      worker.kill('SIGKILL');
      await exited;
    }
    await h?.stop();
  }, 30_000);

  async function runJob(start: Promise<{ jobId: string }>): Promise<JobResult> {
    const { jobId } = await start;
    await jobs.settled(jobId);
    const end = events.find((e) => (e.name === 'jobDone' || e.name === 'jobFailed') && (e.payload as { jobId: string }).jobId === jobId);
    if (end?.name !== 'jobDone') throw new Error(`job ${jobId} failed: ${JSON.stringify(end?.payload)}`);
    return (end.payload as Events['jobDone']).result;
  }

  it('a bad URL is refused by name and leaves the setting as it was; the URL is answered redacted', async () => {
    expect(await handlers.getComputeSettings({})).toEqual({ mode: 'local', queueUrl: null, queueRequests: ['predict', 'train', 'krige', 'xrf'] });
    await expect(handlers.setComputeSettings({ mode: 'queue', queueUrl: `http://:${PASSWORD}@host:6379` })).rejects.toMatchObject({ name: 'InvalidOptionError' });
    await expect(handlers.setComputeSettings({ mode: 'queue', queueUrl: `http://:${PASSWORD}@host:6379` })).rejects.not.toThrow(PASSWORD);
    expect((await handlers.getComputeSettings({})).mode).toBe('local');
    const s = await handlers.setComputeSettings({ mode: 'queue', queueUrl: url });
    expect(s).toEqual({ mode: 'queue', queueUrl: `redis://:***@127.0.0.1:${h.port}`, queueRequests: ['predict', 'train', 'krige', 'xrf'] });
    expect(JSON.stringify(await handlers.getComputeSettings({}))).not.toContain(PASSWORD);
    await handlers.setComputeSettings({ mode: 'local' });
  });

  it('with a queue URL a predict job runs its tiles on the worker (same bytes as the local job); the password is in no log, event or file', { timeout: 180_000 }, async () => {
    await initBackend('wasm');
    const dir = tempDir('ga-compute-job-');
    const names = ['Au', 'Cu', 'As'];
    const grid: GridSpec = { originX: 0, originY: 2000, cellSizeX: 100, cellSizeY: 100, rows: 20, cols: 16, crs: crsFromEpsg(32645) };
    const rng = new Rng(3);
    const stack = { grid, bandNames: names, bands: names.map(() => Float32Array.from({ length: grid.rows * grid.cols }, () => Math.exp(rng.normal(1, 0.8)))) };
    const { stats } = transformStack(stack, { transform: 'log10-standardize' });
    writeGeoTiff(join(dir, 's.tif'), stack);
    await writeRandomRun(join(dir, 'run'), ['cnn'], stats, { patchSize: 9, stemFilters: 8, stageFilters: [8, 8], denseUnits: 8 }, 5);
    const options = { run: join(dir, 'run'), stack: join(dir, 's.tif'), engine: 'tfjs', backend: 'wasm', batch: 100 };

    const local = await runJob(handlers.predict({ options: { ...options, threads: 1, out: join(dir, 'local.tif') } }));
    expect(local.lines.join('\n')).not.toMatch(/units enqueued/);

    await handlers.setComputeSettings({ mode: 'queue', queueUrl: url });
    const request = { options: { ...options, out: join(dir, 'queued.tif') } };
    const progress0 = events.length;
    const queued = await runJob(handlers.predict(request));
    const log = queued.lines.join('\n');
    // The job log names the queue redacted; the worker logged the tiles it ran.
    expect(log).toContain(`queue redis://:***@127.0.0.1:${h.port}`);
    expect(log).toMatch(/\d+ prediction units enqueued/);
    expect(workerLog.join('')).toMatch(/ran predict tile rows/);
    expect(events.slice(progress0).some((e) => e.name === 'jobProgress' && /units, \d+ worker/.test((e.payload as { message: string }).message))).toBe(true);
    expect(readFileSync(join(dir, 'queued.tif')).equals(readFileSync(join(dir, 'local.tif')))).toBe(true);

    // What the renderer records in the project: the request it sent (the backend added --queue to argv only).
    const run: RunRecord = { id: 'r1', kind: 'predict', startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), request, outputs: [join(dir, 'queued.tif')] };
    const saved = await handlers.saveProject({ path: join(dir, 'p.gaproj'), document: { ...emptyProject('queue'), runs: [run] } });
    await handlers.autosaveProject({ path: saved.path, document: { ...emptyProject('queue'), runs: [run] } });
    expect(readFileSync(saved.path, 'utf8')).not.toContain(PASSWORD);
    expect(readFileSync(saved.path, 'utf8')).not.toContain('redis://');
    for (const f of [...filesUnder(dataDir), ...filesUnder(dir)]) expect(readFileSync(f).includes(PASSWORD), f).toBe(false);
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
    expect(JSON.stringify(await handlers.listJobs({}))).not.toContain(PASSWORD);
    expect(workerLog.join('')).not.toContain(PASSWORD);

    // Back to local: no queue flag, the queue sees no new unit.
    await handlers.setComputeSettings({ mode: 'local' });
    const again = await runJob(handlers.predict({ options: { ...options, threads: 1, out: join(dir, 'again.tif') } }));
    expect(again.lines.join('\n')).not.toMatch(/queue redis/);
  });

  it('Cancel on a queued job: the job fails with CancelledError at once; the run leaves no unit in Redis and no output', { timeout: 120_000 }, async () => {
    const dir = tempDir('ga-compute-cancel-');
    const s = syntheticSample({ rows: 24, cols: 24, channels: 8, seed: 2 });
    const { rows, cols, bandCount: B, pixels } = s.cube;
    writeGeoTiff(join(dir, 'cube.tif'), { grid: pixelGrid(rows, cols), bandNames: s.cube.bandNames, bands: Array.from({ length: B }, (_, b) => Float32Array.from({ length: rows * cols }, (_, i) => pixels[i * B + b])) });
    await handlers.setComputeSettings({ mode: 'queue', queueUrl: url });
    const out = join(dir, 'out');
    // One worker: MSFA-Net (many epochs) runs, the other three methods wait on the queue.
    const mark = events.length;
    const { jobId } = await handlers.xrf({ options: { cube: join(dir, 'cube.tif'), method: 'msfa,autoad,rx,lrx', epochs: 2000, threads: 1, out } });
    const t0 = Date.now();
    while (!events.slice(mark).some((e) => e.name === 'jobProgress' && (e.payload as { jobId: string; message: string }).jobId === jobId && /xrf: 0\/4 units, 1 worker/.test((e.payload as { message: string }).message))) {
      if (Date.now() - t0 > 60_000) throw new Error('the xrf job never reported a running unit');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await handlers.cancelJob({ jobId })).cancelled).toBe(true);
    await jobs.settled(jobId);
    const end = events.slice(mark).find((e) => e.name === 'jobFailed' && (e.payload as { jobId: string }).jobId === jobId);
    expect((end?.payload as Events['jobFailed']).error.name).toBe('CancelledError');
    // The command's cleanup runs on in its worker thread: every job of the run removed, within its 15 s wait.
    const runKeys = async (): Promise<string[]> => {
      const keys = (await h.keys()).filter((k) => /xrf-|geoanomaly:cancel/.test(k));
      for (const list of ['wait', 'active']) if ((await h.redis.llen(`bull:geoanomaly-units:${list}`)) > 0) keys.push(list);
      return keys;
    };
    const until = Date.now() + 20_000;
    while ((await runKeys()).length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
    expect(await runKeys()).toEqual([]);
    expect(workerLog.join('')).toMatch(/failed xrf msfa .*CancelledError/);
    expect(workerLog.join('')).not.toMatch(/start xrf (autoad|rx|lrx)/);
    expect(existsSync(join(out, 'metrics.json'))).toBe(false);
    expect(existsSync(join(out, 'msfa-score.tif'))).toBe(false);
    await handlers.setComputeSettings({ mode: 'local' });
  });
});
