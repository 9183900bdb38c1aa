import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { _electron, type ElectronApplication } from 'playwright-core';
import { CSP } from '../../electron/security.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';
import { electronSmokePrereqs, machineProbes } from './electron-smoke-prereqs.ts';

/**
 * Smoke test of the desktop shell: `electron electron/main.mjs` under xvfb-run (through
 * Playwright's Electron driver), waits for the map to draw, then checks the window's security
 * flags in the main process (contextIsolation, nodeIntegration off, sandbox, webSecurity), that
 * the page has no Node globals but the preload's contextBridge API, and that the CSP blocks a
 * remote script. It runs only where the Electron binary and xvfb-run are installed; elsewhere it
 * is skipped and the reason is printed (the decision is tested below on every machine).
 */
const prereqs = electronSmokePrereqs(machineProbes);
if (!prereqs.ok) console.warn(`tests/app/electron-smoke.test.ts: Electron smoke test SKIPPED: ${prereqs.reason}`);

describe('Electron smoke test: skip decision (electron-smoke-prereqs.ts)', () => {
  const probes = (electron: string | null, exists: boolean, xvfb: string | null) => ({ electronPath: () => electron, exists: () => exists, which: () => xvfb });
  it('runs only with an existing Electron binary and xvfb-run, and says what is missing otherwise', () => {
    expect(electronSmokePrereqs(probes('/e/electron', true, '/usr/bin/xvfb-run'))).toEqual({ ok: true, electron: '/e/electron', xvfbRun: '/usr/bin/xvfb-run' });
    expect(electronSmokePrereqs(probes(null, false, '/usr/bin/xvfb-run'))).toMatchObject({ ok: false, reason: expect.stringMatching(/"electron" package is not installed/) });
    expect(electronSmokePrereqs(probes('/e/electron', false, '/usr/bin/xvfb-run'))).toMatchObject({ ok: false, reason: expect.stringMatching(/\/e\/electron, which does not exist/) });
    expect(electronSmokePrereqs(probes('/e/electron', true, null))).toMatchObject({ ok: false, reason: expect.stringMatching(/xvfb-run is not on PATH/) });
  });

  it('the probes of this machine agree with what is installed', () => {
    const hasElectron = existsSync(join(REPO_ROOT, 'node_modules', 'electron', 'package.json'));
    if (!hasElectron) expect(prereqs).toMatchObject({ ok: false, reason: expect.stringMatching(/electron/) });
    if (prereqs.ok) expect(existsSync(prereqs.electron)).toBe(true);
  });
});

describe.skipIf(!prereqs.ok)(`Electron smoke test${prereqs.ok ? '' : ` (skipped: ${prereqs.reason})`}`, () => {
  const dir = tempDir('ga-electron-');
  let app: ElectronApplication | null = null;
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens the app window under xvfb-run, draws the map, and the window is locked down', async () => {
    if (!prereqs.ok) return;
    // The window loads renderer/dist: build it when missing, as `npm start` does.
    execFileSync(process.execPath, [join(REPO_ROOT, 'main/cli/bin.mjs'), 'serve', '--build-only'], { cwd: REPO_ROOT, stdio: 'inherit' });
    // Playwright puts its own flags (--inspect=0 --remote-debugging-port=0) first, so xvfb-run is
    // reached through a wrapper that hands every argument on to Electron.
    const wrapper = join(dir, 'electron-under-xvfb.sh');
    writeFileSync(wrapper, `#!/bin/sh\nexec "${prereqs.xvfbRun}" -a "${prereqs.electron}" "$@"\n`);
    chmodSync(wrapper, 0o755);
    app = await _electron.launch({
      executablePath: wrapper,
      // A throw-away profile (Chromium's --user-data-dir, which Electron's userData follows).
      args: [join(REPO_ROOT, 'electron/main.mjs'), `--user-data-dir=${join(dir, 'profile')}`],
      cwd: REPO_ROOT,
      timeout: 120_000,
    });
    const win = await app.firstWindow({ timeout: 120_000 });
    // The map: OpenLayers draws into a canvas inside the map element once the demo layer loads.
    await win.waitForSelector('[data-testid="map"] canvas', { timeout: 120_000 });

    const prefs = await app.evaluate(({ BrowserWindow }) => {
      const w = BrowserWindow.getAllWindows()[0];
      const p = w.webContents.getLastWebPreferences() ?? {};
      return { contextIsolation: p.contextIsolation, nodeIntegration: p.nodeIntegration, sandbox: p.sandbox, webSecurity: p.webSecurity, nodeIntegrationInWorker: p.nodeIntegrationInWorker, url: w.webContents.getURL() };
    });
    expect(prefs).toEqual({ contextIsolation: true, nodeIntegration: false, sandbox: true, webSecurity: true, nodeIntegrationInWorker: false, url: expect.stringMatching(/^app:\/\/workbench\//) });

    // No Node in the page; the preload's API arrives through contextBridge (a frozen copy).
    const page = await win.evaluate(() => ({
      require: typeof (globalThis as { require?: unknown }).require,
      process: typeof (globalThis as { process?: unknown }).process,
      workbench: typeof (globalThis as { workbench?: unknown }).workbench,
      frozen: Object.isFrozen((globalThis as { workbench?: object }).workbench ?? {}),
    }));
    expect(page).toEqual({ require: 'undefined', process: 'undefined', workbench: 'object', frozen: true });

    // The CSP (electron/security.ts) is enforced: a remote script is refused with a violation event.
    expect(CSP).toMatch(/script-src/);
    // (A string: the node tsconfig has no DOM types.)
    const violated = await win.evaluate<string>(`new Promise((resolve) => {
      document.addEventListener('securitypolicyviolation', (e) => resolve(e.effectiveDirective));
      const s = document.createElement('script');
      s.src = 'https://example.com/not-allowed.js';
      document.head.append(s);
      setTimeout(() => resolve('no violation'), 5000);
    })`);
    expect(violated).toMatch(/^script-src/);
  }, 300_000);
});
