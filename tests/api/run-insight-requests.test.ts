/**
 * The runInsight request (main/api/run-insight-requests.ts) on a real run of `geoanomaly train`:
 * GK-DCN and the index baseline with a region hold-out (--holdout-blocks 2) on a small seeded
 * demo survey. Every field it returns is the run folder's own (manifest.json, metrics.json),
 * checked field by field; a folder that is not a run gets a named error. attributeSite (the
 * site panel's per-element attribution) equals `geoanomaly explain --attribution occlusion` at
 * the run's deposit sites.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { generateDemoSurvey } from '../../main/demo/demo-survey.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { cellsFromPoints } from '../../main/sites/label-cells.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { readManifest } from '../../main/models/run-store.ts';
import { attributeSite, runInsight } from '../../main/api/run-insight-requests.ts';
import { cellCenterX, cellCenterY } from '../../main/grid/grid-spec.ts';
import { createHandlers } from '../../main/api/handlers.ts';
import { Rng } from '../../main/util/rng.ts';
import { tempDir } from '../helpers/paths.ts';

const survey = generateDemoSurvey({ seed: 11, widthM: 20_000, heightM: 15_000, depositCount: 14, sampleCount: 200 });
const grid: GridSpec = survey.truthGrid;
let dir = '';
let runDir = '';

beforeAll(async () => {
  dir = tempDir('run-insight-');
  const rng = new Rng(4);
  const n = grid.rows * grid.cols;
  const bands = [
    Float32Array.from(survey.truthBand, (t) => Math.exp(2.5 * t + rng.normal(0, 0.25))),
    Float32Array.from({ length: n }, () => Math.exp(rng.normal(0, 0.3))),
    Float32Array.from(survey.truthBand, (t) => Math.exp(1.5 * t + rng.normal(0, 0.3))),
  ];
  writeGeoTiff(join(dir, 'stack.tif'), { grid, bandNames: ['Au', 'Cu', 'As'], bands });
  writeGeoTiff(join(dir, 'w.tif'), { grid, bandNames: ['fault_weight'], bands: [Float32Array.from(survey.truthBand, (t) => 0.2 + 0.6 * t)] });
  const depositCells = cellsFromPoints(
    grid,
    survey.deposits.features.map((f) => f.geometry.coordinates[0]),
    survey.deposits.features.map((f) => f.geometry.coordinates[1]),
  ).cells;
  writeSitesGeoJson(join(dir, 'sites.geojson'), buildSites(grid, { depositCells, negatives: { kind: 'auto', count: 14, seed: 2, minDepositDistM: 1500 } }).set);
  runDir = join(dir, 'run');
  const code = await main([
    'train', '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--knowledge', join(dir, 'w.tif'), '--model', 'gk-dcn,index', '--index-elements', 'Au,As',
    '--epochs', '4', '--min-epochs', '2', '--lr-schedule', 'cosine', '--folds', '2', '--repeats', '1', '--patch-size', '5', '--batch', '16', '--seed', '3', '--threads', '1',
    '--engine', 'onnx', '--holdout-blocks', '2', '--out', runDir,
  ]);
  expect(code).toBe(0);
}, 240_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('runInsight', () => {
  it('returns the final models\' learning curves, warnings, CV beside hold-out and comparisons exactly as the run folder holds them', async () => {
    const r = await runInsight(runDir);
    const manifest = readManifest(runDir);
    const metrics = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')) as Record<string, { mean: { auc: number }; sd: { auc: number }; ci95: { auc: [number, number] }; folds: unknown[] }> & {
      holdout: { method: string; rules: string; models: Record<string, { auc: number | null; ci95: [number, number] | null; deposits: number; regions: { region: string; deposits: number; auc: number | null }[] }> };
      comparisons: { a: string; b: string; diff: number; ci95: [number, number] }[];
    };
    expect(r.models.map((m) => m.name).sort()).toEqual(['gk-dcn', 'index']);
    const g = r.models.find((m) => m.name === 'gk-dcn')!;
    const mg = manifest.models['gk-dcn'];
    expect(g.type).toBe('network');
    expect(g.keptEpoch).toBe(mg.epochs);
    expect(g.keptEpoch).toBeGreaterThanOrEqual(2); // --min-epochs 2
    expect(g.epochsRun).toBe(mg.history!.length);
    expect(g.stoppedEarly).toBe(mg.stoppedEarly);
    expect(g.geology).toEqual(mg.geology);
    expect(g.geologyShare).toBe(mg.geologyShare);
    // Every epoch: the manifest's numbers, unchanged (exact: nothing is recomputed).
    g.history.forEach((e, i) => {
      const h = mg.history![i];
      expect(e.epoch).toBe(h.epoch);
      expect(e.trainLoss).toBe(h.trainLoss);
      expect(e.valLoss).toBe(h.valLoss ?? null);
      expect(e.learningRate).toBe(h.learningRate);
      expect(e.geologyShare).toBe(h.geologyShare);
      expect(e.a).toBe(h.a![0]);
      expect(e.b).toBe(h.b);
    });
    // The cosine schedule is visible in the curve: the rate falls from epoch 1 to the last.
    expect(g.history[g.history.length - 1].learningRate!).toBeLessThan(g.history[0].learningRate!);
    const idx = r.models.find((m) => m.name === 'index')!;
    expect(idx.type).toBe('baseline');
    expect(idx.history).toEqual([]);
    expect(idx.geology).toBeNull();
    for (const m of r.models) {
      expect(m.cv).toEqual({ auc: metrics[m.name].mean.auc, sd: metrics[m.name].sd.auc, ci95: metrics[m.name].ci95.auc, folds: metrics[m.name].folds.length });
      const h = metrics.holdout.models[m.name];
      expect(m.holdout).toEqual({ auc: h.auc, ci95: h.ci95, deposits: h.deposits, regions: h.regions.map((x) => ({ region: x.region, deposits: x.deposits, auc: x.auc })) });
    }
    expect(r.holdout).toEqual({ method: metrics.holdout.method, rules: metrics.holdout.rules });
    expect(r.comparisons.map((c) => [c.a, c.b, c.diff, c.ci95])).toEqual(metrics.comparisons.map((c) => [c.a, c.b, c.diff, c.ci95]));
    expect(r.warnings.map((w) => [w.code, w.subject, w.fix])).toEqual((manifest.warnings ?? []).map((w) => [w.code, w.subject ?? null, w.fix]));
  });

  it('is a request of the app (handlers), and a folder without a run gets a named error', async () => {
    const { handlers } = createHandlers({ dataDir: join(dir, 'data'), host: 'browser', emit: () => undefined, autosaveDelayMs: 60_000 });
    const viaHandler = await handlers.runInsight({ runDir });
    expect(viaHandler).toEqual(await runInsight(runDir));
    const empty = join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    await expect(runInsight(empty)).rejects.toMatchObject({ name: expect.stringMatching(/Error$/), message: expect.stringMatching(/manifest\.json/) });
  });

  it('attributeSite: per-element occlusion at a clicked cell equals explain --attribution occlusion at that deposit site', async () => {
    const out = join(dir, 'explain');
    const code = await main(['explain', '--run', runDir, '--stack', join(dir, 'stack.tif'), '--sites', join(dir, 'sites.geojson'), '--attribution', 'occlusion', '--no-maps', '--out', out]);
    expect(code).toBe(0);
    const ref = JSON.parse(readFileSync(join(out, 'attribution-sites.json'), 'utf8')) as {
      models: Record<string, { sites: { siteId: string; row: number; col: number; p: number; attribution: Record<string, number> }[] }>;
    };
    const refSites = ref.models['gk-dcn'].sites;
    expect(refSites.length).toBeGreaterThan(2);
    for (const site of refSites.slice(0, 3)) {
      const r = await attributeSite({ runDir, x: cellCenterX(grid, site.col), y: cellCenterY(grid, site.row) });
      expect([r.row, r.col]).toEqual([site.row, site.col]);
      // The baseline index has no network: only gk-dcn is attributed.
      expect(r.models.map((m) => m.name)).toEqual(['gk-dcn']);
      const m = r.models[0];
      // Same model, window and function as the CLI: equal to float32 rounding (tolerance 1e-6).
      expect(m.p).toBeCloseTo(site.p, 6);
      expect(m.elements.map((e) => e.band).sort()).toEqual(['As', 'Au', 'Cu']);
      for (const e of m.elements) expect(e.value, `${site.siteId} ${e.band}`).toBeCloseTo(site.attribution[e.band], 6);
      // Largest |attribution| first.
      expect(m.elements.map((e) => Math.abs(e.value))).toEqual([...m.elements.map((e) => Math.abs(e.value))].sort((a, b) => b - a));
    }
    await expect(attributeSite({ runDir, x: grid.originX - 5_000, y: grid.originY })).rejects.toThrow(/outside the 30×40 grid/);
  }, 120_000);
});
