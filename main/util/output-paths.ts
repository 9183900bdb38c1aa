import { accessSync, constants, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { WorkbenchError } from '../errors.ts';

/**
 * Preflight of output paths, run BEFORE a command computes anything (issue 19: outputs were
 * checked only when written, after the whole computation, and failed with raw EROFS / EISDIR /
 * "EEXIST … mkdir" errors; `predict --out` equal to `--stack` overwrote the input silently).
 * Nothing is created here: a folder that does not exist yet is only checked to be creatable
 * (its nearest existing ancestor is a writable folder), and the command's own atomic write
 * creates it later.
 */

/** What an output flag names: one file written atomically, or a folder the command fills. */
export type OutputKind = 'file' | 'dir';

export interface OutputPath {
  /** The flag that named it, without dashes (for the message: `--out`). */
  readonly flag: string;
  readonly path: string;
  readonly kind: OutputKind;
}

export interface InputPath {
  readonly flag: string;
  readonly path: string;
}

/** Why an output path was refused. */
export type OutputPathProblem = 'is-a-folder' | 'is-a-file' | 'parent-is-a-file' | 'not-writable' | 'read-only' | 'is-an-input' | 'same-as-other-output';

/** An output path that cannot or must not be written. Names the flag, the path, the problem and the fix. */
export class OutputPathError extends WorkbenchError {
  constructor(readonly path: string, readonly flag: string, readonly problem: OutputPathProblem, what: string, fix: string) {
    super(`--${flag} ${path}: ${what}. ${fix}`, { file: path, flag, problem, fix });
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The same file or folder? Compares real paths where they exist (symlinks, `..`), else resolved paths. */
function samePath(a: string, b: string): boolean {
  const real = (p: string): string => {
    const abs = resolve(p);
    try {
      return realpathSync(abs);
    } catch {
      // Not there (yet): its parent's real path, so a path through a link to the folder matches.
      try {
        return join(realpathSync(dirname(abs)), basename(abs));
      } catch {
        return abs;
      }
    }
  };
  return real(a) === real(b);
}

/** The nearest ancestor of `folder` (itself included) that exists, with its stats. */
function nearestExisting(folder: string): { path: string; stats: Stats } {
  let p = resolve(folder);
  for (;;) {
    const s = statOrUndefined(p);
    if (s) return { path: p, stats: s };
    const up = dirname(p);
    if (up === p) throw new Error(`no existing ancestor of ${folder}`); // the root always exists
    p = up;
  }
}

function checkWritableFolder(o: OutputPath, folder: string): void {
  const { path: existing, stats } = nearestExisting(folder);
  if (!stats.isDirectory()) {
    throw new OutputPathError(o.path, o.flag, 'parent-is-a-file', `its folder cannot be created because ${existing} is a file, not a folder`, `Choose a --${o.flag} path whose folders are folders, or move ${existing} away`);
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EROFS') {
      throw new OutputPathError(o.path, o.flag, 'read-only', `${existing} is on a read-only file system`, `Give --${o.flag} a path on a writable disk`);
    }
    throw new OutputPathError(o.path, o.flag, 'not-writable', `${existing} is not writable by this user (${code ?? 'access denied'})`, `Give --${o.flag} a folder you may write to, or change its permissions`);
  }
}

/**
 * Checks every output before the work starts: a file output is not an existing folder, a
 * folder output is not an existing file, the folder that will hold it exists or can be
 * created and is writable, no output is one of the inputs, and no two outputs are the same
 * path. Throws OutputPathError on the first problem.
 */
export function checkOutputPaths(outputs: readonly OutputPath[], inputs: readonly InputPath[] = []): void {
  outputs.forEach((o, i) => {
    const s = statOrUndefined(o.path);
    if (o.kind === 'file' && s?.isDirectory()) {
      throw new OutputPathError(o.path, o.flag, 'is-a-folder', 'is a folder, but a file is written here', `Give --${o.flag} a file path, e.g. ${resolve(o.path, 'output.tif')}`);
    }
    if (o.kind === 'dir' && s && !s.isDirectory()) {
      throw new OutputPathError(o.path, o.flag, 'is-a-file', 'is a file, but an output folder is written here', `Give --${o.flag} a folder path (a new or existing folder)`);
    }
    for (const input of inputs) {
      if (samePath(o.path, input.path)) {
        throw new OutputPathError(o.path, o.flag, 'is-an-input', `is also the input --${input.flag}; writing it would overwrite the input`, `Give --${o.flag} a new path, different from --${input.flag}`);
      }
    }
    for (const other of outputs.slice(0, i)) {
      if (samePath(o.path, other.path)) {
        throw new OutputPathError(o.path, o.flag, 'same-as-other-output', `is also the output --${other.flag}; one would overwrite the other`, `Give --${o.flag} and --${other.flag} different paths`);
      }
    }
    checkWritableFolder(o, o.kind === 'dir' ? o.path : dirname(resolve(o.path)));
  });
}
