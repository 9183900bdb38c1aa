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
 * gdallocationinfo reads it, and each side has a legend. The same in the 2- and 4-map layouts with
 * a layer per pane: the cursor over any one map reads every pane's value at that point.
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

  it('2- and 4-map layouts with a layer per pane: the cursor over one map reads every pane\'s value, each equal to GDAL\'s', async () => {
    const maps = page.locator('[data-testid="compare-map"]');
    const paneLayers = page.locator('[data-testid="compare-pane-layer"]');
    // The swipe test above leaves the Compare tab in swipe mode; the panes' selects exist in 2/4-map mode.
    await page.click('[data-testid="compare-2"]');
    await expect.poll(() => maps.count()).toBe(2);
    const ids = await paneLayers.first().locator('option').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value));
    expect(ids.length).toBe(2);
    const truthId = ids.find((id) => id.startsWith('anomaly-truth-'));
    const scaledId = ids.find((id) => id.startsWith('scaled-'));
    if (!truthId || !scaledId) throw new Error(`pane layers ${ids.join(', ')}: no anomaly-truth-* and scaled-* layer`);
    /** Sources of the panes' readouts (data-source of each compare-value), in pane order. */
    const sources = (): Promise<string[]> => page.locator('[data-testid="compare-value"]').evaluateAll((els) => els.map((e) => (e as unknown as { getAttribute(a: string): string | null }).getAttribute('data-source') ?? ''));

    /** Moves the cursor over map `over` at three spots; every pane's readout must be its own layer's value there. */
    async function readoutsMatchGdal(over: number, want: readonly string[]): Promise<void> {
      await expect.poll(sources, { timeout: 30_000 }).toEqual(want);
      const box = await maps.nth(over).boundingBox();
      if (!box) throw new Error(`compare map ${over} has no box`);
      let checked = 0;
      for (const [fx, fy] of [[0.4, 0.45], [0.55, 0.5], [0.62, 0.4]]) {
        await page.mouse.move(box.x + box.width * fx, box.y + box.height * fy);
        await expect.poll(() => page.textContent('[data-testid="compare-cursor"]')).toMatch(/^x -?\d/);
        const m = /x (-?[\d.]+), y (-?[\d.]+)/.exec((await page.textContent('[data-testid="compare-cursor"]')) ?? '');
        if (!m) throw new Error('no cursor coordinates');
        const [x, y] = [Number(m[1]), Number(m[2])];
        const shown = (await page.locator('[data-testid="compare-value"]').evaluateAll((els) => els.map((e) => (e as unknown as { getAttribute(a: string): string | null }).getAttribute('data-value') ?? ''))).map(Number);
        expect(shown.length).toBe(want.length);
        const g = await gdalValue(truthPath, x, y);
        if (!Number.isFinite(g) || g === -9999) continue; // outside the survey or nodata: nothing to compare
        for (let i = 0; i < want.length; i++) expect(shown[i], `pane ${i + 1} (${want[i]}) at x ${x}, y ${y}`).toBeCloseTo(await gdalValue(want[i], x, y), 5);
        checked++;
      }
      expect(checked, 'cursor positions inside the survey with data').toBeGreaterThan(0);
    }

    await mapIdle(page);
    await paneLayers.nth(0).selectOption(truthId);
    await paneLayers.nth(1).selectOption(scaledId);
    // The cursor over the left map reads the right one too (and the other way round).
    await readoutsMatchGdal(0, [truthPath, scaledPath]);
    await readoutsMatchGdal(1, [truthPath, scaledPath]);

    await page.click('[data-testid="compare-4"]');
    await expect.poll(() => maps.count()).toBe(4);
    for (const [i, id] of [truthId, scaledId, scaledId, truthId].entries()) await paneLayers.nth(i).selectOption(id);
    await readoutsMatchGdal(3, [truthPath, scaledPath, scaledPath, truthPath]);
  });
});
