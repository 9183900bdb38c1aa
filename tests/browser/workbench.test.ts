import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startBrowserHost, type BrowserHost } from '../../main/api/browser-host.ts';
import { ensureRendererBuilt } from '../../main/api/renderer-build.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { cellCenterX, cellCenterY } from '../../main/grid/grid-spec.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';
import { decodePng, diffImages } from './png.ts';
import { expectedImage } from './screenshot-compare.ts';
import { mapIdle as mapIdleOn } from './workbench-session.ts';

/**
 * End-to-end: the built renderer in Debian's Chromium, driving the real backend through the
 * browser host (same contract as Electron). Screenshots of the map are compared with the
 * committed expected images (UPDATE_SCREENSHOTS=1 rewrites them).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: CI must install the Debian "chromium" package (.ci/apt-packages.txt)`);

/** A pixel differs when any RGBA channel differs by more than this (antialiasing, font hinting). */
const CHANNEL_TOLERANCE = 40;
/** At most this fraction of the map's pixels may differ from the expected image. */
const MAX_DIFF_FRACTION = 0.01;

const work = tempDir('ga-browser-');
const dataDir = join(work, 'data');
let host: BrowserHost;
let context: BrowserContext;
let page: Page;

const mapIdle = (after = -1): Promise<void> => mapIdleOn(page, after);

const renders = async (): Promise<number> => Number(await page.getAttribute('[data-testid="map"]', 'data-renders'));

async function expectScreenshot(name: string): Promise<Buffer> {
  const png = await page.locator('[data-testid="map"]').screenshot({ animations: 'disabled' });
  const expected = expectedImage(name, png);
  const diff = diffImages(decodePng(png), decodePng(expected), CHANNEL_TOLERANCE);
  if (diff.fraction > MAX_DIFF_FRACTION) writeFileSync(join(work, `actual-${name}`), png);
  expect(diff.fraction, `${name}: ${diff.differing} pixels differ (actual saved in ${work})`).toBeLessThanOrEqual(MAX_DIFF_FRACTION);
  return png;
}

const layerNames = async (): Promise<string[]> => page.locator('[data-testid="layer"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-layer') ?? ''));

/** Centres the map on (x, y) through the go-to box, then puts the mouse on the map's centre pixel. */
async function pointAt(x: number, y: number): Promise<void> {
  await page.fill('[data-testid="goto-input"]', `${x} ${y}`);
  const before = await renders();
  await page.click('[data-testid="goto"]');
  await mapIdle(before);
  const box = await page.locator('[data-testid="map"]').boundingBox();
  if (!box) throw new Error('map has no box');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
}

async function importLayer(kind: 'raster' | 'vector', path: string): Promise<void> {
  await page.click('[data-testid="import-layer"]');
  await page.selectOption('[data-testid="import-kind"]', kind);
  await page.fill('[data-testid="import-path"]', path);
  await page.click('[data-testid="import-submit"]');
}

