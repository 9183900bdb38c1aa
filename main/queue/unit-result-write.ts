import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { removeStaleTemps, tempPathFor } from '../util/stale-temp.ts';

/**
 * Writes a unit's result file atomically (a temporary sibling renamed into place: a reader sees
 * the whole file or none) but not durably: no fsync of the file or its folder, unlike
 * writeFileAtomic. A unit result is transient: the command reads it during the run and removes
 * the run's folder at the end, and after a crash the unit is simply run again, so durability buys
 * nothing, while the two fsyncs cost 3 ms per tile on an idle disk and 27 ms per unit on this
 * shared machine (bench/scale-out.ts, 2026-12-04): more than a 25 ms training itself. Visibility
 * across machines needs no fsync either: NFS flushes a file's data to the server on close()
 * (close-to-open consistency), before the rename, so a command that sees the new name reads the
 * complete bytes. The command's own outputs still go through writeFileAtomic / GeoTiffWriter.
 */
export function writeUnitResult(path: string, data: Uint8Array): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  // Temps of an earlier attempt of this unit whose worker was killed mid-write (stale-temp.ts).
  removeStaleTemps(dir, basename(path));
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
