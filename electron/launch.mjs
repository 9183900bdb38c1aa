#!/usr/bin/env node
// `npm start`: the desktop app when the Electron binary is installed, else the browser host
// (`geoanomaly serve`), which prints the URL to open. Electron is an optional dependency
// whose binary download can fail (offline machines, CI), so both paths must work.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));

async function electronBinary() {
  try {
    // The electron package's main export is the path of its binary (absent if the download failed).
    const mod = await import('electron');
    const path = typeof mod.default === 'string' ? mod.default : null;
    return path && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

function run(cmd, args) {
  const child = spawn(cmd, args, { cwd: root, stdio: 'inherit' });
  const forward = (sig) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

const extra = process.argv.slice(2);
const bin = await electronBinary();
if (bin) {
  // Build the renderer first if needed (the window loads renderer/dist/index.html).
  const build = spawn(process.execPath, [join(root, 'main/cli/bin.mjs'), 'serve', '--build-only'], { cwd: root, stdio: 'inherit' });
  build.on('exit', (code) => {
    if (code !== 0) process.exit(code ?? 1);
    run(bin, [join(root, 'electron/main.mjs'), ...extra]);
  });
} else {
  console.log('Electron is not installed (optional dependency); starting the browser host instead.');
  run(process.execPath, [join(root, 'main/cli/bin.mjs'), 'serve', ...extra]);
}
