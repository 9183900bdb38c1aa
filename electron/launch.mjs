#!/usr/bin/env node
// `npm start`: the desktop app when the Electron binary is installed, else the browser host
// (`geoanomaly serve`), which prints the URL to open. Electron is an optional dependency
// whose binary download can fail (offline machines, CI), so both paths must work.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The Electron binary to run: `$GEOANOMALY_ELECTRON` when set (an Electron unpacked by hand on a
 * machine whose npm install could not download it, or a system one), else the `electron`
 * package's. A set variable naming no file is an error, not a silent fall back to the browser:
 * the user asked for that binary.
 */
async function electronBinary() {
  const override = process.env.GEOANOMALY_ELECTRON;
  if (override) {
    if (existsSync(override)) return override;
    console.error(`npm start: GEOANOMALY_ELECTRON names ${override}, which does not exist. Point it at the electron binary (e.g. the "electron" file of an unpacked Electron 41 release) or unset it to use the electron package or the browser host.`);
    process.exit(1);
  }
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
