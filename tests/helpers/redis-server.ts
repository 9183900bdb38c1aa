import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { REPO_ROOT, tempDir } from './paths.ts';

/**
 * A real Debian redis-server on a free 127.0.0.1 port (no persistence, its own temp dir) and
 * `geoanomaly worker` child processes; `stop()` ends every process it started, by its own pid.
 */
export const REDIS_SERVER = '/usr/bin/redis-server';

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

export interface RedisHarness {
  readonly url: string;
  readonly port: number;
  readonly redis: Redis;
  /** Starts `geoanomaly worker --queue URL …extra` (queueUrl: another URL, e.g. with a password); its stderr lines are collected in `log`. */
  startWorker(extra?: readonly string[], queueUrl?: string): WorkerChild;
  /** Keys of the server (SCAN, all of them). */
  keys(): Promise<string[]>;
  stopRedis(): Promise<void>;
  stop(): Promise<void>;
}

export interface WorkerChild {
  readonly child: ChildProcess;
  readonly log: string[];
  /** Resolves once the worker logged a line matching `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

/**
 * The lines of `workers` matching `re`, once there are at least `atLeast` of them (or after
 * `timeoutMs`, with whatever is there, so the caller's assertion fails with the real count).
 * A worker writes its "ran …" line before the unit completes, but the test process may read the
 * queue's completion before the worker's stdout pipe: counting lines right after the command
 * returns raced under load.
 */
export async function linesMatching(workers: readonly WorkerChild[], match: RegExp | ((line: string) => boolean), atLeast: number, timeoutMs = 15_000): Promise<string[]> {
  const test = typeof match === 'function' ? match : (l: string): boolean => match.test(l);
  const t0 = Date.now();
  for (;;) {
    const hits = workers.flatMap((w) => w.log.filter(test));
    if (hits.length >= atLeast || Date.now() - t0 > timeoutMs) return hits;
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startRedis(): Promise<RedisHarness> {
  const dir = tempDir('ga-redis-');
  const port = await freePort();
  const server = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const serverExit = new Promise<void>((res) => server.once('exit', () => res()));
  const url = `redis://127.0.0.1:${port}`;
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  for (let i = 0; ; i++) {
    try {
      await redis.connect();
      await redis.ping();
      break;
    } catch (e) {
      if (i > 50) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const workers: WorkerChild[] = [];
  let redisStopped = false;
  const stopRedis = async (): Promise<void> => {
    if (redisStopped) return;
    redisStopped = true;
    redis.disconnect();
    server.kill('SIGTERM');
    await serverExit;
  };
  return {
    url,
    port,
    redis,
    startWorker(extra = [], queueUrl = url) {
      const child = spawn(process.execPath, [join(REPO_ROOT, 'main/cli/bin.mjs'), 'worker', '--queue', queueUrl, ...extra], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      const log: string[] = [];
      const waiters: { re: RegExp; res: (l: string) => void }[] = [];
      // One line buffer per stream: a partial stderr line must never prefix a stdout line
      // (that turned "ran xrf rx …" into an unmatched line once under load).
      const lineReader = (): ((d: Buffer) => void) => {
        let buf = '';
        return (d) => {
          buf += d.toString('utf8');
          const lines = buf.split('\n');
          buf = lines.pop() ?? '';
          for (const l of lines) {
            log.push(l);
            for (const w of [...waiters]) if (w.re.test(l)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.res(l);
            }
          }
        };
      };
      child.stderr?.on('data', lineReader());
      child.stdout?.on('data', lineReader());
      const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
      const w: WorkerChild = {
        child,
        log,
        exited,
        waitFor: (re, timeoutMs = 60_000) => {
          const hit = log.find((l) => re.test(l));
          if (hit) return Promise.resolve(hit);
          return new Promise((res, rej) => {
            const t = setTimeout(() => rej(new Error(`worker log has no line matching ${re} after ${timeoutMs} ms:\n${log.join('\n')}`)), timeoutMs);
            waiters.push({ re, res: (l) => (clearTimeout(t), res(l)) });
          });
        },
      };
      workers.push(w);
      return w;
    },
    async keys() {
      const out: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
        cursor = next;
        out.push(...batch);
      } while (cursor !== '0');
      return out;
    },
    stopRedis,
    async stop() {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      await stopRedis();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
