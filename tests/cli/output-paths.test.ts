import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../../main/commands/registry.ts';
import { main } from '../../main/cli/main.ts';
import { checkOutputPaths, OutputPathError, type OutputPathProblem } from '../../main/util/output-paths.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

const dir = tempDir('output-paths-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problemOf(f: () => void): OutputPathProblem | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof OutputPathError) return e.problem;
    throw e;
  }
  return undefined;
}

/** Runs `geoanomaly ARGS` in this process, capturing stderr. */
async function cliInProcess(args: string[]): Promise<{ code: number; stderr: string }> {
  const chunks: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await main(args), stderr: chunks.join('') };
  } finally {
    process.stderr.write = write;
  }
}

/** Whether uid 65534 can read the file (every folder above it traversable). */
function nobodyCanRead(file: string): boolean {
  if (process.getuid?.() !== 0) return false;
  const r = spawnSync(process.execPath, ['-e', `require('node:fs').accessSync(${JSON.stringify(file)}, require('node:fs').constants.R_OK)`], { uid: 65534, gid: 65534, cwd: '/', encoding: 'utf8', timeout: 30_000 });
  return r.status === 0;
}

describe('checkOutputPaths (main/util/output-paths.ts)', () => {
  it('accepts a new file in a folder still to be created, and refuses nothing else by default', () => {
    expect(problemOf(() => checkOutputPaths([{ flag: 'out', path: join(dir, 'new', 'deeper', 'x.tif'), kind: 'file' }]))).toBeUndefined();
    expect(problemOf(() => checkOutputPaths([{ flag: 'out', path: join(dir, 'new-run'), kind: 'dir' }]))).toBeUndefined();
  });

  it('refuses a folder where a file is written (EISDIR) and a file where a folder is written', () => {
    mkdirSync(join(dir, 'a-folder'));
    writeFileSync(join(dir, 'a-file.txt'), 'x');
    expect(problemOf(() => checkOutputPaths([{ flag: 'out', path: join(dir, 'a-folder'), kind: 'file' }]))).toBe('is-a-folder');
    expect(problemOf(() => checkOutputPaths([{ flag: 'out', path: join(dir, 'a-file.txt'), kind: 'dir' }]))).toBe('is-a-file');
  });

  it('refuses a path whose folder cannot be created because an ancestor is a file (EEXIST/ENOTDIR on mkdir)', () => {
    writeFileSync(join(dir, 'blocker'), 'x');
    expect(problemOf(() => checkOutputPaths([{ flag: 'out', path: join(dir, 'blocker', 'sub', 'p.tif'), kind: 'file' }]))).toBe('parent-is-a-file');
  });

  it('refuses an output that is an input, also through a symbolic link, and two outputs on one path', () => {
    writeFileSync(join(dir, 'stack.tif'), 'x');
    symlinkSync(join(dir, 'stack.tif'), join(dir, 'link.tif'));
    const input = [{ flag: 'stack', path: join(dir, 'stack.tif') }];
    expect(problemOf(() => checkOutputPaths([{ flag: 'out', path: join(dir, 'stack.tif'), kind: 'file' }], input))).toBe('is-an-input');
    expect(problemOf(() => checkOutputPaths([{ flag: 'out', path: join(dir, 'link.tif'), kind: 'file' }], input))).toBe('is-an-input');
    expect(problemOf(() => checkOutputPaths([{ flag: 'out', path: join(dir, 'sub', '..', 'stack.tif'), kind: 'file' }], input))).toBe('is-an-input');
    expect(
      problemOf(() => checkOutputPaths([{ flag: 'out', path: join(dir, 'k.tif'), kind: 'file' }, { flag: 'variance', path: join(dir, 'k.tif'), kind: 'file' }])),
    ).toBe('same-as-other-output');
  });

  it('names the flag, the path and a fix in the message', () => {
    try {
      checkOutputPaths([{ flag: 'out', path: join(dir, 'stack.tif'), kind: 'file' }], [{ flag: 'stack', path: join(dir, 'stack.tif') }]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(OutputPathError);
      const m = (e as Error).message;
      expect(m).toContain(`--out ${join(dir, 'stack.tif')}`);
      expect(m).toContain('--stack');
      expect(m).toMatch(/Give --out a new path/);
    }
  });
});

describe('every command declares its output paths, and the runner checks them first', () => {
  it('declares only flags that exist as string options', async () => {
    for (const entry of COMMANDS) {
      const cmd = await entry.load();
      for (const flag of [...Object.keys(cmd.paths?.outputs ?? {}), ...(cmd.paths?.inputs ?? [])]) {
        expect(cmd.options[flag]?.type, `${cmd.name} --${flag}`).toBe('string');
      }
      // Every command that writes has an --out (or named outputs) declared.
      if (cmd.options.out) expect(cmd.paths?.outputs.out, `${cmd.name} --out`).toBeDefined();
    }
  });

  it('predict --out equal to --stack is refused before any work, and the stack is untouched', async () => {
    const stack = join(dir, 'stack.tif');
    const before = readFileSync(stack);
    // The run folder does not even exist: the output check comes before anything is read.
    const r = await cliInProcess(['predict', '--run', join(dir, 'no-run'), '--stack', stack, '--out', stack]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/OutputPathError: --out .*stack\.tif: is also the input --stack/);
    expect(readFileSync(stack).equals(before)).toBe(true);
  });

  it('krige --out on an existing folder fails with OutputPathError (not EISDIR after kriging)', async () => {
    const r = await cliInProcess(['krige', '--samples', join(dir, 'none.csv'), '--x', 'x', '--y', 'y', '--out', join(dir, 'a-folder')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/OutputPathError: --out .*a-folder: is a folder/);
  });

  // EACCES: root may write anywhere, so the CLI runs as the unprivileged user "nobody" (uid 65534).
  // That needs a checkout "nobody" can read (a clone under a mode-700 mktemp folder is not): where
  // it cannot, this case is skipped, and output-paths-erofs.test.ts still checks the EACCES mapping
  // with an injected error.
  it.runIf(process.getuid?.() === 0 && nobodyCanRead(join(REPO_ROOT, 'main/cli/bin.mjs')))('an unwritable output folder fails with OutputPathError naming it (EACCES)', () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(dir, 0o755);
    chmodSync(locked, 0o555);
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'main/cli/bin.mjs'), 'predict', '--run', join(dir, 'no-run'), '--stack', join(dir, 'stack.tif'), '--out', join(locked, 'sub', 'prob.tif')], {
      cwd: REPO_ROOT, encoding: 'utf8', uid: 65534, gid: 65534, env: { ...process.env, HOME: '/tmp' }, timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/OutputPathError: --out .*locked\/sub\/prob\.tif: .*locked is not writable/);
  });
});
