import type { RasterLayerSpec } from '../../../main/api/contract.ts';
import { runOutputPath } from './site-actions.ts';
import { errorText, type Workbench } from './workbench.svelte.ts';

/** What the Export dialog opens on: a map layout, one raster layer, the sites, or a training run. */
export type ExportTarget =
  | { readonly kind: 'layout'; readonly layerId?: string }
  | { readonly kind: 'raster'; readonly layerId: string }
  | { readonly kind: 'sites' }
  | { readonly kind: 'run'; readonly runDir: string };

export const PAPERS = ['A4', 'A3', 'Letter'] as const;
export type Paper = (typeof PAPERS)[number];
export type Orientation = 'landscape' | 'portrait';

/** File-name-safe stem. */
export const safeStem = (s: string): string => s.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/-{2,}/g, '-').replace(/^-+|-+$/g, '') || 'export';

/** Default output path: `<data folder>/exports/<stem>.<ext>` (the browser host has no save dialog). */
export function exportPath(wb: Workbench, stem: string, ext: string): string {
  return `${wb.appInfo?.dataDir ?? '.'}/exports/${safeStem(stem)}.${ext}`;
}

/** Replaces the extension of a path (or appends one). */
export function withExtension(path: string, ext: string): string {
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  const dot = path.lastIndexOf('.');
  return `${dot > slash ? path.slice(0, dot) : path}.${ext}`;
}

/** Checks an output path before a request: absolute-looking, right extension. Null when fine. */
export function checkOutputPath(path: string, extensions: readonly string[]): string | null {
  const p = path.trim();
  if (!p) return 'give the output file path';
  const ext = p.slice(p.lastIndexOf('.') + 1).toLowerCase();
  if (!extensions.includes(ext)) return `the file must end in ${extensions.map((e) => `.${e}`).join(' or ')}`;
  return null;
}

/** Legend units proposed for a band: the band's own unit, "probability" for p_* bands, else none. */
export function defaultUnits(band: string, unit: string | null | undefined): string {
  if (unit) return unit;
  return /^p_/.test(band) ? 'probability' : '';
}

export interface LayoutParams {
  readonly layer: RasterLayerSpec;
  readonly band: string;
  readonly title: string;
  readonly units: string;
  readonly paper: Paper;
  readonly orientation: Orientation;
  readonly dpi: number;
  readonly inset: boolean;
  /** Map extent [xmin, ymin, xmax, ymax] in the layer CRS, or null for the whole layer. */
  readonly extent: readonly [number, number, number, number] | null;
  readonly deposits: string;
  readonly faults: string;
  /** Draw the digitized sites. */
  readonly sites: boolean;
  readonly path: string;
}

export interface ExportOutcome {
  readonly error: string | null;
  readonly message: string | null;
}

const failed = (error: string): ExportOutcome => ({ error, message: null });

/** Runs the layout workflow (`geoanomaly layout`) as a job (the sites, if drawn, are written first onto their own grid). */
export async function runLayoutExport(wb: Workbench, p: LayoutParams, onStarted: (jobId: string) => void): Promise<ExportOutcome> {
  const bad = checkOutputPath(p.path, ['pdf', 'png']);
  if (bad) return failed(bad);
  if (!(p.dpi >= 36 && p.dpi <= 600)) return failed('DPI must be between 36 and 600');
  const options: Record<string, string | number | boolean> = {
    raster: p.layer.source,
    band: p.band,
    // An empty title: the name the layer panel shows (a name the user edited included), as the placeholder says.
    title: p.title || p.layer.displayName || '',
    ramp: p.layer.style.ramp,
    stretch: p.layer.style.stretch,
    percentiles: p.layer.style.percentiles.join(','),
    paper: p.paper,
    orientation: p.orientation,
    dpi: p.dpi,
    inset: p.inset,
    out: p.path.trim(),
  };
  if (p.units) options.units = p.units;
  if (p.extent) options.extent = p.extent.join(',');
  if (p.deposits) options.deposits = p.deposits;
  if (p.faults) options.faults = p.faults;
  if (p.sites && wb.sites.length > 0) {
    const grid = wb.siteGridLayer;
    if (!grid) return failed('the sites have no grid layer to be written on');
    const sitesFile = runOutputPath(wb, 'layout-sites', 'geojson');
    try {
      await wb.api.request('writeSites', { path: sitesFile, gridSource: grid.source, sites: wb.sites });
    } catch (e) {
      return failed(errorText(e));
    }
    options.sites = sitesFile;
  }
  const outcome = await wb.jobs.start('layout', { options }, `Map layout: ${p.layer.name} · ${p.band}`, onStarted);
  if (!outcome.ok) return failed(outcome.error ? `${outcome.error.name}: ${outcome.error.message}` : 'the layout job failed');
  // The page the workflow wrote, from its typed result (main/workflows/layout-result.ts).
  const done = outcome.result?.workflow;
  if (done?.workflow !== 'layout') return failed('the layout job returned no layout result');
  return { error: null, message: `Saved ${done.result.outputs.page}` };
}

