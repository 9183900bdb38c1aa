import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';
import { serveCommand } from '../../main/cli/commands/serve.ts';

/** Starts a command, waits for the URL line, fetches it, stops the process with SIGINT. */
async function runUntilUrl(args: string[]): Promise<{ out: string; status: number; code: number | null }> {
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /running at (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64})/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', () => reject(new Error(`exited before printing a URL:\n${out}`)));
  });
  const res = await fetch(url);
  await res.text();
  const code = await new Promise<number | null>((resolve) => {
    child.on('exit', (c) => resolve(c));
    child.kill('SIGINT');
  });
  return { out, status: res.status, code };
}

describe('geoanomaly serve', () => {
  const dir = tempDir('ga-serve-');
  const staticDir = join(dir, 'dist');
  mkdirSync(staticDir);
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>workbench</title>');

  it('prints a tokenised 127.0.0.1 URL, serves it, and stops on Ctrl+C', async () => {
    const r = await runUntilUrl(['main/cli/bin.mjs', 'serve', '--port', '0', '--static-dir', staticDir, '--data-dir', join(dir, 'data')]);
    expect(r.status).toBe(200);
    expect(r.code).toBe(0);
  });

  it('is what npm start falls back to when the Electron binary is absent', async () => {
    const r = await runUntilUrl(['electron/launch.mjs', '--static-dir', staticDir, '--data-dir', join(dir, 'data2')]);
    expect(r.out).toContain('Electron is not installed');
    expect(r.status).toBe(200);
  });

  it('refuses a port out of range with a usage error', async () => {
    const io = { out: () => undefined, err: () => undefined, progress: () => undefined, signal: new AbortController().signal };
    await expect(serveCommand.run({ values: { port: '70000', 'static-dir': staticDir }, positionals: [] }, io)).rejects.toThrow(
      expect.objectContaining({ name: 'InvalidOptionError', message: 'geoanomaly serve: --port must be an integer 0…65535, got 70000' }),
    );
  });
});
