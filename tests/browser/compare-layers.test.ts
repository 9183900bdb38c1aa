import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';
import { haveChromium, mapIdle, openDemoSession, type Session } from './workbench-session.ts';

/**
 * Two different layers in one swipe map (issue #18): the demo's anomaly-truth raster on the left,
 * a second raster (2·truth + 1, written by GDAL: tests/fixtures/compare/make_scaled_raster.py) on
 * the right. The readout under the cursor must equal each raster's value at that cell as GDAL's
 * gdallocationinfo reads it, and each side has a legend.
 */
const run = promisify(execFile);
const work = tempDir('ga-browser-compare-layers-');
let s: Session;
let page: Page;
let truthPath: string;
const scaledPath = join(work, 'scaled.tif');

/** GDAL's value of band 1 at georeferenced (x, y) (gdallocationinfo -geoloc). */
async function gdalValue(path: string, x: number, y: number): Promise<number> {
  const { stdout } = await run('gdallocationinfo', ['-valonly', '-geoloc', path, String(x), String(y)]);
  return Number(stdout.trim());
}

describe.skipIf(!haveChromium)('compare: any layer per swipe side, values under the cursor (browser host)', () => {
  beforeAll(async () => {
    s = await openDemoSession(work);
    page = s.page;
    truthPath = join(s.dataDir, 'demo-survey', 'anomaly-truth.tif');
    await run('/usr/bin/python3', [join(REPO_ROOT, 'tests/fixtures/compare/make_scaled_raster.py'), truthPath, scaledPath]);
    await page.click('[data-testid="import-layer"]');
    await page.selectOption('[data-testid="import-kind"]', 'raster');
    await page.fill('[data-testid="import-path"]', scaledPath);
    await page.click('[data-testid="import-submit"]');
    await page.waitForSelector('[data-testid="import-dialog"]', { state: 'detached' });
    await mapIdle(page);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('swipe with two layers: readout values equal GDAL\'s at the cursor cell; a legend per side', async () => {
    await page.click('[data-testid="tab-compare"]');
    await page.click('[data-testid="compare-swipe"]');
    await page.waitForSelector('[data-testid="swipe-layer-left"]');
    const options = await page.locator('[data-testid="swipe-layer-left"] option').evaluateAll((els) => els.map((e) => (e as unknown as { value: string; textContent: string }).value));
    expect(options.length).toBe(2);
    await page.selectOption('[data-testid="swipe-layer-left"]', options[0]);
    await page.selectOption('[data-testid="swipe-layer-right"]', options[1]);
    await expect.poll(() => page.inputValue('[data-testid="swipe-band-right"]')).toBe('scaled');
    await expect.poll(() => page.locator('[data-testid="swipe-legend"]').count(), { timeout: 30_000 }).toBe(2);
    // The right side's readout comes from the second layer's band once it has loaded.
    await expect.poll(() => page.getAttribute('[data-testid="swipe-value"][data-side="right"]', 'data-source'), { timeout: 30_000 }).toBe(scaledPath);
    expect(await page.getAttribute('[data-testid="swipe-value"][data-side="left"]', 'data-source')).toBe(truthPath);
    const box = await page.locator('[data-testid="swipe-map"]').boundingBox();
    if (!box) throw new Error('no swipe map');
    let checked = 0;
    for (const [fx, fy] of [[0.4, 0.45], [0.55, 0.5], [0.62, 0.4]]) {
      await page.mouse.move(box.x + box.width * fx, box.y + box.height * fy);
      await expect.poll(async () => (await page.locator('[data-testid="swipe-cursor"]').innerText()).length).toBeGreaterThan(0);
      const m = /x (-?[\d.]+), y (-?[\d.]+)/.exec(await page.locator('[data-testid="swipe-cursor"]').innerText());
      if (!m) throw new Error('no cursor coordinates');
      const [x, y] = [Number(m[1]), Number(m[2])];
      const left = Number(await page.getAttribute('[data-testid="swipe-value"][data-side="left"]', 'data-value'));
      const right = Number(await page.getAttribute('[data-testid="swipe-value"][data-side="right"]', 'data-value'));
      // GDAL is asked at the readout's x, y (0.1 m rounding; the demo's cells are 1 km, so the same cell).
      const g = await gdalValue(truthPath, x, y);
      const h = await gdalValue(scaledPath, x, y);
      if (!Number.isFinite(g) || g === -9999) continue; // outside the survey or nodata: nothing to compare
      // Float32 values crossing the contract unchanged: equal to GDAL's to float32 precision (1e-6 relative).
      expect(left).toBeCloseTo(g, 5);
      expect(right).toBeCloseTo(h, 5);
      expect(right).toBeCloseTo(2 * left + 1, 5);
      checked++;
    }
    expect(checked, 'cursor positions inside the survey with data').toBeGreaterThan(0);
  });
});
