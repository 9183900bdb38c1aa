import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { InvalidFileError, WorkbenchError } from '../errors.ts';

/**
 * Checks a path the user (or a renderer request) named before anything reads it. The app's
 * backend serves every window from one event loop, so one bad path must not take it down:
 * `/dev/zero` (or a `.csv` symlinked to it) would be read until memory runs out, a FIFO blocks
 * the read forever, and a multi-gigabyte file loaded whole would stall every other request.
 * So: symlinks resolved, only regular files (or, where a folder is a valid input, folders of
 * regular files), and a size cap per kind of read that loads the file into memory.
 * Everything here is asynchronous (fs/promises), so the check itself never blocks the loop.
 */

const MiB = 1024 * 1024;

/**
 * Largest file each kind of whole-file read accepts. Rasters and cubes are decoded whole into
 * Float32 bands (and Node cannot read a file of 2 GiB or more into one buffer); tables, vector
 * layers and project files are parsed whole as text, and their realistic sizes are far below.
 */
export const READ_LIMITS = {
  raster: 2047 * MiB,
  cube: 2047 * MiB,
  table: 512 * MiB,
  vector: 1024 * MiB,
  project: 64 * MiB,
  json: 20 * MiB,
} as const;

export type ReadKind = keyof typeof READ_LIMITS;

/** The path exists but is a device, FIFO, socket (or a folder where a file is needed). */
export class NotARegularFileError extends WorkbenchError {
  constructor(readonly file: string, found: string, expected = 'a regular file') {
    super(`${file}: is ${found}, expected ${expected}. Choose the data file itself (devices, pipes and sockets cannot be read as data).`, { file, found, expected });
  }
}

/** A file larger than what the read that loads it into memory accepts. */
export class FileTooLargeError extends WorkbenchError {
  constructor(readonly file: string, readonly sizeBytes: number, readonly limitBytes: number, kind: ReadKind) {
    super(
      `${file}: ${formatBytes(sizeBytes)} (${sizeBytes} bytes) is more than the ${formatBytes(limitBytes)} (${limitBytes} bytes) a ${kind} file may have when the app loads it whole. ` +
        'Run the matching geoanomaly command on it instead (it streams), or cut it into smaller files.',
      { file, sizeBytes, limitBytes, kind },
    );
  }
}

export function formatBytes(n: number): string {
  if (n >= 1024 * MiB) return `${(n / (1024 * MiB)).toFixed(1)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  return `${n} B`;
}

function describeKind(s: import('node:fs').Stats): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isFIFO()) return 'a named pipe (FIFO)';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

export interface CheckedPath {
  /** The path as given. */
  readonly path: string;
  /** Symlinks resolved. */
  readonly realPath: string;
  readonly isDirectory: boolean;
  /** File size, or the sum of the data files' sizes of a folder. */
  readonly sizeBytes: number;
}

async function resolveExisting(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new InvalidFileError(path, 'file not found', 'Check the path');
    if (code === 'ELOOP') throw new InvalidFileError(path, 'is a symbolic link loop', 'Point the link at a real file');
    if (code === 'EACCES') throw new InvalidFileError(path, 'cannot be read (permission denied)', 'Check the file\'s permissions');
    throw e;
  }
}

/**
 * A regular file no larger than the limit of `kind` (symlinks resolved). Throws
 * InvalidFileError (missing), NotARegularFileError or FileTooLargeError.
 */
export async function checkUserFile(path: string, kind: ReadKind, limitBytes: number = READ_LIMITS[kind]): Promise<CheckedPath> {
  const realPath = await resolveExisting(path);
  const s = await stat(realPath);
  if (!s.isFile()) throw new NotARegularFileError(path, describeKind(s));
  if (s.size > limitBytes) throw new FileTooLargeError(path, s.size, limitBytes, kind);
  return { path, realPath, isDirectory: false, sizeBytes: s.size };
}

/**
 * A regular file as `checkUserFile`, or a folder whose entries with one of `extensions` (the
 * files a folder reader loads) are all regular files of at most the limit together.
 */
export async function checkUserFileOrFolder(path: string, kind: ReadKind, extensions: readonly string[], limitBytes: number = READ_LIMITS[kind]): Promise<CheckedPath> {
  const realPath = await resolveExisting(path);
  const s = await stat(realPath);
  if (!s.isDirectory()) return checkUserFile(path, kind, limitBytes);
  let total = 0;
  for (const name of await readdir(realPath)) {
    if (!extensions.includes(extname(name).toLowerCase())) continue;
    const entry = join(path, name);
    const e = await stat(await resolveExisting(entry));
    if (!e.isFile()) throw new NotARegularFileError(entry, describeKind(e), `a regular file (it is one of the ${extensions.join('/')} files of folder ${path})`);
    total += e.size;
    if (total > limitBytes) throw new FileTooLargeError(path, total, limitBytes, kind);
  }
  return { path, realPath, isDirectory: true, sizeBytes: total };
}

/** Reads a checked user file asynchronously (off the event loop's thread). */
export async function readUserFile(path: string, kind: ReadKind, limitBytes: number = READ_LIMITS[kind]): Promise<Buffer> {
  const c = await checkUserFile(path, kind, limitBytes);
  return readFile(c.realPath);
}
