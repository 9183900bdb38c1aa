import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { tempDir } from '../helpers/paths.ts';
import { startRedis, type RedisHarness, type WorkerChild } from '../helpers/redis-server.ts';
import { haveChromium, openDemoSession, type DemoSession } from './workbench-session.ts';

/**
 * Settings → Compute in Chromium against the real backend: the queue URL of a password-protected
 * loopback redis-server is set in the dialog, a small micro-XRF job (RX on the synthetic sample)
 * then runs as a unit on a `geoanomaly worker` child, and the URL is only ever shown redacted
 * (redis://:***@HOST:PORT) in the dialog, the app log and the job log. (The contract-level
 * test, tests/app/compute-settings.test.ts, checks the bytes against the local job.)
 */
const PASSWORD = 'br0wser-Pa55';
const work = tempDir('ga-browser-compute-');
let s: DemoSession;
let page: Page;
let h: RedisHarness;
let worker: WorkerChild;

describe.skipIf(!haveChromium)('Settings → Compute (browser host, real redis-server and worker)', () => {
  beforeAll(async () => {
    h = await startRedis();
    // The harness' own client stays authenticated; every new connection needs the password.
    await h.redis.config('SET', 'requirepass', PASSWORD);
    worker = h.startWorker([], `redis://:${PASSWORD}@127.0.0.1:${h.port}`);
    s = await openDemoSession(work);
    page = s.page;
    await worker.waitFor(/on queue redis:\/\/:\*\*\*@127\.0\.0\.1/, 90_000);
  }, 180_000);
  afterAll(async () => {
    await s?.close();
    await h?.stop();
  }, 60_000);

  it('a queue URL set in the dialog is shown redacted; an xrf job then runs on the worker', { timeout: 240_000 }, async () => {
    const url = `redis://:${PASSWORD}@127.0.0.1:${h.port}`;
    const redacted = `redis://:***@127.0.0.1:${h.port}`;
    await page.click('[data-testid="open-settings"]');
    await page.check('[data-testid="compute-queue"]');
    await page.fill('[data-testid="compute-queue-url"]', url);
    await page.click('[data-testid="settings-submit"]');
    await page.waitForSelector('[data-testid="settings-dialog"]', { state: 'detached' });
    // Reopened: the queue is selected, the field is empty (never prefilled) and shows the URL redacted.
    await page.click('[data-testid="open-settings"]');
    // The dialog asks the backend for the current settings when it opens (getComputeSettings): wait for the answer.
    await expect.poll(() => page.isChecked('[data-testid="compute-queue"]'), { timeout: 30_000 }).toBe(true);
    expect(await page.inputValue('[data-testid="compute-queue-url"]')).toBe('');
    expect(await page.getAttribute('[data-testid="compute-queue-url"]', 'placeholder')).toBe(redacted);
    expect(await page.textContent('[data-testid="settings-dialog"]')).toContain(`Now: ${redacted}`);
    await page.click('[data-testid="settings-dialog"] button[type="button"]'); // Cancel: keeps the URL
    await page.waitForSelector('[data-testid="settings-dialog"]', { state: 'detached' });

    // A small job: RX on a 24 × 24 synthetic sample.
    await page.click('[data-testid="tab-xrf"]');
    await page.fill('[data-testid="xrf-synth-seed"]', '3');
    await page.fill('[data-testid="xrf-synth-size"]', '24');
    await page.click('[data-testid="xrf-synthetic"]');
    await page.waitForSelector('[data-testid="xrf-composite"]');
    for (const m of ['msfa', 'lrx', 'autoad']) await page.uncheck(`[data-testid="xrf-panel"] input[data-method="${m}"]`).catch(() => {});
    await page.check('[data-testid="xrf-panel"] input[data-method="rx"]');
    await page.fill('[data-testid="xrf-threads"]', '1');
    await page.click('[data-testid="xrf-run"]');
    await page.waitForSelector('[data-testid="xrf-auc-table"]', { timeout: 180_000 });
    expect(await page.locator('[data-testid="xrf-error"]').count()).toBe(0);
    // The unit ran on the worker process, not in the app.
    // (Waited for, not read once: the worker's stdout pipe may deliver the line after the app has
    // already shown the result.)
    expect(await worker.waitFor(/^ran xrf rx /, 30_000)).toMatch(/^ran xrf rx /);
    const [outName] = readdirSync(join(s.dataDir, 'runs')).filter((f) => /^xrf-.*\.run$/.test(f));
    const metrics = JSON.parse(readFileSync(join(s.dataDir, 'runs', outName, 'metrics.json'), 'utf8')) as Record<string, { auc: number }>;
    expect(Object.keys(metrics)).toEqual(['rx']);

    // The job log names the queue redacted; no text of the page, and no worker line, holds the password.
    const job = page.locator('[data-testid="job"][data-state="done"]').last();
    // The job list may sit in a collapsed pane: open the log through the DOM event, then read it.
    await job.locator('[data-testid="job-log-toggle"]').dispatchEvent('click');
    expect(await job.locator('[data-testid="job-log"]').textContent()).toContain(redacted);
    const html = await page.content();
    expect(html).not.toContain(PASSWORD);
    expect(worker.log.join('\n')).not.toContain(PASSWORD);
  });
});
