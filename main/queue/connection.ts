import { Redis } from 'ioredis';
import type { ConnectionOptions } from 'bullmq';
import { parseQueueUrl, type ParsedQueueUrl } from './queue-url.ts';
import { QueueUnreachableError } from './queue-errors.ts';

/** The BullMQ queue every command and worker uses (one queue; a unit's kind says what runs it). */
export const QUEUE_NAME = 'geoanomaly-units';
/** Prefix of the keys BullMQ writes (its default), so tests and operators know what is ours. */
export const QUEUE_PREFIX = 'bull';
/** Key a command sets to tell the workers to stop the running units of a cancelled run. */
export function cancelKey(runId: string): string {
  return `geoanomaly:cancel:${runId}`;
}

/** How long a first connection may take before the queue counts as unreachable. */
export const CONNECT_TIMEOUT_MS = 5000;

export interface QueueConnection extends ParsedQueueUrl {
  /** A connected client (for our own keys: cancel flags). */
  readonly redis: Redis;
  /** Options for BullMQ's own connections (Queue, QueueEvents, Worker). */
  readonly options: ConnectionOptions;
  close(): Promise<void>;
}

/** ioredis options from a checked URL (ioredis reads host, port, db, username, password and TLS from it). */
function redisOptions(url: string): { host: string; port: number; username?: string; password?: string; db?: number; tls?: { servername: string }; maxRetriesPerRequest: null; connectTimeout: number } {
  const u = new URL(url);
  const db = u.pathname.replace(/^\//, '');
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: { servername: u.hostname } } : {}),
    // BullMQ's workers need blocking commands never to be retried by ioredis itself.
    maxRetriesPerRequest: null,
    connectTimeout: CONNECT_TIMEOUT_MS,
  };
}

/**
 * Connects once and PINGs before anything is enqueued: ioredis would otherwise retry forever and
 * the command would hang instead of saying which URL it could not reach.
 */
export async function openQueueConnection(url: string): Promise<QueueConnection> {
  const parsed = parseQueueUrl(url);
  const options = redisOptions(parsed.url);
  const redis = new Redis({ ...options, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 1 });
  // Errors also arrive as events; without a listener ioredis prints them (with the host) itself.
  let lastError = '';
  redis.on('error', (e: Error) => {
    lastError = e.message;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    redis.disconnect();
    const cause = (e as Error).message || lastError || 'no answer';
    throw new QueueUnreachableError(parsed.redacted, cause.split(parsed.url).join(parsed.redacted));
  }
  return {
    ...parsed,
    redis,
    options,
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
