import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { readSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { tempDir } from '../helpers/paths.ts';
import { haveChromium, openDemoSession, type Session } from './workbench-session.ts';

/**
 * The Sites panel and the job list in Chromium against the real backend: digitize, undo/redo,
 * drag, delete, export (checked with main/sites' own reader), automatic negatives as a job.
 */
const work = tempDir('ga-browser-sites-');
let s: Session;
let page: Page;
let grid: GridSpec;

interface SiteRow {
  id: string;
  label: number;
  source: string;
  x: number;
  y: number;
}

const siteRows = async (): Promise<SiteRow[]> =>
  page.locator('[data-testid="site"]').evaluateAll((els) =>
    els.map((e) => ({
      id: e.getAttribute('data-id') ?? '',
      label: Number(e.getAttribute('data-label')),
      source: e.getAttribute('data-source') ?? '',
      x: Number(e.getAttribute('data-x')),
      y: Number(e.getAttribute('data-y')),
    })),
  );

const counts = async (): Promise<[number, number]> => {
  const el = page.locator('[data-testid="site-counts"]');
  return [Number(await el.getAttribute('data-positive')), Number(await el.getAttribute('data-negative'))];
};

async function mapPoint(dx: number, dy: number): Promise<{ x: number; y: number }> {
  const box = await page.locator('[data-testid="map"]').boundingBox();
  if (!box) throw new Error('map has no box');
  return { x: box.x + box.width / 2 + dx, y: box.y + box.height / 2 + dy };
}

/** Clicks the map and waits until the site list has `expected` entries (a click is a site). */
async function clickMap(dx: number, dy: number, expected: number): Promise<void> {
  const p = await mapPoint(dx, dy);
  await page.mouse.click(p.x, p.y);
  await expect.poll(async () => (await siteRows()).length).toBe(expected);
}

/** Fractional part of a site's cell coordinate: 0.5 at a cell centre. */
const cellFraction = (v: number, origin: number, size: number, sign: 1 | -1): number => {
  const f = (sign * (v - origin)) / size;
  return f - Math.floor(f);
};

describe.skipIf(!haveChromium)('Sites panel and job list (browser host)', () => {
  beforeAll(async () => {
    s = await openDemoSession(work);
    page = s.page;
    grid = (await readGeoTiff(join(s.dataDir, 'demo-survey', 'anomaly-truth.tif'))).grid;
  });
  afterAll(async () => {
    await s?.close();
  });

  it('digitizes three sites on cell centres and undoes/redoes one', async () => {
    await page.click('[data-testid="tab-sites"]');
    expect(await counts()).toEqual([0, 0]);
    await page.click('[data-testid="site-mode-add-positive"]');
    await clickMap(-150, -80, 1);
    await clickMap(120, -80, 2);
    await page.click('[data-testid="site-mode-add-negative"]');
    await clickMap(0, 120, 3);
    expect(await counts()).toEqual([2, 1]);
    const rows = await siteRows();
    expect(rows.map((r) => [r.label, r.source])).toEqual([[1, 'user'], [1, 'user'], [0, 'user']]);
    // Every site sits on the centre of a cell of the grid layer (tolerance 1e-6 cell: float rounding).
    for (const r of rows) {
      expect(Math.abs(cellFraction(r.x, grid.originX, grid.cellSizeX, 1) - 0.5)).toBeLessThan(1e-6);
      expect(Math.abs(cellFraction(r.y, grid.originY, grid.cellSizeY, -1) - 0.5)).toBeLessThan(1e-6);
    }
    await page.keyboard.press('Control+z');
    await expect.poll(counts).toEqual([2, 0]);
    await page.click('button:has-text("Redo")');
    await expect.poll(counts).toEqual([2, 1]);
    await page.click('[data-testid="undo"]');
    await expect.poll(counts).toEqual([2, 0]);
    // Re-add the negative for the next steps.
    await clickMap(0, 120, 3);
  });

  it('drags a site to another cell (undoable) and deletes one by clicking it', async () => {
    const [a, b] = await siteRows();
    // Map units per screen pixel from the two clicks 270 px apart (each snapped by ≤ ½ cell).
    const resolution = (b.x - a.x) / 270;
    await page.click('[data-testid="site-mode-move"]');
    const from = await mapPoint(-150, -80);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(from.x + 20, from.y, { steps: 4 });
    await page.mouse.move(from.x + 40, from.y, { steps: 4 });
    await page.mouse.up();
    await expect.poll(async () => (await siteRows())[0].x).not.toBe(a.x);
    const moved = (await siteRows())[0];
    // 40 px to the east: Δx = 40 px · resolution within one cell (snapping of both ends + resolution estimate).
    expect(Math.abs(moved.x - a.x - 40 * resolution)).toBeLessThanOrEqual(grid.cellSizeX * 1.01);
    expect(moved.y).toBe(a.y);
    await page.click('[data-testid="undo"]');
    await expect.poll(async () => (await siteRows())[0].x).toBe(a.x);

    await page.click('[data-testid="site-mode-delete"]');
    const p = await mapPoint(120, -80);
    await page.mouse.click(p.x, p.y);
    await expect.poll(counts).toEqual([1, 1]);
    expect((await siteRows()).map((r) => r.id)).not.toContain(b.id);
  });

  it('exports the sites as 3×3 blocks that main/sites reads back', async () => {
    const file = join(work, 'exported-sites.geojson');
    await page.fill('[data-testid="sites-path"]', file);
    await page.click('[data-testid="sites-export"]');
    await page.waitForSelector('[data-testid="sites-file-message"]');
    const set = await readSitesGeoJson(file, grid);
    const rows = await siteRows();
    for (const r of rows) {
      const cells = set.sites.filter((c) => c.label === r.label && Math.abs(c.col - Math.floor((r.x - grid.originX) / grid.cellSizeX)) <= 1 && Math.abs(c.row - Math.floor((grid.originY - r.y) / grid.cellSizeY)) <= 1);
      // Away from the grid edge a block is all nine cells of its 3×3 square.
      expect(cells).toHaveLength(9);
      expect(new Set(cells.map((c) => c.siteId)).size).toBe(1);
      expect(cells.filter((c) => c.centre)).toHaveLength(1);
    }
    expect(set.sites).toHaveLength(9 * rows.length);
    // Import of the same file gives the same centres (one per block).
    await page.click('[data-testid="sites-import"]');
    await page.waitForSelector('[data-testid="sites-file-message"]');
    const back = await siteRows();
    expect(back.map((r) => [r.label, r.x, r.y]).sort()).toEqual(rows.map((r) => [r.label, r.x, r.y]).sort());
  });

  it('runs automatic negatives as a job, listed with its log, and adds its sites', async () => {
    const before = await counts();
    await page.fill('[data-testid="auto-count"]', '4');
    await page.fill('[data-testid="auto-seed"]', '7');
    await page.click('[data-testid="auto-run"]');
    await page.locator('[data-testid="auto-run"]:has-text("Select negatives")').waitFor({ timeout: 90_000 });
    expect(await page.locator('[data-testid="auto-error"]').count()).toBe(0);
    // The job's own output file, read by main/sites: its blocks per class (reference).
    const runs = join(s.dataDir, 'runs');
    const out = readdirSync(runs).filter((f) => f.startsWith('sites-'));
    expect(out).toHaveLength(1);
    const set = await readSitesGeoJson(join(runs, out[0]), grid);
    const blocks = (label: number): number => new Set(set.sites.filter((c) => c.label === label).map((c) => c.siteId)).size;
    expect(blocks(0)).toBe(4);
    expect(await counts()).toEqual([before[0] + blocks(1), before[1] + 4]);

    await page.click('[data-testid="tab-jobs"]');
    const job = page.locator('[data-testid="job"][data-kind="sites"]');
    expect(await job.getAttribute('data-state')).toBe('done');
    expect(await job.locator('progress').evaluate((e) => (e as unknown as { value: number }).value)).toBe(1);
    await job.locator('[data-testid="job-log-toggle"]').click();
    expect(await job.locator('[data-testid="job-log"]').textContent()).toContain(out[0]);
  });
});
