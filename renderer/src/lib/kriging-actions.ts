import type { ComputeJobRequest, VariogramPreview, VectorLayerSpec } from '../../../main/api/contract.ts';
import { runOutputPath } from './site-actions.ts';
import { errorText, type Workbench } from './workbench.svelte.ts';

export interface KrigeParams {
  readonly samples: VectorLayerSpec;
  readonly fields: readonly string[];
  readonly cellM: number;
  readonly log: boolean;
  readonly model: 'auto' | 'sph' | 'exp' | 'gau';
  /** Fixed variogram spec for every field (from the preview's edited model), or null to fit. */
  readonly variogram: string | null;
  /** Nearest samples per prediction; null = the command's default. */
  readonly nmax: number | null;
  readonly crossValidate: boolean;
}

/** One element's leave-one-out summary, as `krige --cv` writes it. */
export interface CvRow {
  readonly name: string;
  readonly modelSpec: string;
  readonly n: number;
  readonly meanError: number;
  readonly rmse: number;
  readonly msse: number;
  readonly scale: 'linear' | 'log';
}

/** Numeric columns of a loaded sample layer: properties that are numbers (or missing) in its features. */
export function numericColumns(wb: Workbench, layer: VectorLayerSpec): string[] {
  const features = (wb.vectors.get(layer.id)?.geojson.features ?? []) as { properties?: Record<string, unknown> }[];
  const skip = new Set([layer.table?.x, layer.table?.y].map((c) => c?.toLowerCase()));
  const first = features.slice(0, 200);
  const keys = Object.keys(first[0]?.properties ?? {});
  return keys.filter((k) => !skip.has(k.toLowerCase()) && first.some((f) => typeof f.properties?.[k] === 'number') && first.every((f) => f.properties?.[k] === null || typeof f.properties?.[k] === 'number'));
}

export async function variogram(wb: Workbench, samples: VectorLayerSpec, field: string, log: boolean, model: KrigeParams['model'], fixed: string | null): Promise<VariogramPreview | string> {
  if (!samples.table) return 'choose a sample table layer';
  try {
    return await wb.api.request('krigeVariogram', { samples: samples.source, table: samples.table, field, log, model, variogram: fixed ?? undefined });
  } catch (e) {
    return errorText(e);
  }
}

/**
 * Runs `krige` as a job; when it ends adds the prediction and variance stacks as layers and
 * returns the cross-validation summary (if asked for).
 */
export async function runKriging(wb: Workbench, p: KrigeParams, onStarted: (jobId: string) => void): Promise<{ error: string | null; cv: CvRow[] | null }> {
  if (!p.samples.table) return { error: 'choose a sample table layer', cv: null };
  const out = runOutputPath(wb, 'krige', 'tif');
  const variance = out.replace(/\.tif$/, '-variance.tif');
  const cvFile = out.replace(/\.tif$/, '-cv.json');
  const options: Record<string, string | number | boolean> = {
    samples: p.samples.source,
    x: p.samples.table.x,
    y: p.samples.table.y,
    crs: p.samples.table.crs,
    fields: p.fields.join(','),
    cell: p.cellM,
    out,
    variance,
  };
  if (p.log) options.log = true;
  if (p.variogram) options.variogram = p.variogram;
  else options.model = p.model;
  if (p.nmax !== null) options.nmax = p.nmax;
  if (p.crossValidate) options.cv = cvFile;
  const request: ComputeJobRequest = { options };
  const outcome = await wb.jobs.start('krige', request, `Kriging: ${p.fields.join(', ')}`, onStarted);
  if (!outcome.ok) return { error: outcome.error ? `${outcome.error.name}: ${outcome.error.message}` : 'the kriging job failed', cv: null };
  // The import names both stacks from the files ("Kriged Au, Cu (ppb, ppm)", "Kriging variance
  // Au, Cu (ppb², ppm²)"): krige records each band's unit from the table's headers (issue 18).
  for (const path of [out, variance]) {
    const err = await wb.importLayer({ kind: 'raster', path });
    if (err) return { error: err, cv: null };
  }
  if (!p.crossValidate) return { error: null, cv: null };
  try {
    const json = (await wb.api.request('readJsonResult', { path: cvFile })) as { elements: { name: string; modelSpec: string; summary: Omit<CvRow, 'name' | 'modelSpec'> }[] };
    return { error: null, cv: json.elements.map((e) => ({ name: e.name, modelSpec: e.modelSpec, ...e.summary })) };
  } catch (e) {
    return { error: errorText(e), cv: null };
  }
}
