import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { xrfPixelSpectrum, xrfRegionSpectrum } from '../../main/api/xrf-requests.ts';
import { readCube } from '../../main/xrf/cube-import.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { tempDir } from '../helpers/paths.ts';
import { haveChromium, openDemoSession, type DemoSession } from './workbench-session.ts';

/**
 * The Micro-XRF spectrum viewer in Chromium against the real backend: a clicked pixel's spectrum,
 * background mean and anomaly score, a brushed region's mean spectrum, per-element maps with a
 * linked cursor, the energy axis on the plot, and the CSV export. Every drawn number is compared
 * with the backend's own computation (the same request functions called here) and, for the
 * spectra, with sums over the cube read independently; never pixels.
 */
const work = tempDir('ga-browser-xrf-viewer-');
let s: DemoSession;
let page: Page;
let cubePath = '';
let scoreTiff = '';

type Box = { x: number; y: number; width: number; height: number };
async function imageBox(p: Page): Promise<Box> {
  const b = await p.locator('[data-testid="xrf-viewer-image"]').boundingBox();
  if (!b) throw new Error('viewer image not laid out');
  return b;
}
/** Page coordinates of the centre of cube pixel (row, col) on an element of box b showing n × n pixels. */
const centre = (b: Box, row: number, col: number, n: number): [number, number] => [b.x + ((col + 0.5) / n) * b.width, b.y + ((row + 0.5) / n) * b.height];

async function lineValues(p: Page): Promise<Record<string, number[]>> {
  const lines = await p.locator('[data-testid="xrf-spectrum-line"]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-label') ?? '', e.getAttribute('data-values') ?? '[]'] as const));
  return Object.fromEntries(lines.map(([l, v]) => [l, JSON.parse(v) as number[]]));
}

