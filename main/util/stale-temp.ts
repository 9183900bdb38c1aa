import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Our atomic writes (writeFileAtomic, GeoTiffWriter) write `.NAME.PID.TIME.tmp` beside NAME and
 * rename it into place. A process killed mid-write leaves that temp behind, up to the full size
 * of the output (issue 19: 63 after 180 SIGKILL trials). They are removed on the next write to
 * the same path and when a project (or the app's data folder) is opened: only names of exactly
 * our pattern, and only when the writing process is gone (or the temp is older than
 * STALE_TEMP_AGE_MS, against a PID reused by an unrelated process).
 */

/** A temp whose PID is alive is kept unless it is older than this: a day, far above any write. */
export const STALE_TEMP_AGE_MS = 24 * 60 * 60 * 1000;

const TEMP_NAME = /^\.(.+)\.(\d+)\.([0-9a-z]+)\.tmp$/;

/** The temporary sibling an atomic write of `path` uses now (one name scheme for every writer). */
export function tempPathFor(path: string, now: number = Date.now()): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${now.toString(36)}.tmp`);
}

export interface TempName {
  /** The file name the temp was going to become. */
  readonly target: string;
  readonly pid: number;
  /** When it was started (ms since 1970), from the name. */
  readonly startedMs: number;
}

/** Parses `.NAME.PID.TIME.tmp`; undefined for any other name. */
export function parseTempName(name: string): TempName | undefined {
  const m = TEMP_NAME.exec(name);
  if (!m) return undefined;
  const startedMs = parseInt(m[3], 36);
  if (!Number.isFinite(startedMs)) return undefined;
  return { target: m[1], pid: Number(m[2]), startedMs };
}

/** Is a process with this id running? (EPERM: it exists but belongs to another user.) */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isStale(t: TempName, now: number): boolean {
  if (t.pid === process.pid) return false; // one of this process's own writes, maybe in flight
  return !processAlive(t.pid) || now - t.startedMs > STALE_TEMP_AGE_MS;
}

/**
 * Removes stale temps of our pattern in `dir` (only those for `target` when given). Best effort:
 * a temp that cannot be removed is left, never an error for the write that triggered the sweep.
 * Returns the paths removed.
 */
export function removeStaleTemps(dir: string, target?: string, now: number = Date.now()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const t = parseTempName(name);
    if (!t || (target !== undefined && t.target !== target) || !isStale(t, now)) continue;
    const p = join(dir, name);
    try {
      if (!lstatSync(p).isFile()) continue;
      rmSync(p, { force: true });
      removed.push(p);
    } catch {
      // Raced with another sweeper or not ours to remove: leave it.
    }
  }
  return removed;
}
