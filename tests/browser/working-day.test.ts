import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import type { CompareLayout } from '../../main/project/compare-layout.ts';
import { tempDir } from '../helpers/paths.ts';
import { decodePng } from './png.ts';
import { haveChromium, mapIdle, openDemoSession, type Session } from './workbench-session.ts';

/**
 * The gaps of issue #18 closed for a working day in the app (Chromium, browser host, real backend):
 * - the Compare tab's layout (layer and band per pane, mode, swipe divider) is autosaved into the
 *   project and shown again when the project is reopened; the 4-map defaults and legends;
 * - layer styling and a renamed layer reach the autosave copy; keyboard focus draws a ring;
 * - a site clicked on the map is selected (a magenta ring, counted in the map's pixels), Delete
 *   removes that one, Ctrl+Z brings it back;
 * - a kriged layer is named with the table's units ("Kriged Au, Cu (ppb, ppm)");
 * - a study step cancelled mid-run is shown "cancelled", records nothing and leaves no file.
 */
const work = tempDir('ga-browser-day-');
let s: Session;
let page: Page;

async function projectDialog(button: 'save-project' | 'open-project', path: string): Promise<void> {
  await page.click(`[data-testid="${button}"]`);
  await page.fill('[data-testid="project-path"]', path);
  await page.click('[data-testid="project-submit"]');
  await page.locator('[data-testid="project-dialog"]').waitFor({ state: 'detached' });
}

/** The `compare` layout of a project file on disk (null while the file or the layout is missing). */
function compareOnDisk(file: string): CompareLayout | null {
  if (!existsSync(file)) return null;
  return (JSON.parse(readFileSync(file, 'utf8')) as { compare?: CompareLayout }).compare ?? null;
}

const counts = async (): Promise<[number, number]> => [Number(await page.getAttribute('[data-testid="site-counts"]', 'data-positive')), Number(await page.getAttribute('[data-testid="site-counts"]', 'data-negative'))];

/**
 * Pixels of the selection ring's magenta (#ff00ff, renderer/src/lib/map/sites-layer.ts) in a
 * 30 × 30 px square around page point (x, y). None of the demo's other colours (viridis, samples
 * #f59e0b, deposits #facc15, faults #dc2626, the class colours) has both red and blue > 200 with
 * green < 80.
 */
async function ringPixelsAround(x: number, y: number): Promise<number> {
  const png = decodePng(await page.screenshot({ clip: { x: x - 15, y: y - 15, width: 30, height: 30 } }));
  let n = 0;
  for (let i = 0; i < png.width * png.height; i++) {
    const [r, g, b] = [png.data[i * 4], png.data[i * 4 + 1], png.data[i * 4 + 2]];
    if (r > 200 && g < 80 && b > 200) n++;
  }
  return n;
}

