import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import { InvalidOptionError } from '../errors.ts';
import { readGeoTiffInfo, readStack } from '../io/geotiff-read.ts';
import { layerPoints, readVector, type VectorReadOptions } from '../io/vector.ts';
import type { Crs } from '../grid/crs.ts';
import { renderChart, type Series } from '../figures/chart.ts';
import { renderMapFigure, type MapPanel, type PointOverlay } from '../figures/map-figure.ts';
import { METRIC_NAMES } from '../models/metric-names.ts';
import { MANIFEST_FILE, readManifest, type RunManifest } from '../models/run-store.ts';
import { report, throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { pdfSafe } from './pdf-text.ts';
import { bandDisplayName, rasterDisplayName, runDisplayName, type RunContext } from '../util/display-names.ts';
import { RunFolderError } from './export-errors.ts';
import { readRunHoldout, readRunComparisons, readRunMetrics, type RunMetrics } from './metrics-csv.ts';
import { formatComparison, type Comparison } from '../eval/bootstrap.ts';
import type { HoldoutMetrics } from '../eval/region-holdout.ts';
import { checkSaturatedMap, formatWarning, type TrustWarning } from '../eval/trust-checks.ts';

/**
 * The report of one training run, as a self-contained HTML page (images inlined as data URIs)
 * or a paginated PDF with the same content: the metrics (mean ± sd and every fold), per-fold
 * plots, the probability maps when a prediction of the run is given, and the manifest (inputs
 * with their SHA-256, options, seed, backend, package versions, bands, final models).
 */
export interface RunReportOptions {
  /** Probability map of this run (`geoanomaly predict` output): one map panel per band. */
  readonly map?: string;
  /** Deposits drawn on the maps. */
  readonly deposits?: string;
  /** Layer of a multi-layer deposits file (GeoPackage), and the flag quoted in errors. */
  readonly depositsLayer?: { readonly layer?: string; readonly layerFlag: string };
  /** CRS of the deposits layer when it declares none (report --crs). */
  readonly crs?: Crs;
  /** @default the run's readable name, "Training run 3: CNN, GK-DCN (5-fold × 2)" (util/display-names.ts) */
  readonly title?: string;
}

export interface ReportImage {
  /** What the figure shows. */
  readonly caption: string;
  /** What it was drawn from: files and options, stated under the figure ("Inputs: …"). */
  readonly inputs: string;
  readonly png: Buffer;
}

export interface RunReport {
  readonly title: string;
  readonly runDir: string;
  readonly manifest: RunManifest;
  readonly metrics: RunMetrics;
  /** metrics.json's paired comparisons (eval/bootstrap.ts); [] for older runs. */
  readonly comparisons: readonly Comparison[];
  /** metrics.json's region hold-out (train --holdout-region/--holdout-blocks); null when the run has none. */
  readonly holdout?: HoldoutMetrics | null;
  /** Every plot: the fold-metric plots (AUC, MCC per fold), then `learningCurves`. */
  readonly charts: readonly ReportImage[];
  /** The last plots of `charts`: learning curves of the final networks, and the geology term per epoch of gk-* models. */
  readonly learningCurves: readonly ReportImage[];
  readonly maps: readonly ReportImage[];
  /** The run's trust warnings (manifest.json `warnings`) and those of the given map (saturated probabilities). */
  readonly warnings: readonly TrustWarning[];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

function cvText(m: RunManifest): string {
  const o = m.options as Record<string, unknown>;
  return `${String(o.protocol ?? '–')} ${String(o.folds ?? '–')}-fold × ${String(o.repeats ?? '–')} repeats, seed ${m.seed}`;
}

function foldCharts(runDir: string, metrics: RunMetrics, m: RunManifest): ReportImage[] {
  return (['auc', 'mcc'] as const).map((metric) => {
    const series: Series[] = Object.entries(metrics).map(([model, mm], i) => ({
      kind: 'line',
      x: mm.folds.map((_, j) => j + 1),
      y: mm.folds.map((f) => (typeof f[metric] === 'number' ? f[metric] : NaN)),
      label: model,
      colour: PALETTE[i % PALETTE.length],
    }));
    const caption = `${metric.toUpperCase()} of every cross-validation fold (repeat-major order) per model`;
    const inputs = `${join(runDir, 'metrics.json')} (folds of ${Object.keys(metrics).join(', ')}); ${cvText(m)}`;
    return { caption, inputs, png: renderChart({ title: `${metric.toUpperCase()} per fold`, xLabel: 'fold', yLabel: metric.toUpperCase(), series, width: 560, height: 300, dpi: 150 }) };
  });
}

function trainText(m: RunManifest): string {
  const train = ((m.options as Record<string, unknown>).train ?? {}) as Record<string, unknown>;
  return Object.entries(train).map(([k, v]) => `${k} ${String(v)}`).join(', ');
}

/**
 * Learning curves of the final networks (manifest.json models.<kind>.history): train and
 * validation loss per epoch, and for gk-* models the geology-loss share and the coefficients
 * a_i and b of the geology term per epoch.
 */
export function learningCurveCharts(runDir: string, m: RunManifest): ReportImage[] {
  const source = join(runDir, MANIFEST_FILE);
  const opts = trainText(m);
  return Object.entries(m.models).flatMap(([kind, v]) => {
    const h = v.history ?? [];
    if (h.length === 0) return [];
    const x = h.map((e) => e.epoch);
    const series: Series[] = [
      { kind: 'line', x, y: h.map((e) => e.trainLoss), label: 'train loss', colour: PALETTE[0] },
      ...(h.some((e) => e.valLoss !== undefined) ? [{ kind: 'line' as const, x, y: h.map((e) => e.valLoss ?? NaN), label: 'validation loss', colour: PALETTE[1] }] : []),
    ];
    const share = h.some((e) => e.geologyShare !== undefined) ? `; geology-loss share at the kept epoch ${v.geologyShare !== undefined ? `${(100 * v.geologyShare).toFixed(1)}%` : '–'}` : '';
    const caption = `${kind}: learning curve of the final model (kept epoch ${v.epochs}${v.stoppedEarly ? ', stopped early' : ''}${share})`;
    const inputs = `${source} models.${kind}.history (${h.length} epoch${h.length === 1 ? '' : 's'})${opts ? `; training options: ${opts}` : ''}`;
    const out: ReportImage[] = [{ caption, inputs, png: renderChart({ title: `${kind} learning curve`, xLabel: 'epoch', yLabel: 'loss', series, width: 560, height: 260, dpi: 150 }) }];
    if (h.some((e) => e.geologyShare !== undefined || e.b !== undefined)) {
      const nA = Math.max(0, ...h.map((e) => e.a?.length ?? 0));
      const geo: Series[] = [
        ...(h.some((e) => e.geologyShare !== undefined) ? [{ kind: 'line' as const, x, y: h.map((e) => e.geologyShare ?? NaN), label: 'geology share', colour: PALETTE[2] }] : []),
        ...Array.from({ length: nA }, (_, i): Series => ({ kind: 'line', x, y: h.map((e) => e.a?.[i] ?? NaN), label: `a${i + 1}`, colour: PALETTE[(i + 3) % PALETTE.length] })),
        ...(h.some((e) => e.b !== undefined) ? [{ kind: 'line' as const, x, y: h.map((e) => e.b ?? NaN), label: 'b', colour: PALETTE[1] }] : []),
      ];
      out.push({
        caption: `${kind}: geology term per epoch (share λ·L_geology / (L_CE + λ·L_geology) of the objective, coefficients a_i and b)`,
        inputs: `${source} models.${kind}.history: geologyShare, a, b (${h.length} epoch${h.length === 1 ? '' : 's'})${opts ? `; training options: ${opts}` : ''}`,
        png: renderChart({ title: `${kind} geology term`, xLabel: 'epoch', yLabel: 'value', series: geo, width: 560, height: 260, dpi: 150 }),
      });
    }
    return out;
  });
}

async function mapImages(map: string, deposits: string | undefined, read: Pick<VectorReadOptions, 'assumeCrs' | 'log'> = {}, depositsLayer?: RunReportOptions['depositsLayer'], run: RunContext = {}): Promise<{ images: ReportImage[]; warnings: TrustWarning[] }> {
  const stack = await readStack(map);
  // Readable names with units (issue 18): the figure and its panels are named as the app names the
  // layer ("GK-DCN probability (run 3, 5-fold)", "Au (ppb)"), the file name stays in the caption.
  const info = statSync(map).isFile() ? await readGeoTiffInfo(map) : null;
  const unitOf = (b: string): string | null => info?.bandUnits[stack.bandNames.indexOf(b)] ?? null;
  const mapName = rasterDisplayName({ path: map, bandNames: stack.bandNames, units: info?.bandUnits, metadata: info?.metadata, run });
  const warnings = stack.bandNames.flatMap((b, i) => (/^p_/.test(b) ? checkSaturatedMap(stack.bands[i], b.slice(2)) : []));
  const points: PointOverlay[] = [];
  if (deposits) {
    const pts = layerPoints(await readVector(deposits, { targetCrs: stack.grid.crs ?? undefined, grid: stack.grid, ...read, ...depositsLayer }));
    points.push({ x: pts.x, y: pts.y, style: 'deposit' });
  }
  // The window mask of `predict` marks cells without a full patch: bookkeeping, not a map to report.
  const shown = stack.bandNames.map((b, i) => ({ b, i })).filter(({ b }) => b !== 'window_mask');
  const panels: MapPanel[] = shown.map(({ b, i }) => ({
    grid: stack.grid,
    band: stack.bands[i],
    title: bandDisplayName(b, run, unitOf(b)),
    // Probabilities share one fixed 0–1 scale, so the models' maps compare directly.
    stretch: /^p_/.test(b) ? { fixed: [0, 1] } : { kind: 'percentile' },
    legend: /^p_/.test(b) ? 'P(deposit)' : unitOf(b) ?? b,
    ramp: /^p_/.test(b) ? 'viridis' : 'rdbu',
    points,
  }));
  const png = renderMapFigure(panels, { columns: 2, panelWidth: 300, dpi: 150, title: mapName });
  const caption = `${mapName} (${basename(map)}): ${shown.map((x) => bandDisplayName(x.b, undefined, unitOf(x.b))).join(', ')}${deposits ? '; red triangles: deposits' : ''}`;
  const inputs = `${map} (bands ${shown.map((x) => x.b).join(', ')})${deposits ? `; deposits ${deposits}` : ''}; probabilities on a fixed 0–1 stretch (viridis), other bands on the 2–98 percentile stretch (rdbu)`;
  return { images: [{ caption, inputs, png }], warnings };
}

/**
 * 1-based number of a run folder among the training runs beside it (`train-<stamp>.run`, which
 * sort by time), or undefined for a folder the app did not name.
 */
export function runNumberOf(runDir: string): number | undefined {
  const name = basename(runDir);
  if (!/^train-.*\.run$/.test(name)) return undefined;
  try {
    const runs = readdirSync(dirname(runDir)).filter((n) => /^train-.*\.run$/.test(n)).sort();
    const i = runs.indexOf(name);
    return i >= 0 ? i + 1 : undefined;
  } catch {
    return undefined;
  }
}

/** The run's number among its siblings and its CV, from the manifest's options. */
function runContextOf(runDir: string, m: RunManifest): RunContext {
  const o = m.options as Record<string, unknown>;
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  return { runNumber: runNumberOf(runDir), folds: num(o.folds), repeats: num(o.repeats) };
}

/** "Training run 3: CNN, GK-DCN (5-fold × 2)" (display-names.ts); the folder name is in the Run table. */
function reportTitle(runDir: string, m: RunManifest, models: readonly string[]): string {
  return runDisplayName(models, runContextOf(runDir, m));
}

export async function buildRunReport(runDir: string, options: RunReportOptions = {}, ctx?: JobContext): Promise<RunReport> {
  report(ctx, 0, `reading ${runDir}`);
  const metrics = readRunMetrics(runDir);
  if (!existsSync(join(runDir, MANIFEST_FILE))) {
    throw new RunFolderError(`${runDir} has metrics.json but no ${MANIFEST_FILE}; the run was not written by this version of "geoanomaly train"`, { runDir });
  }
  const manifest = readManifest(runDir);
  report(ctx, 0.2, 'plotting fold metrics');
  const learningCurves = learningCurveCharts(runDir, manifest);
  const charts = [...foldCharts(runDir, metrics, manifest), ...learningCurves];
  throwIfCancelled(ctx, 'run report');
  report(ctx, 0.4, options.map ? `drawing ${options.map}` : 'no maps given');
  const drawn = options.map ? await mapImages(options.map, options.deposits, { assumeCrs: options.crs, log: ctx?.log }, options.depositsLayer, runContextOf(runDir, manifest)) : { images: [], warnings: [] };
  throwIfCancelled(ctx, 'run report');
  const warnings = [...(manifest.warnings ?? []), ...drawn.warnings];
  return { title: options.title ?? reportTitle(runDir, manifest, Object.keys(metrics)), runDir, manifest, metrics, comparisons: readRunComparisons(runDir), holdout: readRunHoldout(runDir), charts, learningCurves, maps: drawn.images, warnings };
}

// ------------------------------------------------------------------------------------------
// Content shared by both formats

const fmt = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : '–');

function metricsRows(r: RunReport): string[][] {
  return Object.entries(r.metrics).map(([model, m]) => [model, ...METRIC_NAMES.map((k) => `${fmt(m.mean[k])} ± ${fmt(m.sd[k])}`), m.ci95?.auc ? `[${fmt(m.ci95.auc[0])}, ${fmt(m.ci95.auc[1])}]` : '–']);
}

const COMPARISON_NOTE =
  'Paired site bootstrap: held-out sites resampled with replacement in every fold of every repeat, the same resample for both models; 95% percentile interval of the difference of the mean fold AUC.';

/** "GK-DCN − CNN: ΔAUC +0.03 [−0.05, +0.11] (the interval includes 0: …)", one line per pair. */
function comparisonLines(r: RunReport): string[] {
  return r.comparisons.map((c) => formatComparison(c));
}

const HOLDOUT_HEAD = ['model', 'map AUC at held-out deposits [95%]', 'in region [95%]', 'deposits', 'grouped CV AUC'];

/** The region hold-out beside the grouped CV: one row per model. */
function holdoutRows(r: RunReport): string[][] {
  const ci = (c: [number, number] | null): string => (c ? ` [${fmt(c[0])}, ${fmt(c[1])}]` : '');
  return Object.entries(r.holdout?.models ?? {}).map(([model, h]) => [model, `${fmt(h.auc)}${ci(h.ci95)}`, `${fmt(h.aucInRegion)}${ci(h.ci95InRegion)}`, String(h.deposits), fmt(h.cvAuc)]);
}

function foldRows(r: RunReport): string[][] {
  return Object.entries(r.metrics).flatMap(([model, m]) => {
    const k = m.folds_k && m.folds_k > 0 ? m.folds_k : m.folds.length;
    return m.folds.map((f, i) => [model, String(Math.floor(i / k) + 1), String((i % k) + 1), ...METRIC_NAMES.map((n) => fmt(f[n]))]);
  });
}

function summaryRows(r: RunReport): string[][] {
  const m = r.manifest;
  const o = m.options as Record<string, unknown>;
  const train = (o.train ?? {}) as Record<string, unknown>;
  return [
    ['Run folder', r.runDir],
    ['Created', m.createdAt],
    ['Command', m.command ?? '–'],
    ['Seed', String(m.seed)],
    ['Backend', `${m.backend.name} (${m.backend.detail})`],
    ['Models', Object.keys(r.metrics).join(', ')],
    ['Cross-validation', `${String(o.protocol ?? '–')}, ${String(o.folds ?? '–')} folds × ${String(o.repeats ?? '–')} repeats, threshold ${String(o.threshold ?? '–')}`],
    ['Training', Object.entries(train).map(([k, v]) => `${k} ${String(v)}`).join(', ') || '–'],
    ['Bands', m.bandNames.join(', ')],
    ['Patch', `${String((m.patch as { size?: number }).size ?? '–')} cells, ${String((m.patch as { transform?: string }).transform ?? '–')}, ${String((m.patch as { samples?: number }).samples ?? '–')} patches (${String((m.patch as { positives?: number }).positives ?? '–')} deposit)`],
  ];
}

function inputRows(r: RunReport): string[][] {
  return r.manifest.inputs.map((i) => [i.role, i.path, String(i.bytes), i.sha256]);
}

function modelRows(r: RunReport): string[][] {
  return Object.entries(r.manifest.models).map(([k, v]) => [
    k,
    v.path,
    String(v.epochs),
    v.geology ? `a = [${v.geology.a.map((x) => x.toFixed(4)).join(', ')}], b = ${v.geology.b.toFixed(4)}${v.geologyShare !== undefined ? `, geology share ${(100 * v.geologyShare).toFixed(1)}%` : ''}` : '–',
  ]);
}

const METRIC_HEAD = ['Model', ...METRIC_NAMES, 'AUC 95% CI'];
const FOLD_HEAD = ['Model', 'Repeat', 'Fold', ...METRIC_NAMES];

/** The report's sections in order (those with content), for the table of contents and the anchors. */
export interface ReportSection {
  readonly id: string;
  readonly title: string;
}

export function reportSections(r: RunReport): ReportSection[] {
  return [
    { id: 'run', title: 'Run' },
    ...(r.warnings.length > 0 ? [{ id: 'warnings', title: 'Warnings: results not to trust as they stand' }] : []),
    { id: 'metrics', title: 'Cross-validation metrics (mean ± sd)' },
    ...(r.comparisons.length > 0 ? [{ id: 'comparisons', title: 'Paired comparisons (ΔAUC, 95% interval)' }] : []),
    ...(r.holdout ? [{ id: 'holdout', title: `Region hold-out (${r.holdout.method})` }] : []),
    { id: 'folds', title: 'Every fold' },
    { id: 'fold-plots', title: 'Fold plots' },
    ...(r.learningCurves.length > 0 ? [{ id: 'learning-curves', title: 'Learning curves' }] : []),
    ...(r.maps.length > 0 ? [{ id: 'maps', title: 'Maps' }] : []),
    { id: 'manifest', title: 'Manifest' },
  ];
}

/** Every figure in report order with its number: "Figure 3. <caption> Inputs: <inputs>". */
export function numberedFigures(r: RunReport): { id: string; label: string; image: ReportImage }[] {
  return [...r.charts, ...r.maps].map((image, i) => ({ id: `fig-${i + 1}`, label: `Figure ${i + 1}. ${image.caption}. Inputs: ${image.inputs}.`, image }));
}

// ------------------------------------------------------------------------------------------
// HTML

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function htmlTable(head: readonly string[] | null, rows: readonly (readonly string[])[], cls = ''): string {
  const h = head ? `<thead><tr>${head.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>` : '';
  return `<table${cls ? ` class="${cls}"` : ''}>${h}<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function htmlImage(f: { id: string; label: string; image: ReportImage }): string {
  return `<figure id="${f.id}"><img alt="${esc(f.image.caption)}" src="data:image/png;base64,${f.image.png.toString('base64')}"><figcaption>${esc(f.label)}</figcaption></figure>`;
}

export function renderReportHtml(r: RunReport): string {
  const m = r.manifest;
  const sections = reportSections(r);
  const figs = numberedFigures(r);
  const nFold = r.charts.length - r.learningCurves.length;
  const h2 = (id: string): string => `<h2 id="${id}">${esc(sections.find((x) => x.id === id)?.title ?? id)}</h2>`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${esc(r.title)}</title>`,
    '<style>body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px auto;max-width:980px;color:#111;font-size:13px}' +
      'table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #d1d5db;padding:2px 6px;text-align:left;vertical-align:top}' +
      'th{background:#f3f4f6}table.kv td:first-child{font-weight:600;white-space:nowrap}td.hash,.hash td:last-child{font-family:monospace;font-size:11px;word-break:break-all}' +
      'nav.toc ol{margin:4px 0 16px}figure{margin:12px 0}img{max-width:100%}figcaption{color:#4b5563;font-size:12px}pre{background:#f9fafb;border:1px solid #e5e7eb;padding:8px;overflow:auto;font-size:11px}</style>',
    '</head><body>',
    `<h1>${esc(r.title)}</h1>`,
    `<nav class="toc"><h2 id="contents">Contents</h2><ol>${sections.map((x) => `<li><a href="#${x.id}">${esc(x.title)}</a></li>`).join('')}</ol></nav>`,
    h2('run'),
    htmlTable(null, summaryRows(r), 'kv'),
    ...(r.warnings.length > 0 ? [h2('warnings'), `<ul class="warnings">${r.warnings.map((w) => `<li>${esc(formatWarning(w))}</li>`).join('')}</ul>`] : []),
    h2('metrics'),
    htmlTable(METRIC_HEAD, metricsRows(r), 'metrics'),
    ...(r.comparisons.length > 0 ? [h2('comparisons'), `<ul class="comparisons">${comparisonLines(r).map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`, `<p>${esc(COMPARISON_NOTE)}</p>`] : []),
    ...(r.holdout ? [h2('holdout'), htmlTable(HOLDOUT_HEAD, holdoutRows(r)), `<p>${esc(r.holdout.rules)}</p>`] : []),
    h2('folds'),
    htmlTable(FOLD_HEAD, foldRows(r), 'folds'),
    h2('fold-plots'),
    ...figs.slice(0, nFold).map(htmlImage),
    ...(r.learningCurves.length > 0 ? [h2('learning-curves'), ...figs.slice(nFold, r.charts.length).map(htmlImage)] : []),
    ...(r.maps.length > 0 ? [h2('maps'), ...figs.slice(r.charts.length).map(htmlImage)] : []),
    h2('manifest'),
    '<h3>Inputs</h3>',
    htmlTable(['Role', 'Path', 'Bytes', 'SHA-256'], inputRows(r), 'hash inputs'),
    '<h3>Final models</h3>',
    htmlTable(['Model', 'Path', 'Epochs', 'Geology coefficients'], modelRows(r)),
    '<h3>Package versions</h3>',
    htmlTable(['Package', 'Version'], Object.entries(m.packages)),
    '<h3>Options</h3>',
    `<pre>${esc(JSON.stringify(m.options, null, 2))}</pre>`,
    `<p>Written by GeoAnomaly Workbench from ${esc(join(r.runDir, MANIFEST_FILE))} and metrics.json.</p>`,
    '</body></html>',
    '',
  ].join('\n');
}

