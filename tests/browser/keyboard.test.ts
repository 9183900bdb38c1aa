import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { tempDir } from '../helpers/paths.ts';
import { haveChromium, openDemoSession, type Session } from './workbench-session.ts';

/**
 * Keyboard reachability in Chromium: Tab reaches every toolbar button, every tab, each
 * panel's main controls (selects, inputs, run buttons) and the guided study's first form; Enter and Space activate them; the
 * Export dialog is walked by Tab and closed by Escape. Controls are named by data-testid
 * (else aria-label, else their text).
 */
const work = tempDir('ga-browser-keys-');
let s: Session;
let page: Page;

/** The focused element's name. */
const focused = (): Promise<string> =>
  page.evaluate(() => {
    const e = (globalThis as unknown as { document: { activeElement: { getAttribute(a: string): string | null; textContent: string | null; tagName: string } | null } }).document.activeElement;
    if (!e) return '';
    return e.getAttribute('data-testid') ?? e.getAttribute('aria-label') ?? ((e.textContent ?? '').trim().slice(0, 40) || e.tagName.toLowerCase());
  });

/**
 * The digitized sites as the autosave copy of the demo project names them (issue 18: digitizing
 * edits are autosaved): cells per class in the sites file the copy's "digitized-sites" entry points
 * to, or null while the copy or that entry is missing.
 */
function digitizedOnDisk(): { positive: number; negative: number } | null {
  const copy = join(s.dataDir, 'demo-survey', 'demo-survey.autosave.gaproj');
  if (!existsSync(copy)) return null;
  const set = (JSON.parse(readFileSync(copy, 'utf8')) as { sites?: { id: string; source: string }[] }).sites?.find((x) => x.id === 'digitized-sites');
  if (!set) return null;
  const source = existsSync(set.source) ? set.source : join(s.dataDir, 'demo-survey', set.source);
  const labels = (JSON.parse(readFileSync(source, 'utf8')) as { features: { properties: { label: number } }[] }).features.map((f) => f.properties.label);
  return { positive: labels.filter((l) => l === 1).length, negative: labels.filter((l) => l === 0).length };
}

/** Presses Tab `n` times, returning each focused element's name. */
async function tabs(n: number): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < n; i++) {
    await page.keyboard.press('Tab');
    seen.push(await focused());
  }
  return seen;
}

/** Tabs from the top of the page until `name` has focus (at most `max` presses); fails when it never does. */
async function tabTo(name: string, max = 80): Promise<void> {
  await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { blur?: () => void } | null } }).document.activeElement?.blur?.());
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if ((await focused()) === name) return;
  }
  throw new Error(`${name} is not reachable with Tab within ${max} presses`);
}

/** Controls each tab's panel must expose to Tab (the ones a keyboard user needs to run the step). */
const PANEL_CONTROLS: Record<string, readonly string[]> = {
  'tab-layers': ['layer-visible', 'ramp', 'stretch', 'layer-export-layout', 'layer-export-tif'],
  'tab-sites': ['site-grid', 'site-mode-pan', 'site-mode-add-positive', 'site-mode-add-negative', 'site-mode-move', 'site-mode-delete', 'auto-deposits', 'auto-count', 'auto-seed', 'auto-run', 'sites-path', 'sites-import'],
  'tab-krige': ['krige-samples', 'krige-cell', 'krige-nmax', 'krige-model', 'krige-cv', 'krige-run', 'variogram-field', 'variogram-fit'],
  'tab-faults': ['faults-faults', 'faults-grid', 'faults-deposits', 'faults-where', 'faults-ring', 'faults-run'],
  'tab-train': ['train-stack', 'train-knowledge', 'train-epochs', 'train-folds', 'train-seed', 'train-run'],
  // Run stays disabled (so Tab rightly skips it) until a cube is loaded.
  'tab-xrf': ['xrf-cube-path', 'xrf-load', 'xrf-synthetic', 'xrf-epochs', 'xrf-seed'],
  // The side panel (layout, run folder, RPCA, evaluation), then the maps' own layer and band selects.
  // "Run robust PCA" stays disabled until a multiband stack is loaded (the demo has none).
  'tab-compare': ['compare-2', 'compare-4', 'compare-swipe', 'compare-run', 'compare-run-use', 'rpca-stack', 'rpca-transform', 'eval-map', 'eval-band', 'eval-deposits', 'eval-run', 'compare-layer', 'compare-pane-layer', 'compare-band'],
};

