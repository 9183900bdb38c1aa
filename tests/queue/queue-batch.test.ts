import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { initBackend } from '../../main/models/backend.ts';
import { crossValidateAndFit, type ModelRunResult } from '../../main/models/cross-validate.ts';
import type { ModelKind } from '../../main/models/architectures.ts';
import { predictDepositProbability } from '../../main/models/train.ts';
import { crossValidateAndFitViaQueue } from '../../main/queue/train-units.ts';
import { planBatches } from '../../main/queue/queue-client.ts';
import type { BatchProgress } from '../../main/queue/units.ts';
import { CancelledError } from '../../main/errors.ts';
import { tempDir } from '../helpers/paths.ts';
import { startRedis, type RedisHarness, type WorkerChild, linesMatching } from '../helpers/redis-server.ts';
import { TINY, toyData } from '../models/toy-data.ts';

/**
 * Batches: several small units per BullMQ job (issue 14: a sweep of ~25 ms trainings paid 32–140 %
 * queue overhead with one job per unit). Through a real redis-server and 2 `geoanomaly worker`
 * processes, against the local run (crossValidateAndFit on one thread, itself checked against the
 * worker-thread path in tests/models/parallel-cv.test.ts): batched results are the same bits; a
 * worker SIGKILLed or SIGTERMed mid-batch leaves the result identical, and the units its batch had
 * recorded as done are not run again; cancel mid-batch stops within seconds and leaves no key.
 */
// A lock short enough for the kill test, long enough that a worker busy with ~1 s units on a
// loaded machine keeps renewing it (with 4 s, two units once ran twice after a lapsed lock).
const WORKER_FLAGS = ['--lock-ms', '10000', '--stalled-ms', '1000'];
const KINDS = ['cnn', 'gk-cnn'] as const;
// 3 folds × 3 repeats × 2 models + 2 final models = 20 units.
const O = { folds: 3, repeats: 3, seed: 3, backend: 'wasm', train: { epochs: 3, batchSize: 8, learningRate: 3e-3, architecture: TINY } };
const UNITS = 20;

async function leftovers(h: RedisHarness): Promise<string[]> {
  const keys = (await h.keys()).filter((k) => /train-|geoanomaly:cancel/.test(k));
  for (const list of ['wait', 'active', 'paused']) if ((await h.redis.llen(`bull:geoanomaly-units:${list}`)) > 0) keys.push(list);
  for (const set of ['completed', 'failed', 'delayed', 'prioritized']) if ((await h.redis.zcard(`bull:geoanomaly-units:${set}`)) > 0) keys.push(set);
  return keys;
}