/** Runs the report workflow (`geoanomaly report`) as a job. */
export async function runReportExport(wb: Workbench, p: { runDir: string; map: string; deposits: string; path: string }, onStarted: (jobId: string) => void): Promise<ExportOutcome> {
  const bad = checkOutputPath(p.path, ['html', 'pdf']);
  if (bad) return failed(bad);
  const options: Record<string, string> = { run: p.runDir, out: p.path.trim() };
  if (p.map) options.map = p.map;
  if (p.deposits) options.deposits = p.deposits;
  const outcome = await wb.jobs.start('report', { options }, `Run report: ${p.runDir.split('/').pop() ?? p.runDir}`, onStarted);
  if (!outcome.ok) return failed(outcome.error ? `${outcome.error.name}: ${outcome.error.message}` : 'the report job failed');
  // The file the workflow wrote, from its typed result (main/workflows/report-result.ts).
  const done = outcome.result?.workflow;
  if (done?.workflow !== 'report') return failed('the report job returned no report result');
  return { error: null, message: `Saved ${done.result.outputs.report}` };
}

export async function exportRasterFile(wb: Workbench, layer: RasterLayerSpec, bands: readonly string[], path: string): Promise<ExportOutcome> {
  const bad = checkOutputPath(path, ['tif', 'tiff']);
  if (bad) return failed(bad);
  if (bands.length === 0) return failed('tick at least one band');
  try {
    const r = await wb.api.request('exportRaster', { source: layer.source, bands, path: path.trim() });
    return { error: null, message: `Saved ${r.path} (${r.bandNames.length} band${r.bandNames.length === 1 ? '' : 's'}, ${r.cols} × ${r.rows} cells)` };
  } catch (e) {
    return failed(errorText(e));
  }
}

export async function exportSitesFile(wb: Workbench, path: string): Promise<ExportOutcome> {
  const bad = checkOutputPath(path, ['geojson', 'json', 'shp']);
  if (bad) return failed(bad);
  const grid = wb.siteGridLayer;
  if (wb.sites.length === 0) return failed('there are no sites to export: digitize or select sites first');
  if (!grid) return failed('the sites have no grid layer');
  try {
    const r = await wb.api.request('exportSites', { path: path.trim(), gridSource: grid.source, sites: wb.sites });
    const files = r.files.map((f) => f.slice(f.lastIndexOf('.'))).join(', ');
    return { error: null, message: `Saved ${r.path} (${files}): ${r.positiveBlocks} positive + ${r.negativeBlocks} negative blocks, ${r.cells} cells` };
  } catch (e) {
    return failed(errorText(e));
  }
}

export async function exportMetricsFile(wb: Workbench, runDir: string, path: string): Promise<ExportOutcome> {
  const bad = checkOutputPath(path, ['csv']);
  if (bad) return failed(bad);
  try {
    const r = await wb.api.request('exportMetricsCsv', { runDir, path: path.trim() });
    return { error: null, message: `Saved ${r.path} (${r.rows} rows)` };
  } catch (e) {
    return failed(errorText(e));
  }
}
