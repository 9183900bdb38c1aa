import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { formatTick, legendTicks } from '../../main/figures/map-figure.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { tempDir } from '../helpers/paths.ts';
import { decodePng } from './png.ts';
import { haveChromium, mapIdle, openDemoSession, type Session } from './workbench-session.ts';

/**
 * The layout page exported from the app is a vector PDF with real text (issue #18, "Done when":
 * `pdftotext` on a layout page in a browser test): the demo's anomaly raster laid out through the
 * Export dialog with faults and deposits; poppler's pdftotext must find the title, the legend's
 * caption, tick labels and overlay key, and the CRS line. The PNG output of the same dialog is kept
 * (an A4 page of paper × DPI pixels). tests/export/map-layout.test.ts checks the writer itself
 * (fonts, one image at native resolution, overlays as paths); this checks the app's path to it.
 */
const work = tempDir('ga-browser-layout-pdf-');
let s: Session;
let page: Page;

const TITLE = 'Browser layout: synthetic anomaly';

async function exportLayout(format: 'pdf' | 'png', path: string): Promise<void> {
  await page.click('[data-testid="tab-layers"]');
  await page.locator('[data-testid="layer"][data-layer-id^="anomaly-truth-"] [data-testid="layer-export-layout"]').click();
  await page.locator('[data-testid="export-dialog"]').waitFor();
  await page.fill('[data-testid="export-title"]', TITLE);
  await page.fill('[data-testid="export-units"]', 'score');
  await page.fill('[data-testid="export-dpi"]', '96');
  await page.selectOption('[data-testid="export-format"]', format);
  await page.selectOption('[data-testid="export-deposits"]', { label: 'Deposits' });
  await page.selectOption('[data-testid="export-faults"]', { label: 'Faults' });
  await page.fill('[data-testid="export-path"]', path);
  await page.click('[data-testid="export-run"]');
  await page.waitForSelector('[data-testid="export-done"], [data-testid="export-error"]', { timeout: 120_000 });
  expect(await page.locator('[data-testid="export-error"]').count()).toBe(0);
  expect(await page.textContent('[data-testid="export-done"]')).toBe(`Saved ${path}`);
  await page.click('[data-testid="export-close"]');
  await page.locator('[data-testid="export-dialog"]').waitFor({ state: 'detached' });
}

describe.skipIf(!haveChromium)('layout page exported from the app: vector PDF text, PNG kept (browser host)', () => {
  beforeAll(async () => {
    s = await openDemoSession(work);
    page = s.page;
  });
  afterAll(async () => {
    await s?.close();
  });

  it('pdftotext finds the title, the legend (caption, tick labels, faults and deposits) and the CRS; the PNG is paper × DPI', { timeout: 180_000 }, async () => {
    // A min–max stretch, so the legend's ticks follow from the raster's range alone.
    await page.locator('[data-testid="layer"][data-layer-id^="anomaly-truth-"] [data-testid="stretch"]').selectOption('minmax');
    await mapIdle(page);
    const pdf = join(work, 'out', 'layout.pdf');
    await exportLayout('pdf', pdf);
    const txt = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });

    const truth = await readGeoTiff(join(s.dataDir, 'demo-survey', 'anomaly-truth.tif'));
    const values = Array.from(truth.bands[0]).filter((v) => Number.isFinite(v) && v !== truth.nodata);
    const [min, max] = [Math.min(...values), Math.max(...values)];
    const ticks = legendTicks({ kind: 'minmax', min, max }).map(formatTick);
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    const g = truth.grid;
    const crs = g.crs?.name ?? '';
    expect(crs).toMatch(/UTM zone 45N/);
    // The legend caption is the units alone here ("anomaly_truth (score)" is wider than the legend column).
    for (const want of [TITLE, 'score', ...ticks, 'faults', 'deposits', crs, `cell ${g.cellSizeX} × ${g.cellSizeY} m`]) expect(txt, `pdftotext output lacks "${want}":\n${txt}`).toContain(want);
    // Text, not a picture of text: pdffonts lists the font the words are set in.
    expect(execFileSync('pdffonts', [pdf], { encoding: 'utf8' })).toMatch(/Helvetica\s+Type 1/);

    // The PNG output is still there: the same page as pixels, A4 landscape at 96 DPI.
    const png = join(work, 'out', 'layout.png');
    await exportLayout('png', png);
    const img = decodePng(readFileSync(png));
    expect([img.width, img.height]).toEqual([Math.round((297 / 25.4) * 96), Math.round((210 / 25.4) * 96)]);
  });
});
