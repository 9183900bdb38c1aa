import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { tempDir } from '../helpers/paths.ts';
import { expectElementScreenshot } from './screenshot-compare.ts';
import { haveChromium, mapIdle, openDemoSession, type Session } from './workbench-session.ts';

/**
 * The window from 1024 px to 3840 px (4K) wide (issue #18): no horizontal overflow of the page or the
 * toolbar, the toolbar on one row, a screenshot per width; and an imported layer that lies
 * outside the current view brings the view to it.
 */
const work = tempDir('ga-browser-layout-');
let s: Session;
let page: Page;

interface Metrics {
  readonly pageScroll: number;
  readonly pageClient: number;
  readonly barScroll: number;
  readonly barClient: number;
  /** Distinct top offsets of the toolbar's children: 1 = one row. */
  readonly rows: number;
}

const metrics = (): Promise<Metrics> =>
  page.evaluate(() => {
    type El = { scrollWidth: number; clientWidth: number; children: ArrayLike<{ getBoundingClientRect(): { top: number; height: number } }> };
    const doc = (globalThis as unknown as { document: { documentElement: El; querySelector(s: string): El | null } }).document;
    const bar = doc.querySelector('.toolbar');
    if (!bar) throw new Error('no toolbar');
    // Children whose vertical centres differ by more than half a row sit on different rows.
    const centres = Array.from(bar.children).map((c) => { const r = c.getBoundingClientRect(); return r.top + r.height / 2; });
    const rows = centres.filter((c, i) => centres.slice(0, i).every((d) => Math.abs(c - d) > 8)).length;
    return { pageScroll: doc.documentElement.scrollWidth, pageClient: doc.documentElement.clientWidth, barScroll: bar.scrollWidth, barClient: bar.clientWidth, rows };
  });

describe.skipIf(!haveChromium)('layout from 1024 to 3840 px wide; zoom to an imported layer (browser host)', () => {
  beforeAll(async () => {
    s = await openDemoSession(work);
    page = s.page;
  });
  afterAll(async () => {
    await s?.close();
  });

  for (const width of [1024, 1440, 2560, 3840]) {
    it(`${width} px: no horizontal overflow, the toolbar on one row`, async () => {
      await page.setViewportSize({ width, height: 800 });
      await mapIdle(page);
      const m = await metrics();
      expect(m.pageScroll, `page scrollWidth at ${width} px`).toBeLessThanOrEqual(m.pageClient);
      expect(m.barScroll, `toolbar scrollWidth at ${width} px`).toBeLessThanOrEqual(m.barClient);
      expect(m.rows, `toolbar rows at ${width} px`).toBe(1);
      await expectElementScreenshot(page.locator('.toolbar'), `layout-toolbar-${width}.png`, work);
    });
  }

  it('importing a layer outside the current view zooms to it', async () => {
    await page.setViewportSize({ width: 1440, height: 800 });
    const truth = await readGeoTiff(join(s.dataDir, 'demo-survey', 'anomaly-truth.tif'));
    const g = truth.grid;
    const [xmin, xmax] = [g.originX, g.originX + g.cols * g.cellSizeX];
    const [ymin, ymax] = [g.originY - g.rows * g.cellSizeY, g.originY];
    // Send the view 1000 km away from the survey.
    await page.fill('[data-testid="goto-input"]', `${xmin + 1e6} ${ymin + 1e6}`);
    await page.click('[data-testid="goto"]');
    const view = async (): Promise<number[]> => ((await page.getAttribute('[data-testid="map"]', 'data-view')) ?? '').split(' ').map(Number);
    await expect.poll(async () => (await view())[0]).toBeGreaterThan(xmax);
    await page.click('[data-testid="import-layer"]');
    await page.selectOption('[data-testid="import-kind"]', 'raster');
    await page.fill('[data-testid="import-path"]', join(s.dataDir, 'demo-survey', 'anomaly-truth.tif'));
    await page.click('[data-testid="import-submit"]');
    await page.waitForSelector('[data-testid="import-dialog"]', { state: 'detached' });
    // The view now overlaps the raster's extent (it was fitted to it).
    await expect.poll(async () => { const v = await view(); return v[0] < xmax && v[2] > xmin && v[1] < ymax && v[3] > ymin; }, { timeout: 30_000 }).toBe(true);
  });
});
