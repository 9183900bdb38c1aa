import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Papa from 'papaparse';
import { main } from '../../main/cli/main.ts';
import { createHandlers } from '../../main/api/handlers.ts';
import type { Events } from '../../main/api/contract.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { METRIC_NAMES } from '../../main/models/cross-validate.ts';
import { InvalidFileError } from '../../main/errors.ts';
import { exportMetricsCsv, CSV_COLUMNS, type RunMetrics } from '../../main/export/metrics-csv.ts';
import { runNumberOf, writeRunReport } from '../../main/export/run-report.ts';
import { RunFolderError } from '../../main/export/export-errors.ts';
import { Rng } from '../../main/util/rng.ts';
import { tempDir } from '../helpers/paths.ts';
import { decodePng } from '../browser/png.ts';

/**
 * Metrics CSV and run reports of a real (tiny) training run: 3 models (cnn, dcn, gk-cnn) × 2 folds × 2 repeats,
 * 1 epoch, on a 24 × 24 synthetic stack, plus its prediction map.
 */
const dir = tempDir('ga-report-');
const runDir = join(dir, 'run');
const prob = join(dir, 'prob.tif');
const sites = join(dir, 'sites.geojson');
const stack = join(dir, 'stack.tif');
const knowledge = join(dir, 'knowledge.tif');
let metrics: RunMetrics;

