import type { BandData, XrfMethodMetrics, XrfWorkflowResult } from '../../../main/api/contract.ts';
import { xrfRequest, type XrfParams } from './xrf-params.ts';
import type { SeparabilityEntry, XrfRocEntry } from './chart-data.ts';
import { runOutputPath } from './site-actions.ts';
import { errorText, type Workbench } from './workbench.svelte.ts';

export * from './xrf-params.ts';

/** metrics.json of an xrf run, per method: its AUC (with a truth mask), time and output maps (the workflow's typed result). */
export type { XrfMethodMetrics } from '../../../main/api/contract.ts';

export interface XrfRunResult {
  readonly outDir: string;
  readonly metrics: Readonly<Record<string, XrfMethodMetrics>>;
  /** Present when a truth mask was known. */
  readonly roc: Record<string, XrfRocEntry> | null;
  readonly separability: SeparabilityEntry[] | null;
}

/**
 * An xrf job's results: the metrics come with its typed result (main/workflows/xrf-result.ts);
 * the ROC curves and separability statistics are read from the files it names (with a truth mask).
 */
export async function readXrfRun(wb: Workbench, r: XrfWorkflowResult): Promise<XrfRunResult> {
  const roc = r.outputs.roc ? ((await wb.api.request('readJsonResult', { path: r.outputs.roc })) as Record<string, XrfRocEntry>) : null;
  const separability = r.outputs.separability ? ((await wb.api.request('readJsonResult', { path: r.outputs.separability })) as SeparabilityEntry[]) : null;
  return { outDir: r.outputs.dir, metrics: r.methods, roc, separability };
}

/** Runs the detectors as an `xrf` job and reads its results. */
export async function runXrf(wb: Workbench, p: XrfParams, onStarted: (jobId: string) => void): Promise<{ error: string | null; result: XrfRunResult | null }> {
  const outDir = runOutputPath(wb, 'xrf', 'run');
  const outcome = await wb.jobs.start('xrf', xrfRequest(p, outDir), `Micro-XRF: ${p.methods.join(', ')}`, onStarted);
  if (!outcome.ok) return { error: outcome.error ? `${outcome.error.name}: ${outcome.error.message}` : 'the xrf job failed', result: null };
  const done = outcome.result?.workflow;
  if (done?.workflow !== 'xrf') return { error: 'the xrf job returned no xrf result', result: null };
  try {
    return { error: null, result: await readXrfRun(wb, done.result) };
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

