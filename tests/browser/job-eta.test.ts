import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { tempDir } from '../helpers/paths.ts';
import { haveChromium, openDemoSession, type Session } from './workbench-session.ts';

/**
 * Every long step shows progress and an ETA (issue 18), not only the study wizard's: a long
 * kriging run started from the Kriging panel (four elements on 200 m cells, minutes of work)
 * shows "N % · <message> · about S s left" in the Jobs tab once 2 % is done, and is cancelled
 * from there (its Cancel button ends it cancelled).
 */
const work = tempDir('ga-browser-job-eta-');
let s: Session;
let page: Page;

describe.skipIf(!haveChromium)('Jobs tab: progress with an ETA for a long job (browser host)', () => {
  beforeAll(async () => {
    s = await openDemoSession(work);
    page = s.page;
  });
  afterAll(async () => {
    await s?.close();
  });

  it('a long kriging run shows "about N s left" beside its progress, and Cancel ends it', { timeout: 240_000 }, async () => {
    await page.click('[data-testid="tab-krige"]');
    for (const f of ['Ag', 'As', 'Zn', 'Pb']) await page.check(`[data-testid="krige-fields"] input[data-field="${f}"]`);
    await page.fill('[data-testid="krige-cell"]', '200');
    await page.fill('[data-testid="krige-nmax"]', '');
    await page.click('[data-testid="krige-run"]');
    await page.waitForSelector('[data-testid="krige-progress"]');
    await page.click('[data-testid="tab-jobs"]');
    const job = page.locator('[data-testid="job"][data-kind="krige"]').first();
    expect(await job.getAttribute('data-state')).toBe('running');
    await expect.poll(() => job.locator('[data-testid="job-message"]').textContent(), { timeout: 180_000, interval: 500 }).toMatch(/^\d+ % · .+ · about \d+ s left$/);
    await job.locator('[data-testid="job-cancel"]').click();
    await expect.poll(() => job.getAttribute('data-state'), { timeout: 30_000 }).toBe('cancelled');
    expect(await job.locator('[data-testid="job-message"]').textContent()).toBe('cancelled');
  });
});