/** Exact equality of two runs (toEqual on numbers is ===): folds, summaries, final predictions. */
function expectSameRuns(a: Map<ModelKind, ModelRunResult>, b: Map<ModelKind, ModelRunResult>, data: ReturnType<typeof toyData>): void {
  const all = Array.from({ length: data.n }, (_, i) => i);
  for (const k of KINDS) {
    expect(b.get(k)!.cv.folds).toHaveLength(9);
    expect(b.get(k)!.cv.folds).toEqual(a.get(k)!.cv.folds);
    expect(b.get(k)!.cv.mean).toEqual(a.get(k)!.cv.mean);
    expect(b.get(k)!.cv.ci95).toEqual(a.get(k)!.cv.ci95);
    expect(Array.from(predictDepositProbability(b.get(k)!.final.model, data, all))).toEqual(Array.from(predictDepositProbability(a.get(k)!.final.model, data, all)));
  }
}
const dispose = (...runs: Map<ModelKind, ModelRunResult>[]): void => {
  for (const m of runs) for (const r of m.values()) r.final.model.dispose();
};
/** Labels in the lines of `w` since `mark` that start with `verb` ("ran", "skip", "start"). */
const labels = (w: WorkerChild, mark: number, verb: string): string[] =>
  w.log.slice(mark).flatMap((l) => (l.startsWith(`${verb} train `) ? [/^\S+ (train .+?) \(run/.exec(l)?.[1] ?? l] : []));
/** "done/total" of every progress message: a unit counted twice would push done past total or make it go back. */
function expectCountedOnce(messages: readonly string[]): void {
  const counts = messages.flatMap((m) => {
    const x = /(\d+)\/(\d+) units/.exec(m);
    return x ? [[Number(x[1]), Number(x[2])]] : [];
  });
  expect(counts.length).toBeGreaterThan(0);
  for (let i = 0; i < counts.length; i++) {
    expect(counts[i][1]).toBe(UNITS);
    expect(counts[i][0]).toBeLessThanOrEqual(UNITS);
    if (i > 0) expect(counts[i][0]).toBeGreaterThanOrEqual(counts[i - 1][0]);
  }
  expect(counts.at(-1)?.[0]).toBe(UNITS);
}

describe('planBatches (guided self-scheduling of small units)', () => {
  it('big batches first, at most the target job time, shrinking to single units at the end; every unit planned once', () => {
    // 10 units of 100 ms, 1 worker, 1 s target: ⌈10/2⌉ = 5, ⌈5/2⌉ = 3, ⌈2/2⌉ = 1, 1.
    expect(planBatches(10, 100, 1, 1000)).toEqual([5, 3, 1, 1]);
    // Units longer than the target: one per job.
    expect(planBatches(5, 2000, 3, 1000)).toEqual([1, 1, 1, 1, 1]);
    // The bench sweep after its probe: 198 units of 25 ms on 2 workers: capped at 40 (1 s).
    const s = planBatches(198, 25, 2, 1000);
    expect(s[0]).toBe(40);
    expect(s.reduce((a, b) => a + b, 0)).toBe(198);
    for (let i = 1; i < s.length; i++) expect(s[i]).toBeLessThanOrEqual(s[i - 1]);
    expect(s.at(-1)).toBe(1);
    expect(planBatches(0, 25, 2)).toEqual([]);
  });
});

describe('batched units through the Redis queue (BullMQ, real redis-server, 2 worker processes)', () => {
  let h: RedisHarness;
  let workers: WorkerChild[];
  const data = toyData({ sites: 12, perSite: 2, signal: 2, seed: 5 });
  let local: Map<ModelKind, ModelRunResult>;
  beforeAll(async () => {
    await initBackend('wasm');
    h = await startRedis();
    workers = [h.startWorker(WORKER_FLAGS), h.startWorker(WORKER_FLAGS)];
    await Promise.all(workers.map((w) => w.waitFor(/on queue redis:\/\/127\.0\.0\.1/)));
    local = await crossValidateAndFit(KINDS, data, { ...O, threads: 1 });
  }, 120_000);
  afterAll(async () => {
    if (local) dispose(local);
    await h?.stop();
  }, 30_000);

  it('a sweep in batches of 6, and in batches sized from the probed unit time (auto), is bit-identical to the local run; every unit runs once', { timeout: 300_000 }, async () => {
    const marks = workers.map((w) => w.log.length);
    const lines: string[] = [];
    const progress: string[] = [];
    const six = await crossValidateAndFitViaQueue(KINDS, data, O, { url: h.url, workDir: tempDir('ga-qbatch-'), batch: 6, log: (l) => lines.push(l) }, { progress: (_f, m) => progress.push(m) });
    try {
      expectSameRuns(local, six, data);
      expect(lines.some((l) => l.includes(`${UNITS} cross-validation units enqueued in 4 batches of ≤ 6`))).toBe(true);
      const ran = await linesMatching(workers, /^ran train /, UNITS);
      expect(ran, workers.map((w) => w.log.join('\n')).join('\n----\n')).toHaveLength(UNITS);
      expect(new Set(workers.flatMap((w, i) => labels(w, marks[i], 'ran'))).size).toBe(UNITS);
      expectCountedOnce(progress);
    } finally {
      dispose(six);
    }
    expect(await leftovers(h)).toEqual([]);
    const auto: string[] = [];
    const viaAuto = await crossValidateAndFitViaQueue(KINDS, data, O, { url: h.url, workDir: tempDir('ga-qbatch-auto-'), log: (l) => auto.push(l) });
    try {
      expectSameRuns(local, viaAuto, data);
      // A few probe units (max(4, 2 · workers seen)), then the others planned from their times.
      const probe = Number(/\((\d+) first, to time them/.exec(auto.join('\n'))?.[1]);
      expect(probe).toBeGreaterThanOrEqual(4);
      expect(auto.some((l) => new RegExp(`units of ≈ \\d+ ms: the other ${UNITS - probe} in \\d+ batches of `).test(l))).toBe(true);
    } finally {
      dispose(viaAuto);
    }
    expect(await leftovers(h)).toEqual([]);
  });

  it('a worker SIGKILLed mid-batch: the batch reruns on the other worker (stalled lock), skips the units it had recorded as done, and the result is identical', { timeout: 300_000 }, async () => {
    // Everything in one batch: whichever worker takes it holds every unit; the other one waits
    // for its lock to lapse after the kill.
    const ids = await Promise.all(workers.map(async (w) => (await w.waitFor(/^worker \S+ on queue/)).split(' ')[1]));
    const marks = workers.map((w) => w.log.length);
    let recorded = 0;
    let v = -1;
    const killer = (async () => {
      // Kill once the job in Redis records ≥ 2 finished units of its worker while that worker runs another one.
      for (;;) {
        for (const k of (await h.keys()).filter((x) => /^bull:geoanomaly-units:train-[^:]+$/.test(x))) {
          const p = await h.redis.hget(k, 'progress');
          const rec = p ? (JSON.parse(p) as Partial<BatchProgress>) : null;
          const i = ids.indexOf(rec?.worker ?? '');
          if (i >= 0 && Object.keys(rec?.done ?? {}).length >= 2 && (workers[i].log.at(-1) ?? '').startsWith('start train ')) {
            recorded = Object.keys(rec?.done ?? {}).length;
            v = i;
            workers[i].child.kill('SIGKILL');
            return;
          }
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const progress: string[] = [];
    const q = await crossValidateAndFitViaQueue(KINDS, data, O, { url: h.url, workDir: tempDir('ga-qbatch-kill-'), batch: UNITS }, { progress: (_f, m) => progress.push(m) });
    try {
      await killer;
      const victim = workers[v];
      const survivor = workers[1 - v];
      await victim.exited;
      expectSameRuns(local, q, data);
      expectCountedOnce(progress);
      const skipped = labels(survivor, marks[1 - v], 'skip');
      const victimRan = labels(victim, marks[v], 'ran');
      // The units recorded before the kill were skipped, not rerun: each one the victim had run.
      expect(skipped.length).toBeGreaterThanOrEqual(recorded);
      for (const l of skipped) expect(victimRan).toContain(l);
      const survivorRan = labels(survivor, marks[1 - v], 'ran');
      for (const l of skipped) expect(survivorRan).not.toContain(l);
      expect(new Set([...victimRan, ...survivorRan]).size).toBe(UNITS);
    } finally {
      dispose(q);
    }
    expect(await leftovers(h)).toEqual([]);
    workers[v] = h.startWorker(WORKER_FLAGS); // for the next tests
    await workers[v].waitFor(/on queue redis:/);
  });

  it('SIGTERM on a worker mid-batch: it finishes the running unit, returns the rest of its batch, exits 0; the other worker runs only the rest; identical result', { timeout: 300_000 }, async () => {
    const gentle = workers[0];
    const other = workers[1];
    const marks = workers.map((w) => w.log.length);
    let termAt = '';
    const terminator = (async () => {
      // SIGTERM in the middle of the gentle worker's second unit of the batch.
      for (;;) {
        const starts = labels(gentle, marks[0], 'start');
        if (starts.length >= 2) {
          termAt = starts[1];
          gentle.child.kill('SIGTERM');
          return;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    // Batches of 10: the gentle worker holds one of the two jobs.
    const q = await crossValidateAndFitViaQueue(KINDS, data, O, { url: h.url, workDir: tempDir('ga-qbatch-term-'), batch: 10 });
    try {
      await terminator;
      expect(await gentle.exited).toBe(0);
      expectSameRuns(local, q, data);
      const gentleRan = labels(gentle, marks[0], 'ran');
      expect(gentleRan).toContain(termAt); // the unit it was running when told to stop
      expect(gentle.log.slice(marks[0]).some((l) => /^returned \d+ unit\(s\) of batch \S+ to the queue \(stopping\)/.test(l))).toBe(true);
      // Its finished units were recorded before the batch went back: the other worker skips exactly those.
      const skipped = labels(other, marks[1], 'skip');
      expect([...skipped].sort()).toEqual([...gentleRan].sort());
      expect(new Set([...gentleRan, ...labels(other, marks[1], 'ran')]).size).toBe(UNITS);
    } finally {
      dispose(q);
    }
    expect(await leftovers(h)).toEqual([]);
  });

  it('cancel mid-batch: CancelledError within seconds, the running batch stops, no unit files and no key of the run left', { timeout: 300_000 }, async () => {
    const workDir = tempDir('ga-qbatch-cancel-');
    const marks = workers.map((w) => w.log.length);
    const ac = new AbortController();
    let abortedAt = 0;
    // Cancel once a unit of this run has finished (waitFor would also match lines of earlier tests).
    void (async () => {
      while (workers.every((w, i) => labels(w, marks[i], 'ran').length === 0)) await new Promise((r) => setTimeout(r, 5));
      abortedAt = Date.now();
      ac.abort();
    })();
    const err = await crossValidateAndFitViaQueue(KINDS, data, { ...O, train: { ...O.train, epochs: 6 } }, { url: h.url, workDir, batch: UNITS }, { signal: ac.signal }).catch((e: unknown) => e);
    const stopMs = Date.now() - abortedAt;
    expect(err).toBeInstanceOf(CancelledError);
    expect(stopMs).toBeLessThan(15_000);
    expect(readdirSync(workDir)).toEqual([]); // the run's folder of inputs and unit results removed
    expect(await leftovers(h)).toEqual([]);
    // The batch stopped: its unit running at the cancel failed with CancelledError, the rest never started.
    const ran = workers.reduce((a, w, i) => a + labels(w, marks[i], 'ran').length, 0);
    expect(ran).toBeLessThan(UNITS);
    expect((await linesMatching(workers, /^failed train .*CancelledError/, 1)).length, workers.map((w) => w.log.slice(-30).join('\n')).join('\n----\n')).toBeGreaterThanOrEqual(1);
  });
});
