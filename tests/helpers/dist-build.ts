import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './paths.ts';

/** Written by `npm run build` once tsc has emitted dist/ (main/cli/bin.mjs reads the same stamp). */
export const BUILD_STAMP = join(REPO_ROOT, 'dist/.build-stamp');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Same rule as main/cli/bin.mjs: dist/ is current when its stamp is not older than any main/ source. */
export function distIsCurrent(): boolean {
  return existsSync(BUILD_STAMP) && statSync(BUILD_STAMP).mtimeMs >= newestSource(join(REPO_ROOT, 'main'));
}

/** Held (a directory: mkdir is atomic) by the one test process that rebuilds dist/. */
const BUILD_LOCK = join(REPO_ROOT, '.dist-build.lock');
/** A lock older than this is a crashed build's, and is broken. */
const STALE_LOCK_MS = 300_000;

/**
 * Runs `npm run build` when dist/ is missing or older than the sources, so tests of the compiled
 * package never test stale JavaScript. After `npm ci` (which builds through `prepare`) it is a no-op.
 * Test files run in parallel worker processes: one takes the lock and builds, the others wait for
 * it instead of rebuilding dist/ underneath a test that is running it.
 */
export async function ensureBuilt(): Promise<void> {
  for (;;) {
    if (distIsCurrent()) return;
    try {
      mkdirSync(BUILD_LOCK);
    } catch {
      if (existsSync(BUILD_LOCK) && Date.now() - statSync(BUILD_LOCK).mtimeMs > STALE_LOCK_MS) rmSync(BUILD_LOCK, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    try {
      if (!distIsCurrent()) await promisify(execFile)('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 180_000 });
    } finally {
      rmSync(BUILD_LOCK, { recursive: true, force: true });
    }
    if (!distIsCurrent()) throw new Error('npm run build finished but dist/.build-stamp is still older than main/ sources');
    return;
  }
}
