import { lstat, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { WorkbenchError } from '../errors.ts';
import { readUserFile } from '../util/user-file.ts';

/**
 * Where the app's `writeSites` request may write (issue 19: it wrote to any path with any
 * extension). The API cannot see a dialog, so the rule is decided from the target itself:
 *   - the extension is one of the written format's (writeSites writes GeoJSON: .geojson, .json);
 *   - a path that does not exist yet is a new file the user named: written;
 *   - an existing file is replaced only when it is a sites GeoJSON (a FeatureCollection whose
 *     features all carry `siteId` and a 0/1 `label`, as main/sites/sites-geojson.ts writes): the
 *     project's own `<project>.sites.geojson`, a run's sites file, an earlier export;
 *   - any other existing file is replaced only with `replace: true`, which the renderer sends
 *     only for a path the user picked in a save dialog that asked to confirm replacing it
 *     (Electron's native dialog does); the browser host has no dialog, so there it is refused;
 *   - never a folder, device, FIFO or socket.
 */
export const SITES_WRITE_EXTENSIONS = ['.geojson', '.json'] as const;

export type SitesWriteProblem = 'extension' | 'not-a-regular-file' | 'would-replace-other-file';

/** A `writeSites` target refused before anything is written. Names the file, the rule and the fix. */
export class SitesWriteRefusedError extends WorkbenchError {
  constructor(readonly file: string, readonly problem: SitesWriteProblem, what: string, fix: string) {
    super(`${file}: ${what}. ${fix}`, { file, problem, fix });
  }
}

/** Is this text a sites GeoJSON of ours (every feature has siteId and label 0/1)? */
function isSitesGeoJson(text: string): boolean {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return false;
  }
  if (typeof v !== 'object' || v === null) return false;
  const fc = v as { type?: unknown; features?: unknown };
  if (fc.type !== 'FeatureCollection' || !Array.isArray(fc.features)) return false;
  return fc.features.every((f: unknown) => {
    const p = (f as { properties?: Record<string, unknown> } | null)?.properties;
    return !!p && p.siteId !== undefined && (p.label === 0 || p.label === 1);
  });
}

/** Throws SitesWriteRefusedError unless `writeSites` may write `path` (see the rules above). */
export async function checkSitesWriteTarget(path: string, replace = false): Promise<void> {
  const ext = extname(path).toLowerCase();
  if (!(SITES_WRITE_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new SitesWriteRefusedError(path, 'extension', `sites are written as GeoJSON, so the file must end in ${SITES_WRITE_EXTENSIONS.join(' or ')} (found "${ext || 'no extension'}")`, 'Save as NAME.geojson, or use Export → Sites for GeoPackage or Shapefile');
  }
  let exists = true;
  try {
    await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    exists = false;
  }
  if (!exists) return;
  // stat follows a link: a link to a device is refused like the device.
  const s = await stat(path).catch(() => null);
  if (s && !s.isFile()) {
    throw new SitesWriteRefusedError(path, 'not-a-regular-file', `is ${s.isDirectory() ? 'a folder' : 'not a regular file'}, so a sites file cannot be saved there`, 'Choose a file name such as sites.geojson');
  }
  if (replace) return;
  if (s && isSitesGeoJson((await readUserFile(path, 'vector')).toString('utf8'))) return;
  throw new SitesWriteRefusedError(
    path,
    'would-replace-other-file',
    'already exists and is not a sites file written by the workbench; saving would replace it',
    'Choose a new file name, or pick this file in the save dialog and confirm replacing it',
  );
}