describe.skipIf(!haveChromium)('a working day: compare layouts kept, click-select sites, kriged names with units, a cancelled study step (browser host)', () => {
  beforeAll(async () => {
    s = await openDemoSession(work);
    page = s.page;
  });
  afterAll(async () => {
    await s?.close();
  });

  it('the compare layout (layer and band per pane, mode, divider) is autosaved into the project and restored on reopen', { timeout: 180_000 }, async () => {
    // A 3-band "prediction" on the demo grid, so the panes have bands to choose from.
    const truth = await readGeoTiff(join(s.dataDir, 'demo-survey', 'anomaly-truth.tif'));
    const t = truth.bands[0];
    const panes = join(work, 'panes.tif');
    // Band order as `predict` might write it, window_mask before sd_cnn: the panes' defaults put it last.
    writeGeoTiff(panes, { grid: truth.grid, bandNames: ['p_cnn', 'p_dcn', 'window_mask', 'sd_cnn'], bands: [t, Float32Array.from(t, (v) => 1 - v), Float32Array.from(t, () => 1), Float32Array.from(t, (v) => 0.1 * v)] });
    const project = join(work, 'day.gaproj');
    const autosave = join(work, 'day.autosave.gaproj');
    await projectDialog('save-project', project);
    await page.click('[data-testid="import-layer"]');
    await page.selectOption('[data-testid="import-kind"]', 'raster');
    await page.fill('[data-testid="import-path"]', panes);
    await page.click('[data-testid="import-submit"]');
    await page.waitForSelector('[data-testid="import-dialog"]', { state: 'detached' });
    const truthId = await page.locator('[data-testid="layer"][data-layer-id^="anomaly-truth-"]').getAttribute('data-layer-id');
    expect(truthId).toBeTruthy();

    await page.click('[data-testid="tab-compare"]');
    // Merely looking at the defaults records nothing.
    await page.locator('[data-testid="compare-map"]').first().waitFor();
    await page.waitForTimeout(3000);
    expect(compareOnDisk(autosave)).toBeNull();

    await page.click('[data-testid="compare-4"]');
    await expect.poll(() => page.locator('[data-testid="compare-map"]').count()).toBe(4);
    // Default bands of the 4 panes: the probability bands first (p_cnn, p_dcn), window_mask last;
    // each pane has its legend.
    await expect.poll(() => page.locator('[data-testid="compare-band"]').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value))).toEqual(['p_cnn', 'p_dcn', 'sd_cnn', 'window_mask']);
    await expect.poll(() => page.locator('[data-testid="compare-legend"]').count(), { timeout: 30_000 }).toBe(4);
    await page.locator('[data-testid="compare-pane-layer"]').nth(1).selectOption(truthId!);
    await page.locator('[data-testid="compare-band"]').nth(2).selectOption('p_cnn');
    await expect.poll(() => compareOnDisk(autosave), { timeout: 20_000 }).toMatchObject({ mode: 4, paneLayers: ['', truthId, '', ''], bands: ['p_cnn', 'anomaly_truth', 'p_cnn', 'window_mask'] });

    // Swipe: the sides keep the panes' layers (the right one shows the truth raster); the right
    // side is set back to the 3-band layer and its p_dcn band, the divider to 30 %.
    await page.click('[data-testid="compare-swipe"]');
    await page.locator('[data-testid="swipe-view"]').waitFor();
    expect(await page.inputValue('[data-testid="swipe-layer-right"]')).toBe(truthId);
    const panesId = await page.locator('[data-testid="swipe-layer-right"] option[value^="panes-"]').getAttribute('value');
    await page.locator('[data-testid="swipe-layer-right"]').selectOption(panesId!);
    await page.locator('[data-testid="swipe-band-right"]').selectOption('p_dcn');
    await page.locator('[data-testid="swipe-range"]').fill('30');
    await expect.poll(() => compareOnDisk(autosave), { timeout: 20_000 }).toMatchObject({ mode: 'swipe', swipePercent: 30 });
    const kept = compareOnDisk(autosave)!;
    expect(kept.bands[1]).toBe('p_dcn');
    expect(kept.paneLayers.slice(0, 2)).toEqual(['', panesId]);
    // The autosave is a whole project (written atomically): it opens and validates.
    const onDisk = JSON.parse(readFileSync(autosave, 'utf8')) as { format: string; layers: unknown[] };
    expect(onDisk.format).toBe('geoanomaly-project');

    // Another project shows the default layout; reopening the autosaved one shows its layout.
    await page.click('button:has-text("New")');
    await expect.poll(() => page.getAttribute('[data-testid="compare-2"]', 'aria-checked')).toBe('true');
    await projectDialog('open-project', autosave);
    await page.click('[data-testid="tab-compare"]');
    await expect.poll(() => page.getAttribute('[data-testid="compare-swipe"]', 'aria-checked'), { timeout: 30_000 }).toBe('true');
    await page.locator('[data-testid="swipe-view"]').waitFor();
    expect(await page.getAttribute('[data-testid="swipe-view"]', 'data-percent')).toBe('30');
    expect(await page.inputValue('[data-testid="swipe-layer-right"]')).toBe(panesId);
    expect(await page.inputValue('[data-testid="swipe-band-right"]')).toBe('p_dcn');
    expect(await page.inputValue('[data-testid="swipe-band-left"]')).toBe(kept.bands[0]);

    // Save as: the saved file carries the same layout.
    const saved = join(work, 'day-saved.gaproj');
    await projectDialog('save-project', saved);
    expect(compareOnDisk(saved)).toEqual(kept);
    await page.click('[data-testid="tab-layers"]');
  });

  it('layer styling and a renamed layer are autosaved; the file name stays under the readable name; keyboard focus is visible', { timeout: 60_000 }, async () => {
    const autosave = join(work, 'day-saved.autosave.gaproj');
    const layer = page.locator('[data-testid="layer"][data-layer-id^="panes-"]');
    await layer.locator('[data-testid="ramp"]').selectOption('magma');
    await layer.locator('[data-testid="layer-rename-button"]').click();
    await layer.locator('[data-testid="layer-rename"]').fill('Test panes');
    await layer.locator('[data-testid="layer-rename"]').press('Enter');
    await expect.poll(() => layer.locator('[data-testid="layer-name"]').textContent()).toBe('Test panes');
    expect(await layer.locator('.file').textContent()).toBe('panes');
    type Saved = { layers: { id: string; name: string; displayName?: string; style?: { ramp: string } }[] };
    const panesOnDisk = (): Saved['layers'][number] | null => (existsSync(autosave) ? ((JSON.parse(readFileSync(autosave, 'utf8')) as Saved).layers.find((l) => l.id.startsWith('panes-')) ?? null) : null);
    await expect.poll(panesOnDisk, { timeout: 20_000 }).toMatchObject({ name: 'panes', displayName: 'Test panes', style: { ramp: 'magma' } });

    // ⤢ brings a layer back into view: send the view 1000 km away, then zoom to the layer.
    const view = async (): Promise<number[]> => ((await page.getAttribute('[data-testid="map"]', 'data-view')) ?? '').split(' ').map(Number);
    const home = await view();
    await page.fill('[data-testid="goto-input"]', `${home[0] + 1e6} ${home[1] + 1e6}`);
    await page.click('[data-testid="goto"]');
    await expect.poll(async () => (await view())[0]).toBeGreaterThan(home[2]);
    await layer.locator('[data-testid="layer-zoom"]').click();
    await expect.poll(async () => { const v = await view(); return v[0] < home[2] && v[2] > home[0] && v[1] < home[3] && v[3] > home[1]; }, { timeout: 30_000 }).toBe(true);

    // Keyboard focus (Tab) shows a ring on a toolbar button and on the map.
    const ring = (): Promise<{ name: string; style: string; width: number }> =>
      page.evaluate(() => {
        type El = { getAttribute(a: string): string | null; tagName: string };
        const g = globalThis as unknown as { document: { activeElement: El | null }; getComputedStyle(e: El): { outlineStyle: string; outlineWidth: string } };
        const e = g.document.activeElement;
        if (!e) return { name: '', style: 'none', width: 0 };
        const cs = g.getComputedStyle(e);
        return { name: e.getAttribute('data-testid') ?? e.tagName.toLowerCase(), style: cs.outlineStyle, width: parseFloat(cs.outlineWidth) };
      });
    await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { blur?: () => void } | null } }).document.activeElement?.blur?.());
    await page.keyboard.press('Tab');
    const first = await ring();
    expect(first.style, `focus ring of ${first.name}`).not.toBe('none');
    expect(first.width).toBeGreaterThanOrEqual(2);
    let map = first;
    for (let i = 0; i < 200 && map.name !== 'map'; i++) {
      await page.keyboard.press('Tab');
      map = await ring();
    }
    expect(map.name).toBe('map');
    expect(map.style).not.toBe('none');
    expect(map.width).toBeGreaterThanOrEqual(2);
  });

  it('click-to-select on the map: the clicked site gets the selection ring, Delete removes it, Ctrl+Z restores it', { timeout: 120_000 }, async () => {
    await page.click('[data-testid="tab-layers"]');
    await mapIdle(page);
    const box = (await page.locator('[data-testid="map"]').boundingBox())!;
    const a = { x: box.x + box.width * 0.4, y: box.y + box.height * 0.45 };
    const b = { x: a.x + 120, y: a.y + 40 };
    const before = await counts();
    // Focus without a click: OpenLayers' singleclick fires 250 ms after a click, which would
    // select the site placed at that spot in the meantime.
    await page.locator('[data-testid="map"]').focus();
    await page.mouse.move(a.x, a.y);
    await page.keyboard.press('p');
    await page.mouse.move(b.x, b.y);
    await page.keyboard.press('n');
    expect(await counts()).toEqual([before[0] + 1, before[1] + 1]);
    // The site placed last is selected and drawn with the ring; the other is not.
    const negativeId = await page.getAttribute('[data-testid="map"]', 'data-selected-site');
    expect(negativeId).toBeTruthy();
    await expect.poll(() => ringPixelsAround(b.x, b.y)).toBeGreaterThan(40);
    await expect.poll(() => ringPixelsAround(a.x, a.y)).toBeLessThan(5);

    // Click the positive site: it becomes the selection (OpenLayers' singleclick fires after 250 ms).
    await page.mouse.click(a.x, a.y);
    await expect.poll(() => page.getAttribute('[data-testid="map"]', 'data-selected-site')).not.toBe(negativeId);
    const positiveId = await page.getAttribute('[data-testid="map"]', 'data-selected-site');
    expect(positiveId).toBeTruthy();
    await expect.poll(() => ringPixelsAround(a.x, a.y)).toBeGreaterThan(40);
    await expect.poll(() => ringPixelsAround(b.x, b.y)).toBeLessThan(5);

    // Delete removes the selected (positive) site, not the one placed last.
    await page.keyboard.press('Delete');
    expect(await counts()).toEqual([before[0], before[1] + 1]);
    expect(await page.getAttribute('[data-testid="map"]', 'data-selected-site')).toBe('');
    await page.keyboard.press('Control+z');
    await expect.poll(counts).toEqual([before[0] + 1, before[1] + 1]);
    // The restored site is the one deleted: clicking its place selects the same id again.
    await page.mouse.click(a.x, a.y);
    await expect.poll(() => page.getAttribute('[data-testid="map"]', 'data-selected-site')).toBe(positiveId);
    // Leave the project's sites as they were (two undo steps: N, P).
    await page.keyboard.press('Control+z');
    await page.keyboard.press('Control+z');
    await expect.poll(counts).toEqual(before);
  });

  it('a kriged layer is named with the sample table\'s units: "Kriged Au, Cu (ppb, ppm)"; the layout\'s Faults overlay defaults to the faults layer; "(1 band)"', { timeout: 180_000 }, async () => {
    await page.click('[data-testid="tab-krige"]');
    for (const f of ['Au', 'Cu']) await page.check(`[data-testid="krige-fields"] input[data-field="${f}"]`);
    await page.uncheck('[data-testid="krige-cv"]');
    await page.fill('[data-testid="krige-cell"]', '4000');
    await page.fill('[data-testid="krige-nmax"]', '16');
    await page.click('[data-testid="krige-run"]');
    // The layer names (the Layers panel stays mounted while hidden), or the panel's error.
    const namesOrError = async (): Promise<string[]> => ((await page.locator('[data-testid="krige-error"]').count()) > 0 ? [`error: ${await page.textContent('[data-testid="krige-error"]')}`] : page.locator('[data-testid="layer-name"]').allTextContents());
    // The demo table's headers are Au_ppb and Cu_ppm (main/demo/demo-survey.ts).
    await expect.poll(namesOrError, { timeout: 120_000, interval: 500 }).toContain('Kriged Au, Cu (ppb, ppm)');

    // A default a user would pick: the layout's Faults overlay is the faults layer, not "none".
    await page.click('[data-testid="export-open"]');
    await page.waitForSelector('[data-testid="export-dialog"]');
    expect(await page.inputValue('[data-testid="export-faults"]')).toMatch(/faults\.geojson$/);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('[data-testid="export-dialog"]').count()).toBe(0);
    // Band counts read "(1 band)", never "(1 bands)".
    const stacks = await page.locator('[data-testid="train-stack"] option').allTextContents();
    expect(stacks.some((t) => t.endsWith('(1 band)'))).toBe(true);
    expect(stacks.some((t) => t.endsWith('(4 bands)'))).toBe(true);
    expect(stacks.filter((t) => /\(1 bands\)/.test(t))).toEqual([]);
    await page.click('[data-testid="tab-layers"]');
  });

  it('a study step cancelled mid-run is marked cancelled, records nothing and leaves no partial output file', { timeout: 300_000 }, async () => {
    const demo = join(s.dataDir, 'demo-survey');
    await page.click('[data-testid="study-open"]');
    await page.fill('[data-testid="study-samples"]', join(demo, 'samples.csv'));
    await page.fill('[data-testid="study-crs"]', 'EPSG:32645');
    await page.fill('[data-testid="study-faults"]', join(demo, 'faults.geojson'));
    await page.fill('[data-testid="study-deposits"]', join(demo, 'deposits.geojson'));
    await page.click('[data-testid="study-begin"]');
    // An error shown by the wizard ends the wait with its text.
    const errorOr = async (step: string): Promise<string | null> => ((await page.locator('[data-testid="study-error"]').count()) > 0 ? page.textContent('[data-testid="study-error"]') : page.getAttribute(`[data-testid="study-step-${step}"]`, 'data-status'));
    await expect.poll(() => errorOr('table'), { timeout: 60_000 }).toBe('done');
    await page.click('[data-testid="study-step-kriging"]');
    // Four elements on 200 m cells: minutes of kriging, so the cancel lands mid-run.
    await page.fill('[data-testid="study-fields"]', 'Au,Cu,As,Ag');
    await page.locator('[data-testid="study-fields"]').dispatchEvent('change');
    await page.fill('[data-testid="study-cell"]', '200');
    await page.locator('[data-testid="study-cell"]').dispatchEvent('change');
    const runs = join(s.dataDir, 'runs');
    const studyKrigeFiles = (): string[] => (existsSync(runs) ? readdirSync(runs).filter((f) => f.includes('study-krige')) : []);
    expect(studyKrigeFiles()).toEqual([]);
    await page.click('[data-testid="study-run-step"]');
    await page.locator('[data-testid="study-progress"]').waitFor();
    // Mid-run: the job has reported progress (its variogram fits and first rows), not finished, and
    // the ETA shows once 2 % is done (elapsed ÷ fraction, lib/job-eta.ts etaSeconds).
    await expect.poll(() => page.locator('[data-testid="study-progress"] progress').evaluate((e) => (e as unknown as { value: number }).value), { timeout: 120_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.textContent('[data-testid="study-progress"]'), { timeout: 120_000 }).toMatch(/2 Kriging: \d+ % · .+ · about \d+ s left/);
    await page.click('[data-testid="study-cancel"]');
    await expect.poll(() => page.getAttribute('[data-testid="study-step-kriging"]', 'data-status'), { timeout: 30_000 }).toBe('cancelled');
    expect(await page.textContent('[data-testid="study-error"]')).toContain('CancelledError');
    expect(await page.locator('[data-testid="study-progress"]').count()).toBe(0);
    expect(await page.locator('[data-testid="study-record"]').count()).toBe(0);
    await expect.poll(() => page.locator('[data-testid="job"][data-kind="krige"]').first().getAttribute('data-state')).toBe('cancelled');
    // No partial output: neither the stack, the variance nor an atomic-write temp of them.
    expect(studyKrigeFiles()).toEqual([]);
    // The autosaved study has no kriging record (the next save would show the step still to do).
    const autosave = join(work, 'day-saved.autosave.gaproj');
    await expect.poll(() => (existsSync(autosave) ? Object.keys((JSON.parse(readFileSync(autosave, 'utf8')) as { study?: { steps: object } }).study?.steps ?? {}) : null), { timeout: 20_000 }).toEqual(['table']);
  });
});
