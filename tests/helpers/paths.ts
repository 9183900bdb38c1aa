import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** Reference data beside the repository (never copied into it). */
export const SHARED_DATA = resolve(REPO_ROOT, '../shared/data');
export const TIANSHAN = join(SHARED_DATA, 'tianshan-gkdcn');

export function tempDir(prefix = 'ga-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