// ------------------------------------------------------------------------------------------
// PDF (A4 portrait, standard fonts: no font file to embed)

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 48;

class PdfWriter {
  page!: PDFPage;
  y = 0;
  constructor(
    readonly doc: PDFDocument,
    readonly font: PDFFont,
    readonly bold: PDFFont,
    readonly mono: PDFFont,
  ) {
    this.newPage();
  }
  newPage(): void {
    this.page = this.doc.addPage(A4);
    this.y = A4[1] - MARGIN;
  }
  ensure(h: number): void {
    if (this.y - h < MARGIN) this.newPage();
  }
  get width(): number {
    return A4[0] - 2 * MARGIN;
  }
  /** Wrapped text; returns nothing, advances the cursor. */
  text(s: string, size = 10, font: PDFFont = this.font, indent = 0): void {
    const words = pdfSafe(s, font).split(/(\s+)/);
    let line = '';
    const flush = (): void => {
      this.ensure(size * 1.3);
      this.page.drawText(line.trimEnd(), { x: MARGIN + indent, y: this.y - size, size, font, color: rgb(0.07, 0.07, 0.07) });
      this.y -= size * 1.3;
      line = '';
    };
    for (const w of words) {
      if (line && font.widthOfTextAtSize(line + w, size) > this.width - indent) flush();
      // A single token wider than the line (a path, a hash) is cut where it overflows.
      let word = line === '' ? w.trimStart() : w;
      while (font.widthOfTextAtSize(word, size) > this.width - indent) {
        let n = word.length;
        while (n > 1 && font.widthOfTextAtSize(word.slice(0, n), size) > this.width - indent) n--;
        line = word.slice(0, n);
        flush();
        word = word.slice(n);
      }
      line += word;
    }
    if (line.trim()) flush();
  }
  heading(s: string, size = 13): void {
    // Keep a heading with the start of its section (a few table rows or most of a figure).
    this.ensure(size * 3 + 120);
    this.y -= size * 0.6;
    this.text(s, size, this.bold);
    this.y -= 2;
  }
  table(head: readonly string[] | null, rows: readonly (readonly string[])[], widths: readonly number[], size = 7.5, monoCols: readonly number[] = []): void {
    const total = widths.reduce((a, b) => a + b, 0);
    const w = widths.map((x) => (x / total) * this.width);
    const fit = (s: string, width: number, font: PDFFont): string => {
      let t = pdfSafe(s, font);
      if (font.widthOfTextAtSize(t, size) <= width - 4) return t;
      while (t.length > 1 && font.widthOfTextAtSize(`…${t}`, size) > width - 4) t = t.slice(1);
      return `…${t}`;
    };
    const drawRow = (cells: readonly string[], bold: boolean): void => {
      this.ensure(size * 1.6);
      let x = MARGIN;
      cells.forEach((c, i) => {
        const font = bold ? this.bold : monoCols.includes(i) ? this.mono : this.font;
        this.page.drawText(fit(c, w[i], font), { x: x + 2, y: this.y - size, size, font });
        x += w[i];
      });
      this.page.drawLine({ start: { x: MARGIN, y: this.y - size * 1.45 }, end: { x: MARGIN + this.width, y: this.y - size * 1.45 }, thickness: 0.3, color: rgb(0.8, 0.8, 0.8) });
      this.y -= size * 1.6;
    };
    if (head) drawRow(head, true);
    for (const r of rows) drawRow(r, false);
    this.y -= 6;
  }
  async image(img: ReportImage, label: string): Promise<void> {
    const png = await this.doc.embedPng(img.png);
    const scale = Math.min(this.width / png.width, (A4[1] - 2 * MARGIN - 50) / png.height);
    const w = png.width * scale;
    const h = png.height * scale;
    this.ensure(h + 40);
    this.page.drawImage(png, { x: MARGIN, y: this.y - h, width: w, height: h });
    this.y -= h + 4;
    this.text(label, 8);
    this.y -= 6;
  }
}

