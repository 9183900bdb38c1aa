import { dirname, join, resolve } from 'node:path';
import { InvalidOptionError } from '../errors.ts';
import { readCube, readTruthMask } from '../xrf/cube-import.ts';
import { NORMALIZATIONS, type Normalization } from '../xrf/cube.ts';
import { ABLATIONS, type Ablation } from '../xrf/msfa-net.ts';
import { runXrfWorkflow, XRF_METHODS, type XrfMethod } from '../xrf/workflow.ts';
import type { BackendPreference } from '../models/backend.ts';
import { defaultThreads } from '../jobs/worker-pool.ts';
import type { JobContext } from '../jobs/job.ts';
import { checkWorkflowPaths, required } from './option-table.ts';
import { parseQueueBatch } from '../queue/batch-option.ts';
import { XRF_OPTIONS, XRF_PATHS, type XrfWorkflowOptions } from './xrf-options.ts';
import type { XrfMethodMetrics, XrfWorkflowResult } from './xrf-result.ts';

export { XRF_OPTIONS, XRF_PATHS, type XrfWorkflowOptions } from './xrf-options.ts';
export type { XrfMethodMetrics, XrfWorkflowResult } from './xrf-result.ts';

/**
 * Micro-XRF anomaly detection: reads the cube (and the truth mask: `truth`, else the cube file's
 * own map), runs the detectors (main/xrf/workflow.ts; with `queue`, one queue unit per method)
 * and writes score maps, metrics.json, spectral-axis.json and, with a truth, roc.json and the
 * separability statistics into `out`. The cube line goes to `ctx.log`.
 */
export async function xrfWorkflow(o: XrfWorkflowOptions, ctx: JobContext = {}): Promise<XrfWorkflowResult> {
  checkWorkflowPaths(XRF_OPTIONS, XRF_PATHS, o);
  const cmd = 'xrf';
  const log = (m: string): void => ctx.log?.(m);
  const cubePath = required(o.cube, 'cube', cmd);
  const outDir = resolve(required(o.out, 'out', cmd));
  const methodArg = o.method || XRF_OPTIONS.method.default;
  const methods = (methodArg === 'all' ? [...XRF_METHODS] : methodArg.split(',').map((m) => m.trim())) as XrfMethod[];
  for (const m of methods) if (!XRF_METHODS.includes(m)) throw new InvalidOptionError(`geoanomaly xrf: --method "${m}" is not one of ${XRF_METHODS.join(', ')}, all`);
  const ablation = (o.ablation || XRF_OPTIONS.ablation.default) as Ablation;
  if (!ABLATIONS.includes(ablation)) throw new InvalidOptionError(`geoanomaly xrf: --ablation must be one of ${ABLATIONS.join(', ')}, got "${ablation}"`);
  const normalization = (o.normalize || XRF_OPTIONS.normalize.default) as Normalization;
  if (!NORMALIZATIONS.includes(normalization)) throw new InvalidOptionError(`geoanomaly xrf: --normalize must be one of ${NORMALIZATIONS.join(', ')}, got "${normalization}"`);
  const backend = (o.backend || XRF_OPTIONS.backend.default) as BackendPreference;
  const epochs = o.epochs ?? XRF_OPTIONS.epochs.default;
  const seed = o.seed ?? XRF_OPTIONS.seed.default;
  if (!Number.isInteger(epochs) || epochs < 1) throw new InvalidOptionError(`geoanomaly xrf: --epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(seed) || seed < 0) throw new InvalidOptionError(`geoanomaly xrf: --seed must be an integer ≥ 0, got ${seed}`);
  const threads = o.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) throw new InvalidOptionError(`geoanomaly xrf: --threads must be an integer ≥ 1, got ${threads}`);
  const dropBands = (o.dropBands ?? '').split(',').map((b) => b.trim()).filter((b) => b !== '');
  const cube = await readCube(cubePath, { dataset: o.dataset || undefined, dropBands });
  const truthPath = o.truth || undefined;
  const truth = truthPath ? await readTruthMask(truthPath, cube.rows, cube.cols) : cube.truth;
  const axis = cube.spectralAxis;
  log(`cube ${cube.rows}×${cube.cols}×${cube.bandCount} from ${cubePath}${axis ? `; ${axis.quantity} ${axis.values[0]}…${axis.values.at(-1)} ${axis.unit}` : ''}${cube.pixelSizeUm ? `; pixel ${cube.pixelSizeUm} µm` : ''}; truth: ${truthPath ?? (cube.truth ? "the cube's own map" : 'none (no AUC)')}`);
  const queue = o.queue || undefined;
  const queueBatch = parseQueueBatch(o.queueBatch, 1, 'xrf');
  const wo = { methods, ablation, epochs, seed, normalization, truth, backend, threads, outDir };
  const jobCtx: JobContext = { signal: ctx.signal, progress: ctx.progress };
  // --queue: one unit per method (main/queue/xrf-units.ts); lazily imported (bullmq only when asked).
  const metrics = queue
    ? await (await import('../queue/xrf-units.ts')).runXrfWorkflowViaQueue(cube, wo, { url: queue, workDir: dirname(outDir), log, batch: queueBatch }, jobCtx)
    : await runXrfWorkflow(cube, wo, jobCtx);
  const hasTruth = truth !== null && truth !== undefined;
  return {
    outputs: {
      dir: outDir,
      metrics: join(outDir, 'metrics.json'),
      spectralAxis: join(outDir, 'spectral-axis.json'),
      ...(hasTruth ? { roc: join(outDir, 'roc.json'), separability: join(outDir, 'separability.json'), separabilityPlot: join(outDir, 'separability.png') } : {}),
    },
    cube: { source: cubePath, rows: cube.rows, cols: cube.cols, bands: cube.bandCount, pixelSizeUm: cube.pixelSizeUm ?? null },
    truth: truthPath ?? (cube.truth ? 'cube' : null),
    methods: metrics as Record<string, XrfMethodMetrics>,
  };
}

/** The lines "geoanomaly xrf" prints on stdout for a result. */
export function xrfResultLines(r: XrfWorkflowResult): string[] {
  return [
    ...Object.entries(r.methods).map(([m, v]) => `${m.padEnd(7)} ${v.auc !== undefined ? `AUC ${v.auc.toFixed(4)}` : 'no truth: no AUC'}  (${v.seconds.toFixed(1)} s)  ${v.scoreTiff}`),
    `metrics: ${r.outputs.dir}/metrics.json`,
  ];
}
