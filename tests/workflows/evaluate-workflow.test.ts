import { describe, expect, it, vi } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { formatHelp } from '../../main/cli/command.ts';
import { evaluateCommand } from '../../main/cli/commands/evaluate.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { cellCenterX, cellCenterY, type GridSpec } from '../../main/grid/grid-spec.ts';
import { blocksAround, mergeSites } from '../../main/sites/site-blocks.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { writeJsonAtomic } from '../../main/util/atomic-write.ts';
import { evaluateMap } from '../../main/eval/success-rate.ts';
import { concentrationArea } from '../../main/eval/concentration-area.ts';
import { depositPlacements, pairedDepositBootstrap } from '../../main/eval/bootstrap.ts';
import { InvalidOptionError } from '../../main/errors.ts';
import { Rng } from '../../main/util/rng.ts';
import { optionsFromRequest } from '../../main/workflows/option-table.ts';
import { runWorkflow } from '../../main/workflows/registry.ts';
import { runWorkflowInWorker } from '../../main/workflows/run-in-worker.ts';
import { EVALUATE_OPTIONS, evaluateResultLines, evaluateWorkflow } from '../../main/workflows/evaluate.ts';
import { runtimeImportsOutsideRepo } from '../helpers/node-free.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

/**
 * Issue 17 §1: "evaluate" as a workflow: called directly (no argv) it writes what the CLI wrote
 * and returns the metrics as data; the CLI's --help is unchanged; it runs the same in a worker.
 * The assertions are those of tests/eval/evaluate-cli.test.ts and tests/eval/study-mask.test.ts.
 */

// The fixture of tests/eval/evaluate-cli.test.ts: a 40 × 50 map with an anomaly at (20, 25).
const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: 40, cols: 50, crs: crsFromEpsg(32645) };

function fixtureMap(seed = 3): Float32Array {
  const rng = new Rng(seed);
  const v = new Float32Array(grid.rows * grid.cols);
  for (let r = 0; r < grid.rows; r++) {
    for (let c = 0; c < grid.cols; c++) {
      const d = Math.hypot(r - 20, c - 25);
      v[r * grid.cols + c] = Math.min(0.999, Math.max(0.001, 0.9 * Math.exp(-d / 8) + 0.05 * rng.uniform()));
    }
  }
  for (let r = 0; r < 5; r++) for (let c = 0; c < 5; c++) v[r * grid.cols + c] = NaN;
  return v;
}

