import type { RasterLayerSpec } from '../../../main/api/contract.ts';
import type { RpcaLoadings } from './compare-charts.ts';
import { runOutputPath } from './site-actions.ts';
import { workflowResultOf } from '../../../main/workflows/workflow-results.ts';
import { errorText, type Workbench } from './workbench.svelte.ts';

export interface RpcaParams {
  readonly stack: RasterLayerSpec;
  readonly transform: 'log10' | 'clr';
  /** MCD subset share h/n (0.5 … 1). */
  readonly alpha: number;
  readonly seed: number;
}

/**
 * Runs `geoanomaly rpca` as a job (progress, cancel), adds its PC score bands as one layer
 * showing PC2 (the paper's Au–Cu assemblage map) and returns loadings.json for the biplot.
 */
export async function runRpca(wb: Workbench, p: RpcaParams, onStarted: (jobId: string) => void): Promise<{ error: string | null; loadings: RpcaLoadings | null; layerId: string | null }> {
  const fail = (error: string) => ({ error, loadings: null, layerId: null });
  const out = runOutputPath(wb, 'rpca', 'out');
  const outcome = await wb.jobs.start('rpca', { options: { stack: p.stack.source, transform: p.transform, alpha: p.alpha, seed: p.seed, out } }, `Robust PCA: ${p.stack.name}`, onStarted);
  if (!outcome.ok) return fail(outcome.error ? `${outcome.error.name}: ${outcome.error.message}` : 'the rpca job failed');
  let loadings: RpcaLoadings;
  try {
    // Where loadings.json is comes from the workflow's typed result, not from the folder's file names.
    loadings = (await wb.api.request('readJsonResult', { path: workflowResultOf(outcome.result, 'rpca').outputs.loadings })) as RpcaLoadings;
  } catch (e) {
    return fail(errorText(e));
  }
  const before = new Set((wb.doc?.layers ?? []).map((l) => l.id));
  const err = await wb.importLayer({ kind: 'raster', path: loadings.outputs.scores });
  if (err) return fail(err);
  const layer = (wb.doc?.layers ?? []).find((l): l is RasterLayerSpec => !before.has(l.id) && l.kind === 'raster');
  if (!layer) return fail('the PC score layer was not added');
  if (layer.bandNames.includes('PC2')) {
    await wb.updateLayer(layer.id, { name: `PC scores (${p.stack.name}, ${p.transform})`, band: 'PC2', style: { ...layer.style, ramp: 'rdylbu' } });
  }
  return { error: null, loadings, layerId: layer.id };
}