describe.skipIf(!haveChromium)('Micro-XRF spectrum viewer (browser host)', () => {
  beforeAll(async () => {
    s = await openDemoSession(work);
    page = s.page;
    await page.click('[data-testid="tab-xrf"]');
    await page.fill('[data-testid="xrf-synth-seed"]', '7');
    await page.fill('[data-testid="xrf-synth-size"]', '32');
    await page.click('[data-testid="xrf-synthetic"]');
    await page.waitForSelector('[data-testid="xrf-viewer"]');
    cubePath = join(s.dataDir, 'xrf-synthetic', 'seed-7-32x32x100', 'cube.tif');
    // RX only: a score map for the viewer's score, in seconds.
    for (const m of ['msfa', 'lrx', 'autoad']) await page.uncheck(`[data-testid="xrf-panel"] input[data-method="${m}"]`).catch(() => {});
    await page.check('[data-testid="xrf-panel"] input[data-method="rx"]');
    await page.click('[data-testid="xrf-run"]');
    await page.waitForSelector('[data-testid="xrf-auc-table"]', { timeout: 120_000 });
    const [outName] = readdirSync(join(s.dataDir, 'runs')).filter((f) => /^xrf-.*\.run$/.test(f));
    scoreTiff = join(s.dataDir, 'runs', outName, 'rx-score.tif');
  }, 180_000);
  afterAll(async () => {
    await s?.close();
  });

  it('a clicked pixel shows its spectrum, the background mean and its RX score, on the energy axis', async () => {
    const b = await imageBox(page);
    const [x, y] = centre(b, 11, 20, 32);
    await page.mouse.click(x, y);
    await page.waitForSelector('[data-testid="xrf-pixel-info"]');
    const info = page.locator('[data-testid="xrf-pixel-info"]');
    expect([await info.getAttribute('data-row'), await info.getAttribute('data-col')]).toEqual(['11', '20']);
    // Reference 1: the backend's request function on the same file and score map (exact: JSON numbers).
    const ref = await xrfPixelSpectrum({ path: cubePath, row: 11, col: 20, scoreTiff });
    const lines = await lineValues(page);
    expect(lines['pixel r11 c20']).toEqual(ref.spectrum);
    expect(lines['background mean']).toEqual(ref.background);
    // Reference 2: the cube and score map read independently here. The spectrum is exact
    // (float32 values); the background is the mean over pixels scoring ≤ the 95th percentile
    // (numpy's linear percentile), rel 1e-12 (float64 sums in another order).
    const cube = await readCube(cubePath);
    const scores = (await readGeoTiff(scoreTiff)).bands[0];
    const B = cube.bandCount;
    expect(lines['pixel r11 c20']).toEqual(Array.from(cube.pixels.subarray((11 * 32 + 20) * B, (11 * 32 + 21) * B)));
    expect(Number(await info.getAttribute('data-score'))).toBe(scores[11 * 32 + 20]);
    const sorted = Float64Array.from(scores).sort();
    const pos = 0.95 * (sorted.length - 1);
    const thr = sorted[Math.floor(pos)] + (pos - Math.floor(pos)) * (sorted[Math.floor(pos) + 1] - sorted[Math.floor(pos)]);
    const keep = Array.from(scores, (v) => v <= thr);
    const nb = keep.filter(Boolean).length;
    for (let b2 = 0; b2 < B; b2++) {
      let sum = 0;
      for (let i = 0; i < 32 * 32; i++) if (keep[i]) sum += cube.pixels[i * B + b2];
      expect(Math.abs(lines['background mean'][b2] - sum / nb)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(sum / nb)));
    }
    // The synthetic cube's channels are energies (band names "0.800keV" …): the plot says so.
    expect(await page.getAttribute('[data-testid="xrf-spectrum-plot"]', 'data-axis-title')).toBe('Energy (keV)');
    expect(await page.textContent('[data-testid="xrf-spectrum-axis"]')).toBe('Energy (keV)');
  });

  it('a brushed rectangle gives that region’s mean spectrum', async () => {
    const b = await imageBox(page);
    const [x0, y0] = centre(b, 4, 6, 32);
    const [x1, y1] = centre(b, 9, 13, 32);
    await page.mouse.move(x0, y0);
    await page.mouse.down();
    await page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2);
    await page.mouse.move(x1, y1);
    await page.mouse.up();
    const label = 'region r4–9 c6–13 (48 px)';
    await expect.poll(async () => Object.keys(await lineValues(page))).toContain(label);
    const lines = await lineValues(page);
    const ref = await xrfRegionSpectrum({ path: cubePath, row0: 4, col0: 6, row1: 9, col1: 13 });
    expect(ref.pixelCount).toBe(48);
    expect(lines[label]).toEqual(ref.mean);
    // Independent: the mean over the 6 × 8 pixels of the cube read here; rel 1e-12.
    const cube = await readCube(cubePath);
    const B = cube.bandCount;
    for (let b2 = 0; b2 < B; b2++) {
      let sum = 0;
      for (let r = 4; r <= 9; r++) for (let c = 6; c <= 13; c++) sum += cube.pixels[(r * 32 + c) * B + b2];
      expect(Math.abs(lines[label][b2] - sum / 48)).toBeLessThanOrEqual(1e-12 * Math.max(1, sum / 48));
    }
  });

  it('per-element maps share one cursor; their ranges are the bands’ own', async () => {
    const maps = page.locator('[data-testid="xrf-element-map"]');
    expect(await maps.count()).toBe(3); // the composite's three bands by default
    await page.selectOption('[data-testid="xrf-element-band"]', '40');
    await page.click('[data-testid="xrf-element-add"]');
    await expect.poll(() => maps.count()).toBe(4);
    const cube = await readCube(cubePath);
    const B = cube.bandCount;
    for (const m of await maps.all()) {
      const band = Number(await m.getAttribute('data-band'));
      expect(await m.getAttribute('data-name')).toBe(cube.bandNames[band]);
      let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < 32 * 32; i++) { lo = Math.min(lo, cube.pixels[i * B + band]); hi = Math.max(hi, cube.pixels[i * B + band]); }
      expect([Number(await m.getAttribute('data-min')), Number(await m.getAttribute('data-max'))]).toEqual([lo, hi]);
    }
    // Hovering pixel (7, 25) on the last element map moves the cursor on every map to that pixel.
    const last = await maps.last().locator('canvas').boundingBox();
    if (!last) throw new Error('element map not laid out');
    const [x, y] = centre(last, 7, 25, 32);
    await page.mouse.move(x, y);
    const cursors = page.locator('[data-testid="xrf-cursor"]');
    await expect.poll(() => cursors.count()).toBe(4);
    const at = await cursors.evaluateAll((els) => els.map((e) => `${e.getAttribute('data-row')},${e.getAttribute('data-col')}`));
    expect(new Set(at)).toEqual(new Set(['7,25']));
  });

  it('keyboard: arrow keys move the cursor on the image, Enter shows that pixel', async () => {
    await page.mouse.move(0, 0); // pointer off the maps: the cursor is cleared
    await page.focus('[data-testid="xrf-viewer-image"]');
    for (const k of ['ArrowDown', 'ArrowDown', 'ArrowRight', 'ArrowRight', 'ArrowRight']) await page.keyboard.press(k);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getAttribute('[data-testid="xrf-pixel-info"]', 'data-col')).toBe('3');
    expect(await page.getAttribute('[data-testid="xrf-pixel-info"]', 'data-row')).toBe('2');
    const ref = await xrfPixelSpectrum({ path: cubePath, row: 2, col: 3, scoreTiff });
    expect((await lineValues(page))['pixel r2 c3']).toEqual(ref.spectrum);
  });

  it('exports the selected spectra as CSV: band, energy, one column per plotted spectrum', async () => {
    const plotted = await lineValues(page);
    await page.click('[data-testid="xrf-export-spectra"]');
    await page.waitForSelector('[data-testid="xrf-spectra-csv"]');
    const path = (await page.getAttribute('[data-testid="xrf-spectra-csv"]', 'data-path')) as string;
    const rows = readFileSync(path, 'utf8').trim().split('\n').map((l) => l.split(','));
    expect(rows[0].slice(0, 2)).toEqual(['band', 'energy (keV)']);
    expect(rows.length).toBe(101);
    const cube = await readCube(cubePath);
    expect(rows.slice(1).map((r) => r[0])).toEqual(cube.bandNames);
    // The energy column is the value in each band name ("0.800keV" → 0.8).
    expect(rows.slice(1).map((r) => Number(r[1]))).toEqual(cube.bandNames.map((n) => Number(n.replace('keV', ''))));
    for (const [k, label] of rows[0].slice(2).entries()) {
      expect(rows.slice(1).map((r) => Number(r[k + 2]))).toEqual(plotted[label]); // String(number) round-trips exactly
    }
    expect(rows[0].slice(2).sort()).toEqual(Object.keys(plotted).sort());
  });
});
