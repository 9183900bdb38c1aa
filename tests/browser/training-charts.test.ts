import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { Rng } from '../../main/util/rng.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';
import { trainingRocLines } from '../../renderer/src/lib/chart-data.ts';
import { haveChromium, openDemoSession, type DemoSession } from './workbench-session.ts';
import { expectElementScreenshot, inkFraction } from './screenshot-compare.ts';

/**
 * The training result charts in Chromium against the real backend: CNN + DCN trained for 1 epoch
 * with 2 folds on a small stack inside the demo survey's extent (EPSG:32645) with imported sites;
 * radar, ROC and CV box-plot charts (Chart.js, under the renderer's CSP) with one series per model;
 * the run recorded in the project and its charts re-opened from the Jobs tab, there from the committed
 * fixture run's files, so the screenshot compares fixed numbers (freshly trained ones vary by machine).
 */
const work = tempDir('ga-browser-charts-');
/** Fixed run files for the screenshot (generator: tests/renderer/fixtures/make-training-run.ts). */
const FIXTURE = join(REPO_ROOT, 'tests/renderer/fixtures/training-run');
let s: DemoSession;
let page: Page;
let cspViolations: string[] = [];
const grid: GridSpec = { originX: 600_000, originY: 4_420_000, cellSizeX: 1000, cellSizeY: 1000, rows: 20, cols: 20, crs: crsFromEpsg(32645) };
const at = (r: number, c: number): number => r * grid.cols + c;