export async function renderReportPdf(r: RunReport): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(r.title);
  doc.setSubject(`Training run report: ${r.runDir}`);
  doc.setCreator('GeoAnomaly Workbench');
  doc.setProducer('GeoAnomaly Workbench (pdf-lib)');
  const pdf = new PdfWriter(doc, await doc.embedFont(StandardFonts.Helvetica), await doc.embedFont(StandardFonts.HelveticaBold), await doc.embedFont(StandardFonts.Courier));
  pdf.text(r.title, 18, pdf.bold);
  pdf.y -= 6;
  // Table of contents: its lines are written last, once every section's page is known.
  const sections = reportSections(r);
  const sectionPage = new Map<string, number>();
  pdf.heading('Contents');
  const tocPage = pdf.page;
  const tocTop = pdf.y;
  const tocLine = 12;
  pdf.y -= sections.length * tocLine + 6;
  const section = (id: string): void => {
    pdf.heading(sections.find((x) => x.id === id)?.title ?? id);
    sectionPage.set(id, doc.getPages().indexOf(pdf.page) + 1);
  };
  const figs = numberedFigures(r);
  section('run');
  pdf.table(null, summaryRows(r), [1, 4], 8);
  if (r.warnings.length > 0) {
    section('warnings');
    for (const w of r.warnings) pdf.text(formatWarning(w), 8);
  }
  section('metrics');
  pdf.table(METRIC_HEAD, metricsRows(r), [0.9, 1, 1, 1, 1, 1, 1, 1, 1], 7);
  if (r.comparisons.length > 0) {
    section('comparisons');
    for (const l of comparisonLines(r)) pdf.text(l, 8);
    pdf.text(COMPARISON_NOTE, 7);
  }
  if (r.holdout) {
    section('holdout');
    pdf.table(HOLDOUT_HEAD, holdoutRows(r), [0.8, 1.6, 1.4, 0.6, 0.8], 7);
    pdf.text(r.holdout.rules, 7);
  }
  section('folds');
  pdf.table(FOLD_HEAD, foldRows(r), [1, 0.6, 0.5, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8], 7);
  section('fold-plots');
  let fi = 0;
  for (; fi < r.charts.length - r.learningCurves.length; fi++) await pdf.image(figs[fi].image, figs[fi].label);
  if (r.learningCurves.length > 0) {
    section('learning-curves');
    for (; fi < r.charts.length; fi++) await pdf.image(figs[fi].image, figs[fi].label);
  }
  if (r.maps.length > 0) {
    section('maps');
    for (; fi < figs.length; fi++) await pdf.image(figs[fi].image, figs[fi].label);
  }
  section('manifest');
  pdf.heading('Inputs', 11);
  // The hash in full on its own line: a report reader must be able to compare it.
  for (const i of r.manifest.inputs) {
    pdf.text(`${i.role}: ${i.path} (${i.bytes} bytes)`, 8);
    pdf.text(`SHA-256 ${i.sha256}`, 7.5, pdf.mono, 12);
  }
  pdf.heading('Final models', 11);
  pdf.table(['Model', 'Path', 'Epochs', 'Geology coefficients'], modelRows(r), [0.8, 1.6, 0.5, 2.2], 7.5);
  pdf.heading('Package versions', 11);
  pdf.table(['Package', 'Version'], Object.entries(r.manifest.packages), [2, 1], 7.5);
  pdf.heading('Options', 11);
  for (const line of JSON.stringify(r.manifest.options, null, 2).split('\n')) pdf.text(line.replace(/^ +/, (s) => '\u00a0'.repeat(s.length)), 7, pdf.mono);
  sections.forEach((x, i) => {
    const y = tocTop - (i + 1) * tocLine;
    const page = String(sectionPage.get(x.id) ?? '');
    const title = pdfSafe(`${i + 1}. ${x.title}`, pdf.font);
    tocPage.drawText(title, { x: MARGIN + 8, y, size: 9, font: pdf.font });
    tocPage.drawText(page, { x: A4[0] - MARGIN - pdf.font.widthOfTextAtSize(page, 9), y, size: 9, font: pdf.font });
  });
  const pages = doc.getPages();
  pages.forEach((p, i) => p.drawText(`${i + 1} / ${pages.length}`, { x: A4[0] - MARGIN - 30, y: MARGIN / 2, size: 8, font: pdf.font, color: rgb(0.4, 0.4, 0.4) }));
  return doc.save();
}

export type ReportFormat = 'html' | 'pdf';

export function reportFormatOf(path: string): ReportFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.html' || ext === '.htm') return 'html';
  if (ext === '.pdf') return 'pdf';
  throw new InvalidOptionError(`${path}: a run report is written as .html or .pdf, not "${ext || 'no extension'}"`, { path });
}

/** Builds the report and writes it (format from the extension), atomically. */
export async function writeRunReport(runDir: string, out: string, options: RunReportOptions = {}, ctx?: JobContext): Promise<{ path: string; format: ReportFormat; report: RunReport }> {
  const format = reportFormatOf(out);
  const r = await buildRunReport(runDir, options, ctx);
  report(ctx, 0.7, `writing ${format.toUpperCase()}`);
  writeFileAtomic(out, format === 'html' ? renderReportHtml(r) : await renderReportPdf(r));
  report(ctx, 1, `wrote ${out}`);
  return { path: out, format, report: r };
}
