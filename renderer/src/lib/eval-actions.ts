import type { RasterLayerSpec, VectorLayerSpec } from '../../../main/api/contract.ts';
import type { EvalReport } from './compare-charts.ts';
import { runOutputPath } from './site-actions.ts';
import { workflowResultOf } from '../../../main/workflows/workflow-results.ts';
import { errorText, type Workbench } from './workbench.svelte.ts';

export interface EvalParams {
  readonly map: RasterLayerSpec;
  readonly band: string;
  readonly deposits: VectorLayerSpec;
  /** Training sites GeoJSON whose cells leave the study area, or null. */
  readonly excludeSites: string | null;
  /** Edited C–A breaks (ascending), or null for the automatic fit. */
  readonly breaks: readonly number[] | null;
  /** Classes layer of the previous evaluation, replaced by the new one. */
  readonly replaceLayerId: string | null;
}

/**
 * Runs `geoanomaly evaluate` as a job on one band of a probability map, adds the C–A anomaly
 * classes raster as a layer (replacing the previous evaluation's) and returns EVAL.json.
 */
export async function runEvaluate(wb: Workbench, p: EvalParams, onStarted: (jobId: string) => void): Promise<{ error: string | null; report: EvalReport | null; path: string | null; classesLayerId: string | null }> {
  const fail = (error: string) => ({ error, report: null, path: null, classesLayerId: null });
  const out = runOutputPath(wb, 'evaluate', 'json');
  const classes = out.replace(/\.json$/, '-classes.tif');
  const options: Record<string, string> = { map: p.map.source, band: p.band, deposits: p.deposits.source, out, classes };
  if (p.excludeSites) options['exclude-training'] = p.excludeSites;
  if (p.breaks) options['ca-breaks'] = p.breaks.map((b) => String(b)).join(',');
  const outcome = await wb.jobs.start('evaluate', { options }, `Evaluate ${p.map.name} · ${p.band}`, onStarted);
  if (!outcome.ok) return fail(outcome.error ? `${outcome.error.name}: ${outcome.error.message}` : 'the evaluate job failed');
  // EVAL.json and the classes raster are where the workflow's typed result says, not where this panel asked.
  let report: EvalReport;
  let outputs: { readonly evaluation: string; readonly classes?: string };
  try {
    outputs = workflowResultOf(outcome.result, 'evaluate').outputs;
    report = (await wb.api.request('readJsonResult', { path: outputs.evaluation })) as EvalReport;
  } catch (e) {
    return fail(errorText(e));
  }
  if (!outputs.classes) return fail(`the evaluate job wrote no C–A classes raster (asked for ${classes})`);
  if (p.replaceLayerId && wb.doc?.layers.some((l) => l.id === p.replaceLayerId)) wb.removeLayer(p.replaceLayerId);
  const before = new Set((wb.doc?.layers ?? []).map((l) => l.id));
  const err = await wb.importLayer({ kind: 'raster', path: outputs.classes });
  if (err) return fail(err);
  const layer = (wb.doc?.layers ?? []).find((l): l is RasterLayerSpec => !before.has(l.id) && l.kind === 'raster');
  if (layer) await wb.updateLayer(layer.id, { name: `C–A classes (${p.band})`, style: { ...layer.style, ramp: 'turbo', stretch: 'minmax' } });
  return { error: null, report, path: outputs.evaluation, classesLayerId: layer?.id ?? null };
}
