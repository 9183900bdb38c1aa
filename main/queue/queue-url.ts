import { InvalidOptionError } from '../errors.ts';

/**
 * Queue URLs: `redis://[[user]:password@]host[:port][/db]` or `rediss://…` (TLS). The password
 * must never reach a log line, an error message, a manifest or a file: everything that names the
 * queue prints `redactQueueUrl(url)` instead of the URL itself.
 */
export const QUEUE_URL_SCHEMES = ['redis:', 'rediss:'] as const;

/** The URL with its password (and any query string, which may carry one) replaced by `***`. */
export function redactQueueUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.search) u.search = '?***';
    return u.toString();
  } catch {
    // Not a URL: still hide anything between "://…:" and "@" (a password-looking part).
    return url.replace(/(\/\/[^/@:]*:)[^@/]*@/, '$1***@').replace(/^([^/]*\/\/)?[^/@]*@/, (m, s: string | undefined) => `${s ?? ''}***@`);
  }
}

export interface ParsedQueueUrl {
  /** What ioredis is given (it reads host, port, db, user, password and TLS from the URL). */
  readonly url: string;
  /** For logs and errors. */
  readonly redacted: string;
  readonly tls: boolean;
}

/** Checks the scheme and the host; a wrong URL is an InvalidOptionError that shows it redacted. */
export function parseQueueUrl(url: string): ParsedQueueUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Not echoed at all: a mistyped URL may be mostly password.
    throw new InvalidOptionError('--queue is not a URL; expected redis://[:PASSWORD@]HOST:PORT[/DB] or rediss://HOST:PORT[/DB]', { length: url.length });
  }
  const redacted = redactQueueUrl(url);
  if (!(QUEUE_URL_SCHEMES as readonly string[]).includes(u.protocol)) {
    throw new InvalidOptionError(`--queue ${redacted}: the scheme is "${u.protocol}", expected redis:// or rediss:// (TLS)`, { queue: redacted });
  }
  if (!u.hostname) throw new InvalidOptionError(`--queue ${redacted} names no host; expected redis://HOST:PORT[/DB]`, { queue: redacted });
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new InvalidOptionError(`--queue ${redacted}: the database "${db}" is not a number; expected redis://HOST:PORT/DB with DB 0…15`, { queue: redacted });
  return { url, redacted, tls: u.protocol === 'rediss:' };
}
