import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { main } from '../../main/cli/main.ts';
import { generateDemoSurvey } from '../../main/demo/demo-survey.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { cellsFromPoints } from '../../main/sites/label-cells.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { readManifest } from '../../main/models/run-store.ts';
import { Rng } from '../../main/util/rng.ts';
import { tempDir } from '../helpers/paths.ts';
import { haveChromium, openDemoSession, type DemoSession } from './workbench-session.ts';
import { inkFraction } from './screenshot-compare.ts';

/**
 * The trust panel of a training run in Chromium against the real backend: a run written by
 * `geoanomaly train` (GK-DCN + the index baseline, cosine schedule, region hold-out in 2 blocks)
 * is opened in the Training tab by its folder; the panel shows the final GK-DCN's learning curve
 * as one small chart per quantity (loss, learning rate, geology share, a, b) with the kept epoch,
 * the run's trust warnings with their fixes, and the grouped CV AUC beside the region hold-out
 * AUC of every model — each number the run folder's own.
 */
const work = tempDir('ga-browser-trust-');
const survey = generateDemoSurvey({ seed: 11, widthM: 20_000, heightM: 15_000, depositCount: 14, sampleCount: 200 });
const grid: GridSpec = survey.truthGrid;
const runDir = join(work, 'run');
let s: DemoSession;
let page: Page;

describe.skipIf(!haveChromium)('Trust panels (browser host)', () => {
  beforeAll(async () => {
    const rng = new Rng(4);
    const n = grid.rows * grid.cols;
    const bands = [
      Float32Array.from(survey.truthBand, (t) => Math.exp(2.5 * t + rng.normal(0, 0.25))),
      Float32Array.from({ length: n }, () => Math.exp(rng.normal(0, 0.3))),
      Float32Array.from(survey.truthBand, (t) => Math.exp(1.5 * t + rng.normal(0, 0.3))),
    ];
    writeGeoTiff(join(work, 'stack.tif'), { grid, bandNames: ['Au', 'Cu', 'As'], bands });
    writeGeoTiff(join(work, 'w.tif'), { grid, bandNames: ['fault_weight'], bands: [Float32Array.from(survey.truthBand, (t) => 0.2 + 0.6 * t)] });
    const depositCells = cellsFromPoints(
      grid,
      survey.deposits.features.map((f) => f.geometry.coordinates[0]),
      survey.deposits.features.map((f) => f.geometry.coordinates[1]),
    ).cells;
    writeSitesGeoJson(join(work, 'sites.geojson'), buildSites(grid, { depositCells, negatives: { kind: 'auto', count: 14, seed: 2, minDepositDistM: 1500 } }).set);
    const code = await main([
      'train', '--stack', join(work, 'stack.tif'), '--sites', join(work, 'sites.geojson'), '--knowledge', join(work, 'w.tif'), '--model', 'gk-dcn,index', '--index-elements', 'Au,As',
      '--epochs', '4', '--min-epochs', '2', '--lr-schedule', 'cosine', '--folds', '2', '--repeats', '1', '--patch-size', '5', '--batch', '16', '--seed', '3', '--threads', '1',
      '--engine', 'onnx', '--holdout-blocks', '2', '--out', runDir,
    ]);
    expect(code).toBe(0);
    s = await openDemoSession(work);
    page = s.page;
  }, 300_000);
  afterAll(async () => {
    await s?.close();
  });

  it('shows learning curves per quantity, trust warnings with fixes, and CV beside region hold-out from the run folder', async () => {
    const manifest = readManifest(runDir);
    const metrics = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')) as Record<string, { mean: { auc: number } }> & { holdout: { models: Record<string, { auc: number }> } };
    await page.click('[data-testid="tab-train"]');
    await page.fill('[data-testid="train-open-path"]', runDir);
    await page.click('[data-testid="train-open-run"]');
    await page.waitForSelector('[data-testid="run-insight"] [data-testid="run-curves"]', { timeout: 60_000 });
    expect(await page.locator('[data-testid="run-insight-error"]').count()).toBe(0);

    // Learning curves: only the network has one; five charts, one per quantity, all epochs drawn.
    const g = manifest.models['gk-dcn'];
    const epochs = g.history!.length;
    const curves = page.locator('[data-testid="run-curves"]');
    expect(await curves.count()).toBe(1);
    expect(await curves.getAttribute('data-model')).toBe('gk-dcn');
    expect(Number(await curves.getAttribute('data-kept'))).toBe(g.epochs);
    expect(Number(await curves.getAttribute('data-epochs'))).toBe(epochs);
    const withVal = g.history!.filter((h) => h.valLoss !== undefined).length;
    const expected: Record<string, number> = { 'curve-loss': epochs + withVal, 'curve-lr': epochs, 'curve-share': epochs, 'curve-a': epochs, 'curve-b': epochs };
    for (const [id, points] of Object.entries(expected)) {
      const chart = curves.locator(`[data-testid="${id}"]`);
      expect(Number(await chart.getAttribute('data-points')), id).toBe(points);
      // The chart's range is the run's own values (a from the manifest's per-epoch a₁).
      if (id === 'curve-a') expect(Number(await chart.getAttribute('data-max'))).toBeCloseTo(Math.max(...g.history!.map((h) => h.a![0])), 12);
      if (id === 'curve-lr') expect(Number(await chart.getAttribute('data-max'))).toBeCloseTo(g.history![0].learningRate!, 15);
      expect(await chart.locator('[data-testid="curve-kept"]').count(), id).toBe(1);
      // Something was drawn (lines and axes on white).
      expect(inkFraction(await chart.screenshot()), id).toBeGreaterThan(0.01);
    }

    // Trust warnings with their fixes, as the manifest holds them.
    const warnings = manifest.warnings ?? [];
    expect(warnings.length).toBeGreaterThan(0); // this short run keeps an early epoch in a fold
    expect(await page.locator('[data-testid="run-warning"]').count()).toBe(warnings.length);
    for (const [i, w] of warnings.entries()) {
      const li = page.locator('[data-testid="run-warning"]').nth(i);
      expect(await li.getAttribute('data-code')).toBe(w.code);
      expect(await li.locator('[data-testid="run-warning-fix"]').textContent()).toBe(`Fix: ${w.fix}`);
    }

    // Grouped CV beside the region hold-out, per model.
    for (const m of ['gk-dcn', 'index']) {
      const row = page.locator(`[data-testid="run-cv-row"][data-model="${m}"]`);
      expect(Number(await row.getAttribute('data-cv-auc')), m).toBe(metrics[m].mean.auc);
      expect(Number(await row.getAttribute('data-holdout-auc')), m).toBe(metrics.holdout.models[m].auc);
      expect(await row.textContent()).toContain(metrics.holdout.models[m].auc.toFixed(3));
    }
    expect(await page.textContent('[data-testid="run-holdout-method"]')).toMatch(/Hold-out:/);
    expect(s.cspViolations).toEqual([]);
  }, 300_000);
});
