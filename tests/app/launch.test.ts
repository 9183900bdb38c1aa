import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

/**
 * `npm start` (electron/launch.mjs) on its Electron branch, which no machine here can reach
 * through the `electron` package (its binary download fails): GEOANOMALY_ELECTRON names a
 * stand-in binary. launch.mjs is copied into a scratch root whose main/cli/bin.mjs is a stand-in
 * too, so the test sees exactly which programs it runs, with which arguments and in which order,
 * without building or serving the real renderer (other test files build renderer/dist).
 */
const dir = tempDir('ga-launch-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const root = join(dir, 'root');
mkdirSync(join(root, 'electron'), { recursive: true });
mkdirSync(join(root, 'main/cli'), { recursive: true });
copyFileSync(join(REPO_ROOT, 'electron/launch.mjs'), join(root, 'electron/launch.mjs'));
const calls = join(dir, 'calls.jsonl');
// The CLI stand-in: records its arguments; exits with $CLI_EXIT (the renderer build's status).
writeFileSync(
  join(root, 'main/cli/bin.mjs'),
  `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(calls)}, JSON.stringify({ program: 'cli', args: process.argv.slice(2) }) + '\\n');\nprocess.exit(Number(process.env.CLI_EXIT ?? 0));\n`,
);
// The Electron stand-in: a script with a shebang, as the real binary is an executable file.
const fakeElectron = join(dir, 'electron-bin');
writeFileSync(
  fakeElectron,
  `#!${process.execPath}\nconst { appendFileSync } = require('node:fs');\nappendFileSync(${JSON.stringify(calls)}, JSON.stringify({ program: 'electron', args: process.argv.slice(2) }) + '\\n');\nprocess.exit(Number(process.env.ELECTRON_EXIT ?? 0));\n`,
);
chmodSync(fakeElectron, 0o755);

function launch(env: Record<string, string>, args: string[] = []) {
  rmSync(calls, { force: true });
  const r = spawnSync(process.execPath, [join(root, 'electron/launch.mjs'), ...args], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  const recorded = existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { program: string; args: string[] }) : [];
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls: recorded };
}

describe('npm start (electron/launch.mjs) with an Electron binary', () => {
  it('builds the renderer first, then opens electron/main.mjs in Electron with the extra arguments, and exits with its status', () => {
    const r = launch({ GEOANOMALY_ELECTRON: fakeElectron, ELECTRON_EXIT: '3' }, ['--user-data-dir=/tmp/x']);
    expect(r.calls).toEqual([
      { program: 'cli', args: ['serve', '--build-only'] },
      { program: 'electron', args: [join(root, 'electron/main.mjs'), '--user-data-dir=/tmp/x'] },
    ]);
    expect(r.status).toBe(3);
    expect(r.stdout).not.toContain('Electron is not installed');
  });

  it('does not open Electron when the renderer build fails, and exits with the build status', () => {
    const r = launch({ GEOANOMALY_ELECTRON: fakeElectron, CLI_EXIT: '2' });
    expect(r.calls).toEqual([{ program: 'cli', args: ['serve', '--build-only'] }]);
    expect(r.status).toBe(2);
  });

  it('refuses a GEOANOMALY_ELECTRON that names no file, saying what to do, and starts nothing', () => {
    const missing = join(dir, 'no-such-electron');
    const r = launch({ GEOANOMALY_ELECTRON: missing });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`GEOANOMALY_ELECTRON names ${missing}, which does not exist`);
    expect(r.stderr).toContain('unset it');
    expect(r.calls).toEqual([]);
  });

  it('without an Electron binary (none here: the package is not installed) falls back to the browser host', () => {
    const env = { GEOANOMALY_ELECTRON: '' };
    const r = launch(env, ['--port', '0']);
    // The scratch root has no electron package, so this is the fallback wherever the test runs.
    expect(r.stdout).toContain('Electron is not installed');
    expect(r.calls).toEqual([{ program: 'cli', args: ['serve', '--port', '0'] }]);
    expect(r.status).toBe(0);
  });
});