describe.skipIf(!haveChromium)('workbench in Chromium (browser host)', () => {
  beforeAll(async () => {
    await ensureRendererBuilt({ force: true });
    host = await startBrowserHost({ staticDir: join(REPO_ROOT, 'renderer/dist'), dataDir });
    context = await chromium.launchPersistentContext(join(work, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--font-render-hinting=none'],
      viewport: { width: 1100, height: 720 },
      deviceScaleFactor: 1,
      locale: 'en-US',
      timezoneId: 'UTC',
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => console.error('page error:', e.message));
  });
  afterAll(async () => {
    await context?.close();
    await host?.close();
  });

  it('opens the demo survey on first start', async () => {
    await page.goto(host.url);
    await page.waitForSelector('[data-testid="layer"]');
    await mapIdle();
    expect(await layerNames()).toEqual(['Deposits', 'Samples', 'Faults', 'Anomaly (true, synthetic)']);
    expect(await page.locator('[data-testid="layer-error"]').count()).toBe(0);
    expect(await page.textContent('[data-testid="readout-xy"]')).toContain('EPSG:32645');
    await expectScreenshot('demo-initial.png');
  });

  it('toggles a layer off and back with undo', async () => {
    const initial = decodePng(await page.locator('[data-testid="map"]').screenshot());
    let before = await renders();
    await page.locator('[data-layer="Samples"] [data-testid="layer-visible"]').uncheck();
    await mapIdle(before);
    const hidden = decodePng(await expectScreenshot('demo-samples-hidden.png'));
    // The 3,000 sample symbols cover a good part of the map: hiding them must change it.
    expect(diffImages(initial, hidden, CHANNEL_TOLERANCE).fraction).toBeGreaterThan(0.05);
    before = await renders();
    await page.click('[data-testid="undo"]');
    await mapIdle(before);
    expect(await page.locator('[data-layer="Samples"] [data-testid="layer-visible"]').isChecked()).toBe(true);
  });

  it('reads a known cell value at a known coordinate through the cursor readout', async () => {
    const truth = await readGeoTiff(join(dataDir, 'demo-survey', 'anomaly-truth.tif'));
    const band = truth.bands[0];
    let best = 0;
    for (let i = 1; i < band.length; i++) if (band[i] > band[best]) best = i;
    const row = Math.floor(best / truth.grid.cols);
    const col = best % truth.grid.cols;
    const x = cellCenterX(truth.grid, col);
    const y = cellCenterY(truth.grid, row);
    await pointAt(x, y);
    const value = page.locator('[data-testid="readout-value"][data-layer="Anomaly (true, synthetic)"]');
    await expect.poll(() => value.getAttribute('data-value')).not.toBeNull();
    // The readout shows the file's Float32 value exactly (reference: readGeoTiff of the same file).
    expect(Number(await value.getAttribute('data-value'))).toBe(band[best]);
    const xy = (await page.textContent('[data-testid="readout-xy"]')) ?? '';
    const m = /x (-?[\d.]+), y (-?[\d.]+)/.exec(xy);
    expect(m).not.toBeNull();
    // The mouse sits on the centre pixel: within one screen pixel (< 150 m at this zoom) of (x, y).
    expect(Math.abs(Number(m?.[1]) - x)).toBeLessThan(150);
    expect(Math.abs(Number(m?.[2]) - y)).toBeLessThan(150);
  });

  it('exports the map view as a PNG of the map\'s size', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-map"]')]);
    expect(download.suggestedFilename()).toBe('Demo-survey.png');
    const png = decodePng(readFileSync(await download.path()));
    const box = await page.locator('[data-testid="map"]').boundingBox();
    expect([png.width, png.height]).toEqual([Math.round(box?.width ?? 0), Math.round(box?.height ?? 0)]);
    // The raster covers the middle of the view: its centre pixel is not the white background.
    const c = (Math.floor(png.height / 2) * png.width + Math.floor(png.width / 2)) * 4;
    expect(png.data[c] + png.data[c + 1] + png.data[c + 2]).toBeLessThan(3 * 250);
  });

  it('imports a shapefile and a GeoTIFF', async () => {
    const shp = join(work, 'faults-shp.shp');
    execFileSync('ogr2ogr', ['-f', 'ESRI Shapefile', shp, join(dataDir, 'demo-survey', 'faults.geojson')]);
    await importLayer('vector', shp);
    await page.waitForSelector('[data-layer="faults-shp"]');
    expect(await page.locator('[data-layer="faults-shp"] [data-testid="layer-error"]').count()).toBe(0);

    // A 2-band raster inside the demo area whose cell (r, c) holds 1000 + 10·r + c (band 1).
    const grid = { originX: 460000, originY: 4630000, cellSizeX: 2000, cellSizeY: 2000, rows: 5, cols: 6, crs: crsFromEpsg(32645) };
    const b1 = Float32Array.from({ length: 30 }, (_, i) => 1000 + 10 * Math.floor(i / 6) + (i % 6));
    const tif = join(work, 'grid-two-bands.tif');
    writeGeoTiff(tif, { grid, bandNames: ['Cu', 'Zn'], bands: [b1, b1.map((v) => -v)] });
    const before = await renders();
    await importLayer('raster', tif);
    await page.waitForSelector('[data-layer="grid-two-bands"]');
    await mapIdle(before);
    await pointAt(cellCenterX(grid, 4), cellCenterY(grid, 3));
    const v = page.locator('[data-testid="readout-value"][data-layer="grid-two-bands"]');
    await expect.poll(() => v.getAttribute('data-value')).toBe('1034');
  });

  it('shows an import error for a corrupt file, naming the file and the fix', async () => {
    const bad = join(work, 'corrupt.tif');
    writeFileSync(bad, Buffer.from('II*\u0000garbage that is not a TIFF'));
    await importLayer('raster', bad);
    const err = page.locator('[data-testid="import-error"]');
    await err.waitFor();
    const text = (await err.textContent()) ?? '';
    expect(text).toContain('InvalidFileError');
    expect(text).toContain(bad);
    expect(text).toMatch(/re-export/);
    expect(await page.locator('[data-layer="corrupt"]').count()).toBe(0);
    await page.click('[data-testid="import-dialog"] button:has-text("Cancel")');
  });

  it('saves and reopens a project', async () => {
    const names = await layerNames();
    const target = join(work, 'projects', 'my-survey.gaproj');
    await page.click('[data-testid="save-project"]');
    await page.fill('[data-testid="project-path"]', target);
    await page.click('[data-testid="project-submit"]');
    await page.locator('[data-testid="project-dialog"]').waitFor({ state: 'detached' });
    expect(existsSync(target)).toBe(true);
    await page.click('button:has-text("New")');
    await expect.poll(() => page.locator('[data-testid="layer"]').count()).toBe(0);
    await page.click('[data-testid="open-project"]');
    await page.fill('[data-testid="project-path"]', target);
    await page.click('[data-testid="project-submit"]');
    await page.locator('[data-testid="project-dialog"]').waitFor({ state: 'detached' });
    await expect.poll(layerNames).toEqual(names);
    expect(await page.locator('[data-testid="layer-error"]').count()).toBe(0);
    // A broken project file is refused in place, naming the file.
    const broken = join(work, 'projects', 'broken.gaproj');
    writeFileSync(broken, '{"format": "geoanomaly-project", "version": 1, "name": "x", "layers": [');
    await page.click('[data-testid="open-project"]');
    await page.fill('[data-testid="project-path"]', broken);
    await page.click('[data-testid="project-submit"]');
    await expect.poll(() => page.textContent('[data-testid="project-error"]')).toContain(broken);
  });
});