function writeInputs(dir: string) {
  const scores = fixtureMap();
  // A second band: the same anomaly, noisier (for --compare).
  const rng = new Rng(11);
  const noisy = Float32Array.from(scores, (v) => (Number.isFinite(v) ? Math.min(0.999, Math.max(0.001, v + 0.3 * rng.normal())) : NaN));
  const mapPath = join(dir, 'prob.tif');
  writeGeoTiff(mapPath, { grid, bandNames: ['p_gk-dcn', 'p_cnn'], bands: [scores, noisy] });
  // Deposits: (20,25) and (22,27) are training deposits; (18,30), (25,20), (10,40) held out;
  // (2,2) lies on nodata; one point is outside the map.
  const cells: [number, number][] = [[20, 25], [22, 27], [18, 30], [25, 20], [10, 40], [2, 2]];
  const features = cells.map(([r, c]) => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [cellCenterX(grid, c), cellCenterY(grid, r)] } }));
  features.push({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [grid.originX - 5000, grid.originY - 5000] } });
  const depositsPath = join(dir, 'deposits.geojson');
  writeJsonAtomic(depositsPath, { type: 'FeatureCollection', crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32645' } }, features });
  const sitesPath = join(dir, 'sites.geojson');
  const pos = blocksAround(grid, [20 * grid.cols + 25, 22 * grid.cols + 27], { label: 1, source: 'deposit' });
  const neg = blocksAround(grid, [35 * grid.cols + 5, 5 * grid.cols + 45], { label: 0, source: 'auto' });
  writeSitesGeoJson(sitesPath, mergeSites(grid, pos, neg));
  const exclude = new Uint8Array(grid.rows * grid.cols);
  for (const s of [...pos, ...neg]) exclude[s.row * grid.cols + s.col] = 1;
  return { scores, noisy, mapPath, depositsPath, sitesPath, exclude, depositCells: cells.map(([r, c]) => r * grid.cols + c) };
}

describe('evaluate workflow', () => {
  it('keeps "geoanomaly evaluate --help" byte-identical (tests/fixtures/help/evaluate.txt, captured before the move)', () => {
    expect(formatHelp(evaluateCommand)).toBe(readFileSync(join(REPO_ROOT, 'tests/fixtures/help/evaluate.txt'), 'utf8'));
  });

  it('has its option table and result type Node-free (the renderer may import them): no node: or package import, even transitively', () => {
    expect(runtimeImportsOutsideRepo('main/workflows/evaluate-options.ts')).toEqual([]);
    expect(runtimeImportsOutsideRepo('main/workflows/evaluate-result.ts')).toEqual([]);
    // The workflow itself is not (it reads and writes files): the check sees its imports.
    expect(runtimeImportsOutsideRepo('main/workflows/evaluate.ts').some((i) => / → node:/.test(i))).toBe(true);
  });

  it('writes EVAL.json and returns AUC, P–A, C–A and every count as data, excluding training-site cells', async () => {
    const dir = tempDir('wf-evaluate-');
    const f = writeInputs(dir);
    const out = join(dir, 'eval.json');
    const classes = join(dir, 'classes.tif');
    const logs: string[] = [];
    const r = await evaluateWorkflow({ map: f.mapPath, deposits: f.depositsPath, excludeTraining: f.sitesPath, classes, out }, { log: (l) => logs.push(l) });
    expect(r.outputs).toEqual({ evaluation: out, classes });
    expect(r.band).toBe('p_gk-dcn');
    // Reference: evaluateMap on the expected cells (tested against sklearn roc_auc_score); exact (same code, same cells).
    const direct = evaluateMap(f.scores, f.depositCells, { exclude: f.exclude });
    expect(r.auc).toBe(direct.auc);
    expect(r.successRateAuc).toBe(direct.successRate.auc);
    expect(r.paIntersection).toEqual(direct.paIntersection);
    expect(r.caBreaks).toEqual(concentrationArea(f.scores, { cellArea: 1 }).breaks);
    expect(r.caSource).toBe('auto');
    expect(r.counts).toMatchObject({ deposits: 6, depositsUsed: 3, depositsExcluded: 2, depositsInNodata: 1, depositsOutsideMap: 1, excludedCells: 35 });
    expect(r.counts.studyCells).toBe(grid.rows * grid.cols - 25 - 35);
    expect(r.comparisons).toEqual([]);
    // The file holds the same numbers, and the curves.
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.auc).toBe(r.auc);
    expect(report.counts).toEqual(r.counts);
    expect(report.successRate.areaShare.length).toBe(report.successRate.depositShare.length);
    // Notes go to the log, not to stdout.
    expect(logs).toContain('evaluate: 1 deposit(s) lie outside the map and are not evaluated');
    expect(logs).toContain('evaluate: 2 deposit(s) lie in training-site cells and are not evaluated (they are not held out)');
    const cls = await readGeoTiff(classes);
    const finite = Array.from(cls.bands[0]).filter(Number.isFinite);
    expect(Math.min(...finite)).toBe(1);
    expect(Math.max(...finite)).toBe(r.caBreaks.length + 1);
    // The CLI prints exactly evaluateResultLines of the same inputs.
    const out2 = join(dir, 'eval-cli.json');
    const printed: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (printed.push(String(chunk)), true));
    try {
      expect(await main(['evaluate', '--map', f.mapPath, '--deposits', f.depositsPath, '--exclude-training', f.sitesPath, '--classes', join(dir, 'classes-cli.tif'), '--out', out2])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(printed.join('')).toBe(evaluateResultLines({ ...r, outputs: { evaluation: out2 } }).map((l) => `${l}\n`).join(''));
  });

  it('scores only the study-area mask: sklearn roc_auc_score over its cells (tests/fixtures/mask, 1e-12)', async () => {
    const FIX = join(REPO_ROOT, 'tests/fixtures/mask');
    const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as { aucInside: number; depositsInside: unknown[]; depositsOutside: unknown[] };
    const dir = tempDir('wf-evaluate-mask-');
    const r = await runWorkflow('evaluate', { map: join(FIX, 'prob.tif'), deposits: join(FIX, 'deposits.geojson'), mask: join(FIX, 'area.gpkg'), out: join(dir, 'eval.json') });
    // Tolerance 1e-12: an exact rank statistic in float64.
    expect(Math.abs(r.auc - expected.aucInside)).toBeLessThan(1e-12);
    expect(r.counts.depositsOutsideMask).toBe(expected.depositsOutside.length);
    expect(r.counts.depositsUsed).toBe(expected.depositsInside.length);
    const unmasked = await runWorkflow('evaluate', { map: join(FIX, 'prob.tif'), deposits: join(FIX, 'deposits.geojson'), out: join(dir, 'eval0.json') });
    expect(unmasked.auc).toBeLessThan(r.auc - 0.05);
  });

  it('compares bands pairwise (deposit bootstrap) and gives the same result in a worker', async () => {
    const dir = tempDir('wf-evaluate-cmp-');
    const f = writeInputs(dir);
    const options = { map: f.mapPath, deposits: f.depositsPath, compare: 'p_gk-dcn,p_cnn', seed: 4, out: join(dir, 'eval.json') };
    const here = await evaluateWorkflow(options);
    expect(here.comparisons).toHaveLength(1);
    const c = here.comparisons[0];
    expect([c.a, c.b, c.metric, c.method]).toEqual(['p_gk-dcn', 'p_cnn', 'map auc', 'deposit bootstrap']);
    // Reference: the library's paired bootstrap on the same placements and seed; the observed
    // difference is the difference of the two bands' evaluateMap AUCs (1e-12, float64 means).
    // The outside-map point is not a cell; the one on nodata is no placement (as evaluateMap leaves it out).
    const deposits = f.depositCells;
    const d = pairedDepositBootstrap(depositPlacements(f.scores, deposits), depositPlacements(f.noisy, deposits), { seed: 4 });
    expect(c.diff).toBe(d.diff);
    expect(c.ci95).toEqual(d.ci95);
    expect(Math.abs(c.diff - (evaluateMap(f.scores, deposits).auc - evaluateMap(f.noisy, deposits).auc))).toBeLessThan(1e-12);
    expect(JSON.parse(readFileSync(options.out, 'utf8')).comparisons).toEqual(here.comparisons);
    expect(evaluateResultLines(here)[0]).toMatch(/^GK-DCN − CNN: ΔAUC [+−]\d\.\d\d \[/);
    const there = await runWorkflowInWorker('evaluate', { ...options, out: join(dir, 'eval-worker.json') });
    expect({ ...there, outputs: {} }).toEqual({ ...here, outputs: {} });
    expect(existsSync(join(dir, 'eval-worker.json'))).toBe(true);
  });

  it('refuses what the CLI refuses, by name: a missing --map, a bad --dedupe, an unknown request flag', async () => {
    const dir = tempDir('wf-evaluate-bad-');
    const f = writeInputs(dir);
    await expect(evaluateWorkflow({ deposits: f.depositsPath, out: join(dir, 'e.json') })).rejects.toThrow(new InvalidOptionError('geoanomaly evaluate: --map is required. Run "geoanomaly evaluate --help".'));
    await expect(evaluateWorkflow({ map: f.mapPath, deposits: f.depositsPath, excludeTraining: f.sitesPath, dedupe: 'last', out: join(dir, 'e.json') })).rejects.toThrow(/--dedupe must be "first" or "refuse", got "last"/);
    expect(() => optionsFromRequest(EVALUATE_OPTIONS, { map: 'm.tif', bogus: 1 }, 'evaluate')).toThrow(/unknown option "--bogus"/);
    expect(optionsFromRequest(EVALUATE_OPTIONS, { 'exclude-training': 's.geojson', 'ca-segments': '3', 'labels-as-points': true }, 'evaluate')).toEqual({ excludeTraining: 's.geojson', caSegments: 3, labelsAsPoints: true });
    expect(existsSync(join(dir, 'e.json'))).toBe(false);
  });
});
