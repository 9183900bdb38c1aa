import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * Whether the Electron smoke test (electron-smoke.test.ts) can run on this machine, and if not,
 * why — as a pure decision over injected probes, so the skip path is unit-tested everywhere.
 * It needs the Electron binary (the optional `electron` dependency, whose main export is the
 * binary's path; its download fails offline) and xvfb-run (Debian package xvfb) for a display.
 */
export interface SmokeProbes {
  /** Path the `electron` package names, or null when the package is not installed. */
  readonly electronPath: () => string | null;
  /** Absolute path of a program on PATH, or null. */
  readonly which: (program: string) => string | null;
  readonly exists: (path: string) => boolean;
}

export type SmokePrereqs = { readonly ok: true; readonly electron: string; readonly xvfbRun: string } | { readonly ok: false; readonly reason: string };

export function electronSmokePrereqs(p: SmokeProbes): SmokePrereqs {
  const electron = p.electronPath();
  if (electron === null) return { ok: false, reason: 'the optional "electron" package is not installed (npm install on a machine with internet access fetches it)' };
  if (!p.exists(electron)) return { ok: false, reason: `the "electron" package names ${electron}, which does not exist (its binary download failed)` };
  const xvfbRun = p.which('xvfb-run');
  if (xvfbRun === null) return { ok: false, reason: 'xvfb-run is not on PATH (apt-get install xvfb)' };
  return { ok: true, electron, xvfbRun };
}

/** The probes of this machine. */
export const machineProbes: SmokeProbes = {
  electronPath: () => {
    try {
      const v = createRequire(import.meta.url)('electron') as unknown;
      return typeof v === 'string' ? v : null;
    } catch {
      return null;
    }
  },
  which: (program) => {
    try {
      return execFileSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).trim() || null;
    } catch {
      return null;
    }
  },
  exists: existsSync,
};