/** The guided study's first form (opened from the toolbar): every field and the start button. */
const STUDY_CONTROLS = ['study-samples', 'study-x', 'study-y', 'study-crs', 'study-faults', 'study-deposits', 'study-stack', 'study-begin'] as const;

describe.skipIf(!haveChromium)('keyboard reachability of the main controls (browser host)', () => {
  beforeAll(async () => {
    s = await openDemoSession(work);
    page = s.page;
  });
  afterAll(async () => {
    await s?.close();
  });

  it('Tab reaches every enabled toolbar button and every tab, in reading order', async () => {
    await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { blur?: () => void } | null } }).document.activeElement?.blur?.());
    const seen = await tabs(24);
    const toolbar = ['New', 'open-project', 'save-project', 'Demo survey', 'import-layer', 'study-open', 'export-map', 'export-open', 'open-settings', 'About'];
    const tabList = ['tab-layers', 'tab-sites', 'tab-krige', 'tab-faults', 'tab-train', 'tab-xrf', 'tab-compare', 'tab-jobs'];
    for (const name of [...toolbar, ...tabList]) expect(seen, `${name} not reached; Tab visited ${seen.join(' → ')}`).toContain(name);
    // Reading order: toolbar before tabs, tabs left to right.
    const order = [...toolbar, ...tabList].map((n) => seen.indexOf(n));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // Undo/Redo are disabled on a fresh project, so Tab skips them (they have nothing to do).
    expect(seen).not.toContain('undo');
  });

  for (const [tab, controls] of Object.entries(PANEL_CONTROLS)) {
    it(`${tab}: opened with ${tab === 'tab-sites' ? 'Space' : 'Enter'}, Tab then reaches ${controls.join(', ')}`, async () => {
      await tabTo(tab);
      await page.keyboard.press(tab === 'tab-sites' ? ' ' : 'Enter');
      expect(await page.getAttribute(`[data-testid="${tab}"]`, 'aria-selected')).toBe('true');
      const seen = await tabs(90);
      const missing = controls.filter((c) => !seen.includes(c));
      expect(missing, `not reachable: ${missing.join(', ')}; Tab visited ${seen.join(' → ')}`).toEqual([]);
      if (tab === 'tab-xrf') expect(await page.isDisabled('[data-testid="xrf-run"]')).toBe(true);
      if (tab === 'tab-compare') expect(await page.isDisabled('[data-testid="rpca-run"]')).toBe(true);
    });
  }

  it(`New study… opened with Enter: Tab then reaches ${STUDY_CONTROLS.join(', ')}; Enter closes it again`, async () => {
    await tabTo('study-open');
    await page.keyboard.press('Enter');
    expect(await page.getAttribute('[data-testid="study-open"]', 'aria-expanded')).toBe('true');
    await page.locator('[data-testid="study-wizard"]').waitFor();
    const seen = await tabs(40);
    const missing = STUDY_CONTROLS.filter((c) => !seen.includes(c));
    expect(missing, `not reachable: ${missing.join(', ')}; Tab visited ${seen.join(' → ')}`).toEqual([]);
    await tabTo('study-open');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('[data-testid="study-wizard"]').count()).toBe(0);
  });

  it('Space and Enter activate focused controls: a site tool, a layer checkbox', async () => {
    await tabTo('tab-sites');
    await page.keyboard.press('Enter');
    await tabTo('site-mode-add-negative');
    await page.keyboard.press(' ');
    expect(await page.getAttribute('[data-testid="site-mode-add-negative"]', 'aria-checked')).toBe('true');
    await tabTo('site-mode-pan');
    await page.keyboard.press('Enter');
    expect(await page.getAttribute('[data-testid="site-mode-pan"]', 'aria-checked')).toBe('true');
    await tabTo('tab-layers');
    await page.keyboard.press('Enter');
    await tabTo('layer-visible');
    const before = await page.locator('[data-testid="layer-visible"]').first().isChecked();
    await page.keyboard.press(' ');
    expect(await page.locator('[data-testid="layer-visible"]').first().isChecked()).toBe(!before);
    await page.keyboard.press(' ');
    expect(await page.locator('[data-testid="layer-visible"]').first().isChecked()).toBe(before);
  });

  it('digitizes by keyboard: the map takes focus, P / N place sites (reaching the autosave copy), arrows pan, +/− zoom, Delete removes, Ctrl+Z / Ctrl+Shift+Z undo / redo', async () => {
    const counts = async (): Promise<[number, number]> => [Number(await page.getAttribute('[data-testid="site-counts"]', 'data-positive')), Number(await page.getAttribute('[data-testid="site-counts"]', 'data-negative'))];
    expect(await counts()).toEqual([0, 0]);
    await tabTo('map', 200);
    expect(await page.getAttribute('[data-testid="map"]', 'title')).toMatch(/P positive site.*N negative site.*Delete/);
    // The keyboard cursor is the map centre (no pointer over the map yet): inside the demo raster.
    await page.keyboard.press('p');
    expect(await counts()).toEqual([1, 0]);
    const scale = (): Promise<string> => page.locator('.ol-scale-line-inner').innerText();
    const before = await scale();
    await page.keyboard.press('+');
    await expect.poll(scale).not.toBe(before);
    await page.keyboard.press('-');
    // One pan step (a fifth of the view) moves the centre to another cell: a second site fits there.
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('n');
    expect(await counts()).toEqual([1, 1]);
    // The edits reach the autosave copy without a save: one 3 × 3 block per class.
    await expect.poll(digitizedOnDisk, { timeout: 20_000 }).toEqual({ positive: 9, negative: 9 });
    await page.keyboard.press('Delete');
    expect(await counts()).toEqual([1, 0]);
    await page.keyboard.press('Control+z');
    await expect.poll(counts).toEqual([1, 1]);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(counts).toEqual([1, 0]);
    // Three undo steps (delete, N, P) go back to no sites; pan and zoom are not edits.
    for (let i = 0; i < 3; i++) await page.keyboard.press('Control+z');
    await expect.poll(counts).toEqual([0, 0]);
    // Undoing the digitizing reaches the autosave copy too: the empty set leaves it, so recovery
    // cannot bring back undone sites (stop 27's CI found the copy still holding { 9, 0 } here).
    await expect.poll(digitizedOnDisk, { timeout: 20_000 }).toBeNull();
    // Focus stayed on the map through all of it (no trap, no loss).
    expect(await focused()).toBe('map');
    // A digitizing undo with no view change between (the snapshot's document is the current one)
    // reaches the copy as well: place one site, see it on disk, undo it, see the set gone.
    await page.keyboard.press('p');
    expect(await counts()).toEqual([1, 0]);
    await expect.poll(digitizedOnDisk, { timeout: 20_000 }).toEqual({ positive: 9, negative: 0 });
    await page.keyboard.press('Control+z');
    await expect.poll(counts).toEqual([0, 0]);
    await expect.poll(digitizedOnDisk, { timeout: 20_000 }).toBeNull();
  });

  it('Enter on "Export…" opens the dialog with focus inside; Tab walks its controls; Escape closes it', async () => {
    await tabTo('export-open');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="export-dialog"]');
    expect(await focused()).toBe('export-section-layout');
    const seen = await tabs(30);
    const controls = ['export-section-raster', 'export-section-sites', 'export-layer', 'export-band', 'export-title', 'export-units', 'export-paper', 'export-orientation', 'export-dpi', 'export-format', 'export-deposits', 'export-faults', 'export-inset', 'export-path', 'export-run', 'export-close'];
    const missing = controls.filter((c) => !seen.includes(c));
    expect(missing, `not reachable: ${missing.join(', ')}; Tab visited ${seen.join(' → ')}`).toEqual([]);
    // Enter on a section tab switches the section.
    await tabTo('export-section-raster', 200);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="export-raster"]');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('[data-testid="export-dialog"]').count()).toBe(0);
  });

  /** The focused element draws the focus ring (app.css :focus-visible: 2 px solid outline). */
  const focusRing = (): Promise<string> =>
    page.evaluate(() => {
      const g = globalThis as unknown as { document: { activeElement: unknown }; getComputedStyle(e: unknown): { outlineStyle: string; outlineWidth: string } };
      const st = g.getComputedStyle(g.document.activeElement);
      return `${st.outlineWidth} ${st.outlineStyle}`;
    });

  it('Jobs tab by keyboard: a job started with Enter is listed; its Log and the run\'s Details open with Enter, with a visible focus ring', async () => {
    await tabTo('tab-sites');
    await page.keyboard.press('Enter');
    await tabTo('auto-run');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="auto-run"]:has-text("Select negatives")').waitFor({ timeout: 90_000 });
    expect(await page.locator('[data-testid="auto-error"]').count()).toBe(0);
    await tabTo('tab-jobs');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="job"][data-kind="sites"][data-state="done"]').waitFor();
    await page.locator('[data-testid="run"][data-kind="sites"]').waitFor();
    await tabTo('job-log-toggle', 120);
    expect(await focusRing()).toBe('2px solid');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="job-log"]').waitFor();
    expect(await page.getAttribute('[data-testid="job-log-toggle"]', 'aria-expanded')).toBe('true');
    await tabTo('run-details-toggle', 120);
    expect(await focusRing()).toBe('2px solid');
    await page.keyboard.press('Enter');
    // The run's details list the job's flags (the sites command's --out among them).
    expect(await page.textContent('[data-testid="run-details"]')).toMatch(/--out \S+sites-/);
  });

  it('the guided study by keyboard: the form is typed and submitted, then Tab reaches every step, the actions and the step pane\'s options', async () => {
    const demo = join(s.dataDir, 'demo-survey');
    await tabTo('study-open');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="study-wizard"]').waitFor();
    for (const [field, text] of [['study-samples', join(demo, 'samples.csv')], ['study-crs', 'EPSG:32645'], ['study-faults', join(demo, 'faults.geojson')], ['study-deposits', join(demo, 'deposits.geojson')]] as const) {
      await tabTo(field, 120);
      await page.keyboard.type(text);
    }
    await tabTo('study-begin', 120);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getAttribute('[data-testid="study-step-table"]', 'data-status'), { timeout: 60_000 }).toBe('done');
    const steps = ['table', 'kriging', 'faults', 'sites', 'training', 'compare', 'report'].map((id) => `study-step-${id}`);
    await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { blur?: () => void } | null } }).document.activeElement?.blur?.());
    const seen = await tabs(150);
    const missing = [...steps, 'study-check', 'study-run-step'].filter((c) => !seen.includes(c));
    expect(missing, `not reachable: ${missing.join(', ')}; Tab visited ${seen.join(' → ')}`).toEqual([]);
    // Nothing is stale yet (the steps below the table are still to do), so "Run stale steps" is
    // disabled and Tab rightly skips it.
    expect(await page.isDisabled('[data-testid="study-run-stale"]')).toBe(true);
    // Enter on a step opens its pane; its options are next in the Tab order.
    await tabTo('study-step-kriging', 120);
    expect(await focusRing()).toBe('2px solid');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getAttribute('[data-testid="study-pane"]', 'data-step')).toBe('kriging');
    const pane = await tabs(20);
    const paneMissing = ['study-fields', 'study-cell', 'study-run-step'].filter((c) => !pane.includes(c));
    expect(paneMissing, `not reachable: ${paneMissing.join(', ')}; Tab visited ${pane.join(' → ')}`).toEqual([]);
  });
});