beforeAll(async () => {
  const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: 24, cols: 24, crs: crsFromEpsg(32645) };
  const rng = new Rng(2);
  const bands = [0, 1].map(() => Float32Array.from({ length: 576 }, () => Math.exp(rng.normal(1, 0.3))));
  writeGeoTiff(stack, { grid, bandNames: ['Au', 'Cu'], bands });
  // A knowledge raster w for the geology term of gk-cnn (its learning curve has a, b and the geology share per epoch).
  writeGeoTiff(knowledge, { grid, bandNames: ['w'], bands: [Float32Array.from({ length: 576 }, (_, i) => (i % 24) / 23)] });
  writeSitesGeoJson(sites, buildSites(grid, { depositCells: [125, 138, 437, 450], negatives: { kind: 'user', cells: [266, 59, 515, 285] } }).set);
  const common = ['--epochs', '1', '--folds', '2', '--repeats', '2', '--patch-size', '5', '--seed', '3', '--threads', '1'];
  expect(await main(['train', '--stack', stack, '--sites', sites, '--model', 'cnn,dcn,gk-cnn', '--knowledge', knowledge, ...common, '--out', runDir])).toBe(0);
  expect(await main(['predict', '--run', runDir, '--stack', stack, '--threads', '1', '--out', prob])).toBe(0);
  // The model entries (metrics.json also holds "comparisons", which readRunMetrics sets apart).
  const { comparisons: _c, ...models } = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')) as Record<string, unknown>;
  metrics = models as unknown as RunMetrics;
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha256 = (f: string): string => execFileSync('sha256sum', [f], { encoding: 'utf8' }).split(' ')[0];

describe('metrics.json → CSV', () => {
  it('parses back to exactly the numbers of metrics.json: a row per model × fold (repeat, fold), then mean and sd', () => {
    const out = join(dir, 'metrics.csv');
    const r = exportMetricsCsv(runDir, out);
    const parsed = Papa.parse<Record<string, string>>(readFileSync(out, 'utf8'), { header: true, skipEmptyLines: true });
    expect(parsed.errors).toEqual([]);
    expect(parsed.meta.fields).toEqual([...CSV_COLUMNS]);
    // 3 models × (4 folds + mean + sd).
    expect(r.rows).toBe(18);
    expect(parsed.data).toHaveLength(18);
    const num = (s: string): number | null => (s === '' ? null : Number(s));
    for (const [model, m] of Object.entries(metrics)) {
      const rows = parsed.data.filter((d) => d.model === model);
      expect(rows.map((d) => [d.row, d.repeat, d.fold])).toEqual([['fold', '1', '1'], ['fold', '1', '2'], ['fold', '2', '1'], ['fold', '2', '2'], ['mean', '', ''], ['sd', '', '']]);
      // Exact equality: shortest round-trip decimal strings.
      m.folds.forEach((f, i) => METRIC_NAMES.forEach((k) => expect(num(rows[i][k])).toBe(typeof f[k] === 'number' ? f[k] : null)));
      METRIC_NAMES.forEach((k) => {
        expect(num(rows[4][k])).toBe(m.mean[k]);
        expect(num(rows[5][k])).toBe(m.sd[k]);
      });
    }
  });

  it('names a folder that is not a finished run, and a broken metrics.json', () => {
    const empty = join(dir, 'not-a-run');
    mkdirSync(empty, { recursive: true });
    expect(() => exportMetricsCsv(empty, join(dir, 'x.csv'))).toThrow(RunFolderError);
    expect(() => exportMetricsCsv(empty, join(dir, 'x.csv'))).toThrow(/has no metrics\.json/);
    writeFileSync(join(empty, 'metrics.json'), '{"cnn": {"folds": [');
    expect(() => exportMetricsCsv(empty, join(dir, 'x.csv'))).toThrow(InvalidFileError);
    expect(() => exportMetricsCsv(runDir, join(dir, 'x.txt'))).toThrow(/must end in \.csv/);
    expect(existsSync(join(dir, 'x.csv'))).toBe(false);
  });
});

describe('run report', () => {
  it('HTML: self-contained (images as data URIs, no script, nothing remote), metrics, folds and the manifest with input hashes', async () => {
    const out = join(dir, 'report.html');
    const r = await writeRunReport(runDir, out, { map: prob, deposits: sites });
    const html = readFileSync(out, 'utf8');
    expect(html).not.toMatch(/<script|src="https?:|href="https?:|<link/i);
    const images = [...html.matchAll(/src="data:image\/png;base64,([^"]+)"/g)].map((m) => decodePng(Buffer.from(m[1], 'base64')));
    // Two fold plots (AUC, MCC), one learning curve per network (cnn, dcn, gk-cnn), gk-cnn's
    // geology term per epoch and one map figure; each decodes as a non-trivial PNG.
    expect(images).toHaveLength(7);
    expect(r.report.charts).toHaveLength(6);
    expect(r.report.charts.slice(2)).toEqual(r.report.learningCurves);
    expect(r.report.learningCurves.map((c) => c.caption.split(':')[0])).toEqual(['cnn', 'dcn', 'gk-cnn', 'gk-cnn']);
    expect(r.report.learningCurves[3].caption).toMatch(/geology term per epoch/);
    // Table of contents: a link to every section, each anchor present once.
    const toc = [...(/<nav class="toc">(.*?)<\/nav>/s.exec(html)?.[1] ?? '').matchAll(/<a href="#([\w-]+)">/g)].map((m) => m[1]);
    expect(toc).toEqual(expect.arrayContaining(['run', 'metrics', 'comparisons', 'folds', 'fold-plots', 'learning-curves', 'maps', 'manifest']));
    for (const id of toc) expect(html.match(new RegExp(`<h2 id="${id}">`, 'g')), id).toHaveLength(1);
    // Every figure is numbered and its caption names its inputs (files and options).
    const captions = [...html.matchAll(/<figure id="fig-(\d+)">.*?<figcaption>(.*?)<\/figcaption>/gs)].map((m) => [Number(m[1]), m[2]] as const);
    expect(captions.map((c) => c[0])).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const [n, c] of captions) expect(c, `figure ${n}`).toMatch(new RegExp(`^Figure ${n}\\. .+\\. Inputs: .+`));
    expect(captions[0][1]).toContain(`${join(runDir, 'metrics.json')} (folds of cnn, dcn, gk-cnn)`);
    expect(captions[0][1]).toContain('2-fold × 2 repeats, seed 3');
    expect(captions[2][1]).toContain(`${join(runDir, 'manifest.json')} models.cnn.history (1 epoch)`);
    expect(captions[5][1]).toContain('models.gk-cnn.history: geologyShare, a, b');
    expect(captions[6][1]).toContain(`Inputs: ${prob} (bands p_cnn, p_dcn`);
    expect(captions[6][1]).toContain(`deposits ${sites}`);
    // The run's trust warnings (manifest.json) are in the report, each line with its fix.
    for (const w of r.report.warnings) expect(html).toContain(`warning [${w.code}]`);
    expect(r.report.maps).toHaveLength(1);
    for (const img of images) expect(img.width * img.height).toBeGreaterThan(100 * 100);
    expect(html).toContain(sha256(stack));
    expect(html).toContain(sha256(sites));
    for (const [model, m] of Object.entries(metrics)) expect(html).toContain(`<td>${model}</td><td>${m.mean.acc.toFixed(3)} ± ${m.sd.acc.toFixed(3)}</td>`);
    // One fold row per model × fold.
    expect(html.match(/<tr><td>(cnn|dcn)<\/td><td>\d<\/td><td>\d<\/td>/g)).toHaveLength(8);
    expect(html).toContain('<td>Seed</td><td>3</td>');
    // The readable name (project/display-names.ts) heads the report; the folder is in the Run table.
    expect(html).toContain('<h1>Training run: CNN, DCN, GK-CNN (2-fold × 2)</h1>');
    expect(html).toContain(`<td>Run folder</td><td>${runDir}</td>`);
    expect(html).toContain('p_cnn, p_dcn');
    // The map figure is named as a person reads it (issue 18), the file name beside it.
    expect(html).toContain('Probability: CNN, DCN, GK-CNN (2-fold) (prob.tif): CNN probability, DCN probability, GK-CNN probability, CNN uncertainty (sd), DCN uncertainty (sd)');
    // The paired comparison of the two models, stated plainly.
    expect(html).toMatch(/<li>DCN − CNN: ΔAUC [+−]\d\.\d\d \[[+−]\d\.\d\d, [+−]\d\.\d\d\] \((the interval includes 0|DCN is better|CNN is better)/);
  });

  it('PDF: A4 pages (±1 pt), text with the metrics and full input hashes, every page rasterises', async () => {
    const out = join(dir, 'report.pdf');
    await writeRunReport(runDir, out, { map: prob, deposits: sites, title: 'Tiny run' });
    const info = execFileSync('pdfinfo', [out], { encoding: 'utf8' });
    const [, w, h] = /Page size:\s+([\d.]+) x ([\d.]+) pts/.exec(info) ?? [];
    expect(Math.abs(Number(w) - 595.28)).toBeLessThanOrEqual(1);
    expect(Math.abs(Number(h) - 841.89)).toBeLessThanOrEqual(1);
    const pages = Number(/Pages:\s+(\d+)/.exec(info)?.[1]);
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(info).toMatch(/Title:\s+Tiny run/);
    const text = execFileSync('pdftotext', ['-layout', out, '-'], { encoding: 'utf8' });
    expect(text).toContain('Cross-validation metrics (mean ± sd)');
    expect(text).toContain(`SHA-256 ${sha256(stack)}`);
    expect(text).toContain(`${metrics.dcn.mean.auc.toFixed(3)} ± ${metrics.dcn.sd.auc.toFixed(3)}`);
    expect(text).toMatch(/DCN - CNN: Delta AUC [+-]\d\.\d\d/);
    // The contents (section titles with page numbers) and the numbered figure captions with their inputs.
    expect(text).toMatch(/Contents\s+1\. Run\s+1\b/);
    expect(text).toMatch(/\d+\. Learning curves\s+\d+/);
    for (let n = 1; n <= 7; n++) expect(text).toContain(`Figure ${n}. `);
    expect(text).toContain('Inputs:');
    expect(text).toContain('models.gk-cnn.history');
    expect(text.replace(/\s+/g, ' ')).toContain('Probability: CNN, DCN, GK-CNN (2-fold) (prob.tif): CNN probability, DCN probability, GK-CNN probability, CNN uncertainty (sd), DCN uncertainty (sd)');
    const prefix = join(dir, 'report-page');
    execFileSync('pdftoppm', ['-r', '20', '-png', out, prefix]);
    for (let p = 1; p <= pages; p++) {
      const img = decodePng(readFileSync(`${prefix}-${p}.png`));
      // A4 at 20 DPI: 165.4 × 233.9 px, rounded up by pdftoppm.
      expect([img.width, img.height]).toEqual([166, 234]);
    }
  });

  it('numbers app-named run folders by time among their siblings (the "run 3" of readable names)', () => {
    const runs = join(dir, 'runs');
    for (const n of ['train-2026-12-03T07-11-41-113Z.run', 'train-2026-12-01T10-00-00-000Z.run', 'krige-2026-12-02T00-00-00-000Z.tif', 'train-2026-12-04T00-00-00-000Z.run']) mkdirSync(join(runs, n), { recursive: true });
    expect(runNumberOf(join(runs, 'train-2026-12-01T10-00-00-000Z.run'))).toBe(1);
    expect(runNumberOf(join(runs, 'train-2026-12-03T07-11-41-113Z.run'))).toBe(2);
    expect(runNumberOf(join(runs, 'train-2026-12-04T00-00-00-000Z.run'))).toBe(3);
    expect(runNumberOf(runDir)).toBeUndefined();
  });

  it('names a run folder without manifest, and an unknown format', async () => {
    const partial = join(dir, 'partial');
    mkdirSync(partial, { recursive: true });
    writeFileSync(join(partial, 'metrics.json'), readFileSync(join(runDir, 'metrics.json')));
    await expect(writeRunReport(partial, join(dir, 'p.pdf'))).rejects.toThrow(RunFolderError);
    await expect(writeRunReport(runDir, join(dir, 'p.docx'))).rejects.toThrow(/\.html or \.pdf/);
  });

  it('the app runs `report` and `layout` as jobs (worker thread), like the CLI: jobDone and the files', async () => {
    const events: { name: keyof Events; payload: unknown }[] = [];
    const { handlers, jobs } = createHandlers({ dataDir: join(dir, 'data'), host: 'browser', emit: (name, payload) => events.push({ name, payload }), autosaveDelayMs: 60_000 });
    expect((await handlers.getAppInfo({})).availableServices).toEqual(expect.arrayContaining(['layout', 'report']));
    const report = join(dir, 'job-report.html');
    const layout = join(dir, 'job-layout.png');
    const a = await handlers.report({ options: { run: runDir, out: report } });
    const b = await handlers.layout({ options: { raster: prob, band: 'p_dcn', deposits: sites, inset: true, dpi: 72, out: layout } });
    await jobs.settled(a.jobId);
    await jobs.settled(b.jobId);
    const done = events.filter((e) => e.name === 'jobDone').map((e) => (e.payload as { jobId: string }).jobId);
    expect(done.sort()).toEqual([a.jobId, b.jobId].sort());
    expect(readFileSync(report, 'utf8')).toContain('Cross-validation metrics');
    expect(decodePng(readFileSync(layout)).width).toBe(842); // A4 landscape at 72 DPI: 841.9 px
  });
});