describe.skipIf(!haveChromium)('Training charts (browser host)', () => {
  beforeAll(async () => {
    // Au weakly raised around four deposits: AUCs below 1, so the curves have corners.
    const rng = new Rng(11);
    const n = grid.rows * grid.cols;
    const bands = [0, 1].map(() => Float32Array.from({ length: n }, () => Math.exp(rng.normal(1, 0.5))));
    const deposits = [at(4, 4), at(4, 15), at(15, 4), at(15, 15)];
    for (const d of deposits) for (let dr = -2; dr <= 2; dr++) for (let dc = -2; dc <= 2; dc++) bands[0][d + dr * grid.cols + dc] *= 1.5;
    writeGeoTiff(join(work, 'chart-stack.tif'), { grid, bandNames: ['Au', 'Cu'], bands });
    writeSitesGeoJson(join(work, 'chart-sites.geojson'), buildSites(grid, { depositCells: deposits, negatives: { kind: 'user', cells: [at(10, 2), at(2, 10), at(17, 10), at(10, 17)] } }).set);

    s = await openDemoSession(work);
    page = s.page;
    cspViolations = s.cspViolations;
  });
  afterAll(async () => {
    await s?.close();
  });

  it('trains CNN + DCN (1 epoch, 2 folds): radar, ROC and CV box plots with one series per model', async () => {
    await page.click('[data-testid="import-layer"]');
    await page.selectOption('[data-testid="import-kind"]', 'raster');
    await page.fill('[data-testid="import-path"]', join(work, 'chart-stack.tif'));
    await page.click('[data-testid="import-submit"]');
    await expect.poll(() => page.locator('[data-testid="layer"][data-layer="chart-stack"]').count()).toBe(1);

    await page.click('[data-testid="tab-sites"]');
    await page.selectOption('[data-testid="site-grid"]', { label: 'chart-stack' });
    await page.fill('[data-testid="sites-path"]', join(work, 'chart-sites.geojson'));
    await page.click('[data-testid="sites-import"]');
    await expect.poll(() => page.locator('[data-testid="site"]').count()).toBe(8);

    await page.click('[data-testid="tab-train"]');
    await page.selectOption('[data-testid="train-stack"]', { label: 'chart-stack (2 bands)' });
    await page.fill('[data-testid="train-epochs"]', '1');
    await page.fill('[data-testid="train-folds"]', '2');
    await page.fill('[data-testid="train-repeats"]', '1');
    await page.fill('[data-testid="train-seed"]', '3');
    await page.fill('[data-testid="train-patch"]', '5');
    await page.fill('[data-testid="train-threads"]', '1');
    // Every text the progress line shows, in order (issue 18: it stayed at "starting" until the first epoch ended).
    // (A script string: the tests' tsconfig has no DOM types.)
    await page.evaluate(`(() => {
      const seen = (window.trainMessages = []);
      const note = () => {
        const t = document.querySelector('[data-testid="train-message"]')?.textContent ?? null;
        if (t !== null && seen[seen.length - 1] !== t) seen.push(t);
      };
      new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true });
    })()`);
    await page.click('[data-testid="train-run"]');
    await page.waitForSelector('[data-testid="training-charts"]', { timeout: 180_000 });
    expect(await page.locator('[data-testid="train-error"]').count()).toBe(0);
    const messages = (await page.evaluate('window.trainMessages')) as string[];
    const firstEpochEnd = messages.findIndex((m) => /epoch 1\/1 loss/.test(m));
    expect(firstEpochEnd, messages.join('\n')).toBeGreaterThan(0);
    // Before the first epoch ended the line already said what the job was doing: the workflow's
    // first progress event (the first of a job always passes the job manager's throttle).
    expect(messages.slice(0, firstEpochEnd), messages.join('\n')).toContain('reading the stack chart-stack.tif');
    await page.waitForSelector('[data-testid="roc-chart"]');

    const [runName] = readdirSync(join(s.dataDir, 'runs')).filter((f) => /^train-.*\.run$/.test(f));
    const runDir = join(s.dataDir, 'runs', runName);
    const metrics = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')) as Record<string, unknown>;
    const roc = JSON.parse(readFileSync(join(runDir, 'roc.json'), 'utf8')) as Record<string, { folds: unknown[] }>;
    expect(Object.keys(metrics)).toEqual(['cnn', 'dcn', 'comparisons']);
    // One paired comparison for the one pair of models run.
    expect((metrics.comparisons as { a: string; b: string }[]).map((c) => `${c.a}-${c.b}`)).toEqual(['dcn-cnn']);
    expect(Object.keys(roc)).toEqual(['cnn', 'dcn']);
    expect(roc.cnn.folds).toHaveLength(2);
    for (const id of ['radar-chart', 'roc-chart', 'cv-box-plot']) {
      const el = page.locator(`[data-testid="${id}"]`);
      expect(await el.getAttribute('data-series'), id).toBe('2');
      expect(Number(await el.getAttribute('data-rendered')), id).toBeGreaterThan(0);
      // Chart.js drew on its canvas (no eval, no remote content needed under the CSP).
      expect(inkFraction(await el.screenshot()), id).toBeGreaterThan(0.02);
    }
    expect(cspViolations).toEqual([]);
    // Every fold's curve on demand: the chart is rebuilt, still one legend series per model.
    const rendered = Number(await page.getAttribute('[data-testid="roc-chart"]', 'data-rendered'));
    await page.check('[data-testid="roc-show-folds"]');
    await expect.poll(async () => Number(await page.getAttribute('[data-testid="roc-chart"]', 'data-rendered'))).toBeGreaterThan(rendered);
    expect(await page.getAttribute('[data-testid="roc-chart"]', 'data-series')).toBe('2');
    await page.uncheck('[data-testid="roc-show-folds"]');
    // The numbers just trained depend on the machine (thread timing, load): the run's table shows them.
    const liveRows = await page.locator('[data-testid="train-metrics-row"]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-model'), Number(e.getAttribute('data-auc'))] as const));
    expect(liveRows.map((r) => r[0])).toEqual(['cnn', 'dcn']);
    for (const [m, auc] of liveRows) expect(Math.abs(auc - (metrics[m as string] as { mean: { auc: number } }).mean.auc), `${m} table AUC = metrics.json (1e-12: JSON text)`).toBeLessThanOrEqual(1e-12);

    // Fixed numbers for the pixels: the run's files are replaced by the committed fixture
    // (tests/renderer/fixtures/training-run, with its generator), which "Show results" below re-reads,
    // so the screenshot compares charts of the same data on every machine.
    for (const f of ['metrics.json', 'roc.json']) copyFileSync(join(FIXTURE, f), join(runDir, f));

    // The run is in the project's runs; after saving and reloading the app (which opens the most
    // recent project) "Show results" in the Jobs tab re-opens the run's charts.
    await page.click('[data-testid="tab-jobs"]');
    await expect.poll(() => page.locator('[data-testid="run"][data-kind="train"]').count()).toBe(1);
    await page.click('[data-testid="save-project"]');
    await page.fill('[data-testid="project-path"]', join(work, 'charts.gaproj'));
    await page.click('[data-testid="project-submit"]');
    await page.locator('[data-testid="project-dialog"]').waitFor({ state: 'detached' });
    await page.reload();
    await page.waitForSelector('[data-testid="layer"][data-layer="chart-stack"]');
    expect(await page.locator('[data-testid="training-charts"]').count()).toBe(0);
    await page.click('[data-testid="tab-jobs"]');
    await page.click('[data-testid="run"][data-kind="train"] [data-testid="run-show-results"]');
    await page.waitForSelector('[data-testid="training-charts"] [data-testid="roc-chart"]');
    expect(await page.getAttribute('[data-testid="tab-train"]', 'aria-selected')).toBe('true');
    expect(await page.textContent('[data-testid="train-run-dir"]')).toContain(runName);
    for (const id of ['radar-chart', 'roc-chart', 'cv-box-plot']) expect(await page.getAttribute(`[data-testid="${id}"]`, 'data-series'), id).toBe('2');
    // The re-opened charts show the fixture's numbers: the table's AUC is its mean AUC per model, and
    // the ROC chart names each model with the fixture's mean-curve AUC (chart-data.ts's label).
    const fixedMetrics = JSON.parse(readFileSync(join(FIXTURE, 'metrics.json'), 'utf8')) as Record<string, { mean: { auc: number } }>;
    const fixedRoc = JSON.parse(readFileSync(join(FIXTURE, 'roc.json'), 'utf8')) as Record<string, { mean: { auc: number } }>;
    const rows = await page.locator('[data-testid="train-metrics-row"]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-model'), Number(e.getAttribute('data-auc'))] as const));
    expect(rows.map((r) => r[0])).toEqual(['cnn', 'dcn']);
    for (const [m, auc] of rows) expect(Math.abs(auc - fixedMetrics[m as string].mean.auc), `${m}: fixture AUC (1e-12: JSON text)`).toBeLessThanOrEqual(1e-12);
    const rocLabel = (await page.getAttribute('[data-testid="roc-chart"]', 'aria-label')) ?? '';
    expect(rocLabel.split(': ')[1].split('; ')).toEqual(trainingRocLines(fixedRoc as never, false).map((l) => l.name));
    for (const id of ['radar-chart', 'roc-chart', 'cv-box-plot']) expect(inkFraction(await page.locator(`[data-testid="${id}"]`).screenshot()), id).toBeGreaterThan(0.02);
    // A tall window for the screenshot: the charts are taller than the 720 px viewport's side panel.
    await page.setViewportSize({ width: 1100, height: 1800 });
    await page.locator('[data-testid="training-charts"]').scrollIntoViewIfNeeded();
    await expectElementScreenshot(page.locator('[data-testid="training-charts"]'), 'training-charts.png', work);
    await page.setViewportSize({ width: 1100, height: 720 });
  }, 300_000);
});
