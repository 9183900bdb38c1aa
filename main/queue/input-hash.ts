import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sha256File } from '../util/file-hash.ts';
import { InputHashMismatchError } from './queue-errors.ts';

export { sha256File };

/** An input file of a unit: its absolute path on the shared storage and the SHA-256 of its bytes. */
export interface HashedInput {
  readonly path: string;
  readonly sha256: string;
}


/** Every regular file under `path` (itself if it is a file), sorted, absolute. */
export function filesUnder(path: string): string[] {
  const abs = resolve(path);
  if (!statSync(abs).isDirectory()) return [abs];
  const out: string[] = [];
  for (const e of readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(abs, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

export async function hashInputs(paths: readonly string[]): Promise<HashedInput[]> {
  const files = [...new Set(paths.flatMap((p) => filesUnder(p)))];
  return Promise.all(files.map(async (p) => ({ path: p, sha256: await sha256File(p) })));
}

/**
 * Worker side: a process hashes a file again only when its size or mtime changed (units of one run
 * share their inputs; re-reading a 1 GB stack per tile would cost more than the tile).
 */
const seen = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

export async function verifyInputs(inputs: readonly HashedInput[]): Promise<void> {
  for (const input of inputs) {
    let st;
    try {
      st = statSync(input.path);
    } catch {
      throw new InputHashMismatchError(input.path, input.sha256, 'no such file');
    }
    let known = seen.get(input.path);
    if (!known || known.size !== st.size || known.mtimeMs !== st.mtimeMs) {
      known = { size: st.size, mtimeMs: st.mtimeMs, sha256: await sha256File(input.path) };
      seen.set(input.path, known);
    }
    if (known.sha256 !== input.sha256) throw new InputHashMismatchError(input.path, input.sha256, known.sha256);
  }
}
