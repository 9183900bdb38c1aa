import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startBrowserHost, type BrowserHost } from '../../main/api/browser-host.ts';
import { RENDERER_ROOT } from '../../main/api/renderer-build.ts';

/**
 * One browser session against the real backend, for the workflow-panel tests: the renderer is
 * built into the test's own folder (so test files running in parallel never serve a build
 * another file is rewriting), served by the browser host, driven in Debian's Chromium with
 * the flags of tests/browser/workbench.test.ts.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: CI must install the Debian "chromium" package (.ci/apt-packages.txt)`);

export interface Session {
  readonly host: BrowserHost;
  readonly context: BrowserContext;
  readonly page: Page;
  readonly dataDir: string;
  close(): Promise<void>;
}

export async function openSession(work: string): Promise<Session> {
  const outDir = join(work, 'renderer-dist');
  const vite = await import('vite');
  await vite.build({ configFile: join(RENDERER_ROOT, 'vite.config.ts'), root: RENDERER_ROOT, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  const dataDir = join(work, 'data');
  const host = await startBrowserHost({ staticDir: outDir, dataDir });
  const context = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--font-render-hinting=none'],
    viewport: { width: 1100, height: 720 },
    deviceScaleFactor: 1,
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => console.error('page error:', e.message));
  return {
    host,
    context,
    page,
    dataDir,
    async close() {
      await context.close();
      await host.close();
    },
  };
}

/** A session opened on the app's first screen (the demo survey) with the map rendered. */
export interface DemoSession extends Session {
  /** Console messages of Content-Security-Policy violations seen so far (should stay empty). */
  readonly cspViolations: string[];
}

export async function openDemoSession(work: string): Promise<DemoSession> {
  const s = await openSession(work);
  const cspViolations: string[] = [];
  s.page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
  });
  await s.page.goto(s.host.url);
  await s.page.waitForSelector('[data-testid="layer"]');
  await mapIdle(s.page);
  return { ...s, cspViolations };
}

/** Waits until the map has no pending loads and has rendered more often than `after`. */
export async function mapIdle(page: Page, after = -1): Promise<void> {
  await page.waitForFunction(
    (prev) => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(a: string): string | null } | null } }).document;
      const m = doc.querySelector('[data-testid="map"]');
      return !!m && m.getAttribute('data-loading') === '0' && Number(m.getAttribute('data-renders')) > prev;
    },
    after,
    { timeout: 60_000 },
  );
}

/** Fills the Training panel for the short test fits (2 epochs, 2 folds, 1 repeat, seed 5) and starts them. */
export async function startShortTraining(page: Page, stackLabel: string): Promise<void> {
  await page.click('[data-testid="tab-train"]');
  await page.selectOption('[data-testid="train-stack"]', { label: stackLabel });
  await page.fill('[data-testid="train-epochs"]', '2');
  await page.fill('[data-testid="train-folds"]', '2');
  await page.fill('[data-testid="train-repeats"]', '1');
  await page.fill('[data-testid="train-seed"]', '5');
  await page.click('[data-testid="train-run"]');
}
