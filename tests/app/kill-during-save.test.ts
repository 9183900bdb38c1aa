import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadProject } from '../../main/project/project-file.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

const TRIALS = 50;
/** Where each trial's save is stopped and killed (see save-loop.ts); before `rename` the old file must survive. */
const PHASES = ['open', 'write', 'fsync', 'rename'] as const;
type Phase = (typeof PHASES)[number];

/**
 * Starts a save of version k stopped at `phase`; on its marker ("paused <phase>") SIGKILLs it.
 * The kill is therefore deterministic: it lands exactly at that point of the write, not after
 * a delay that a loaded machine stretches. Phase "none" saves to the end.
 */
function saveAndKill(path: string, k: number, phase: Phase | 'none'): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'tests/app/save-loop.ts'), path, String(k), phase], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes(`paused ${phase}\n`)) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      if (phase === 'none') return code === 0 ? resolve() : reject(new Error(`save of v${k} failed: ${stderr}`));
      if (signal === 'SIGKILL' && stdout.includes(`paused ${phase}`)) return resolve();
      reject(new Error(`save of v${k} ended (code ${code}, signal ${signal}) without pausing at ${phase}: ${stderr}`));
    });
  });
}

/** The version the file on disk holds, after checking it is whole (k % 40 + 1 layers, all naming k). */
function versionOnDisk(path: string): number {
  const p = loadProject(path);
  const k = Number(p.document.name.slice(1));
  expect(Number.isInteger(k) && k >= 1, p.document.name).toBe(true);
  expect(p.document.layers.length).toBe((k % 40) + 1);
  for (const l of p.document.layers) expect(l.id.startsWith(`v${k}-`)).toBe(true);
  return k;
}

describe('kill during save', () => {
  it(`leaves the old or the new version, never a mix, after ${TRIALS} kills at each point of the write`, { timeout: 300_000 }, async () => {
    const dir = tempDir('ga-kill-');
    const path = join(dir, 'survey.gaproj');
    await saveAndKill(path, 1, 'none');
    let onDisk = versionOnDisk(path);
    const landed: Record<Phase, number> = { open: 0, write: 0, fsync: 0, rename: 0 };
    let corrupt = 0;
    for (let t = 0; t < TRIALS; t++) {
      const k = onDisk + 1;
      const phase = PHASES[t % PHASES.length];
      await saveAndKill(path, k, phase);
      // A killed write before its rename leaves its temp; opening the project removes it (main/util/stale-temp.ts).
      const temps = readdirSync(dir).filter((f) => f.endsWith('.tmp'));
      expect(temps.length, `trial ${t} (${phase})`).toBe(phase === 'rename' ? 0 : 1);
      let v: number;
      try {
        v = versionOnDisk(path);
      } catch (e) {
        corrupt++;
        throw e;
      }
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      // Before the rename the old version is on disk; from the rename on, the new one.
      expect(v, `trial ${t} killed at ${phase}`).toBe(phase === 'rename' ? k : onDisk);
      landed[phase]++;
      onDisk = v;
    }
    expect(corrupt).toBe(0);
    console.log(`kill-during-save: ${TRIALS} kills (${PHASES.map((p) => `${landed[p]} at ${p}`).join(', ')}); 0 corrupt projects`);
  });
});
