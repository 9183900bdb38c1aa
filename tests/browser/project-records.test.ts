import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { ProjectDocument } from '../../main/api/contract.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { readSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { tempDir } from '../helpers/paths.ts';
import { haveChromium, mapIdle, openDemoSession, type Session } from './workbench-session.ts';

/**
 * Sites and runs kept in the project file (browser host, real backend): digitized sites are
 * written beside the project on save and restored on open; a finished job is appended to the
 * project's runs, listed in the Jobs tab and saved; undo still works after reopening.
 */
const work = tempDir('ga-browser-records-');
let s: Session;
let page: Page;

interface SiteRow {
  label: number;
  source: string;
  x: number;
  y: number;
}

const siteRows = async (): Promise<SiteRow[]> =>
  (
    await page.locator('[data-testid="site"]').evaluateAll((els) =>
      els.map((e) => ({ label: Number(e.getAttribute('data-label')), source: e.getAttribute('data-source') ?? '', x: Number(e.getAttribute('data-x')), y: Number(e.getAttribute('data-y')) })),
    )
  ).sort((a, b) => a.x - b.x || a.y - b.y || a.label - b.label);

async function clickMap(dx: number, dy: number, expected: number): Promise<void> {
  const box = await page.locator('[data-testid="map"]').boundingBox();
  if (!box) throw new Error('map has no box');
  await page.mouse.click(box.x + box.width / 2 + dx, box.y + box.height / 2 + dy);
  await expect.poll(async () => (await siteRows()).length).toBe(expected);
}

async function projectDialog(button: 'save-project' | 'open-project', path: string): Promise<void> {
  await page.click(`[data-testid="${button}"]`);
  await page.fill('[data-testid="project-path"]', path);
  await page.click('[data-testid="project-submit"]');
  await page.locator('[data-testid="project-dialog"]').waitFor({ state: 'detached' });
}

describe.skipIf(!haveChromium)('sites and runs saved in the project (browser host)', () => {
  beforeAll(async () => {
    s = await openDemoSession(work);
    page = s.page;
  });
  afterAll(async () => {
    await s?.close();
  });

  it('digitize two sites and run a job → save → new project → reopen: same sites, the run listed', async () => {
    await page.click('[data-testid="tab-sites"]');
    await page.click('[data-testid="site-mode-add-positive"]');
    await clickMap(-150, -80, 1);
    await page.click('[data-testid="site-mode-add-negative"]');
    await clickMap(120, 90, 2);
    await page.click('[data-testid="site-mode-pan"]');

    // A finished compute job (automatic negatives, 4 blocks) is appended to the project's runs.
    await page.fill('[data-testid="auto-count"]', '4');
    await page.fill('[data-testid="auto-seed"]', '7');
    await page.click('[data-testid="auto-run"]');
    await page.locator('[data-testid="auto-run"]:has-text("Select negatives")').waitFor({ timeout: 120_000 });
    expect(await page.locator('[data-testid="auto-error"]').count()).toBe(0);
    await page.click('[data-testid="tab-jobs"]');
    await expect.poll(() => page.locator('[data-testid="run"]').count()).toBe(1);
    expect(await page.getAttribute('[data-testid="run"]', 'data-kind')).toBe('sites');
    await page.click('[data-testid="tab-sites"]');
    const before = await siteRows();
    expect(before.filter((r) => r.source === 'user')).toHaveLength(2);
    expect(before.filter((r) => r.source === 'auto')).toHaveLength(4);

    const target = join(work, 'projects', 'kept.gaproj');
    await projectDialog('save-project', target);
    // The project references its sites file (relative to the project) and holds the run.
    const saved = JSON.parse(readFileSync(target, 'utf8')) as ProjectDocument;
    expect(saved.sites).toHaveLength(1);
    expect(saved.sites[0].source).toBe('kept.sites.geojson');
    const sitesFile = join(work, 'projects', 'kept.sites.geojson');
    expect(existsSync(sitesFile)).toBe(true);
    const grid = (await readGeoTiff(join(s.dataDir, 'demo-survey', 'anomaly-truth.tif'))).grid;
    const fileSites = await readSitesGeoJson(sitesFile, grid);
    expect(new Set(fileSites.sites.map((c) => c.siteId)).size).toBe(before.length);
    expect(saved.runs).toHaveLength(1);
    expect(saved.runs[0].kind).toBe('sites');
    expect(saved.runs[0].request.options.negatives).toBe('auto');
    expect(saved.runs[0].outputs).toHaveLength(1);
    expect(existsSync(saved.runs[0].outputs[0])).toBe(true);
    expect(Date.parse(saved.runs[0].finishedAt)).toBeGreaterThanOrEqual(Date.parse(saved.runs[0].startedAt));

    await page.click('button:has-text("New")');
    await expect.poll(() => page.locator('[data-testid="layer"]').count()).toBe(0);
    await expect.poll(async () => (await siteRows()).length).toBe(0);
    await projectDialog('open-project', target);
    await expect.poll(async () => (await siteRows()).length).toBe(before.length);
    // Same sites: label, kind and cell centre (reference: the rows before saving; 1e-6 m, coordinates cross as decimal text).
    const after = await siteRows();
    after.forEach((r, i) => {
      expect([r.label, r.source]).toEqual([before[i].label, before[i].source]);
      expect(Math.abs(r.x - before[i].x)).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(r.y - before[i].y)).toBeLessThanOrEqual(1e-6);
    });
    await page.click('[data-testid="tab-jobs"]');
    await expect.poll(() => page.locator('[data-testid="run"][data-kind="sites"]').count()).toBe(1);

    // Undo still works on the reopened project: a new site, undone.
    await page.click('[data-testid="tab-sites"]');
    await mapIdle(page);
    await page.click('[data-testid="site-mode-add-positive"]');
    await clickMap(-40, 150, before.length + 1);
    await page.click('[data-testid="undo"]');
    await expect.poll(async () => (await siteRows()).length).toBe(before.length);
    await page.click('[data-testid="site-mode-pan"]');
  }, 240_000);
});
