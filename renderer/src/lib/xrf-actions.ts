import type { BandData } from '../../../main/api/contract.ts';
import { xrfRequest, type XrfParams } from './xrf-params.ts';
import type { SeparabilityEntry, XrfRocEntry } from './chart-data.ts';
import { runOutputPath } from './site-actions.ts';
import { errorText, type Workbench } from './workbench.svelte.ts';

export * from './xrf-params.ts';

/** metrics.json of an xrf run: per method its AUC (with a truth mask), time and output maps. */
export interface XrfMethodMetrics {
  readonly auc?: number;
  readonly seconds: number;
  readonly scoreTiff: string;
  readonly scorePng: string;
  readonly [extra: string]: unknown;
}

export interface XrfRunResult {
  readonly outDir: string;
  readonly metrics: Record<string, XrfMethodMetrics>;
  /** Present when a truth mask was known. */
  readonly roc: Record<string, XrfRocEntry> | null;
  readonly separability: SeparabilityEntry[] | null;
}

/** Reads an xrf output folder: metrics.json, and roc.json + separability.json when they exist. */
export async function readXrfRun(wb: Workbench, outDir: string): Promise<XrfRunResult> {
  const metrics = (await wb.api.request('readJsonResult', { path: `${outDir}/metrics.json` })) as Record<string, XrfMethodMetrics>;
  const hasTruth = Object.values(metrics).some((m) => typeof m.auc === 'number');
  const roc = hasTruth ? ((await wb.api.request('readJsonResult', { path: `${outDir}/roc.json` })) as Record<string, XrfRocEntry>) : null;
  const separability = hasTruth ? ((await wb.api.request('readJsonResult', { path: `${outDir}/separability.json` })) as SeparabilityEntry[]) : null;
  return { outDir, metrics, roc, separability };
}

/** Runs the detectors as an `xrf` job and reads its results. */
export async function runXrf(wb: Workbench, p: XrfParams, onStarted: (jobId: string) => void): Promise<{ error: string | null; result: XrfRunResult | null }> {
  const outDir = runOutputPath(wb, 'xrf', 'run');
  const outcome = await wb.jobs.start('xrf', xrfRequest(p, outDir), `Micro-XRF: ${p.methods.join(', ')}`, onStarted);
  if (!outcome.ok) return { error: outcome.error ? `${outcome.error.name}: ${outcome.error.message}` : 'the xrf job failed', result: null };
  try {
    return { error: null, result: await readXrfRun(wb, outDir) };
  } catch (e) {
    return { error: errorText(e), result: null };
  }
}

/** A method's score map (the Float32 GeoTIFF the command wrote). */
export async function readScoreMap(wb: Workbench, scoreTiff: string): Promise<BandData> {
  const layer = await wb.api.request('importLayer', { kind: 'raster', path: scoreTiff });
  if (layer.kind !== 'raster') throw new Error(`${scoreTiff} is not a raster`);
  return wb.api.request('getRasterBand', { source: scoreTiff, band: layer.bandNames[0] });
}

