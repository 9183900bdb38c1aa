import { join } from 'node:path';
import { rocAuc, rocCurve } from '../eval/metrics.ts';
import { InvalidOptionError } from '../errors.ts';
import type { JobContext } from '../jobs/job.ts';
import { subJob, throwIfCancelled } from '../jobs/job.ts';
import type { BackendPreference } from '../models/backend.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write.ts';
import { cubeSpectralAxis, normalizeCube, NORMALIZATIONS, type Normalization, type SpectralCube } from './cube.ts';
import { runAutoAd } from './auto-ad.ts';
import { boxPlotPng, separability, writeDetectionMaps, type Separability } from './detection-output.ts';
import { ABLATIONS, runMsfaNet, type Ablation } from './msfa-net.ts';
import { localRx } from './rx.ts';
import { globalRxFast } from './rx-onnx.ts';

/** The micro-XRF workflow: normalise, run detectors, write score maps, metrics, ROC and box plot. */
export type XrfMethod = 'msfa' | 'rx' | 'lrx' | 'autoad';
export const XRF_METHODS: readonly XrfMethod[] = ['msfa', 'rx', 'lrx', 'autoad'];

export interface XrfWorkflowOptions {
  readonly methods: readonly XrfMethod[];
  /** MSFA-Net ablation. Default 'none'. */
  readonly ablation?: Ablation;
  /** MSFA-Net epochs. Default 150. */
  readonly epochs?: number;
  readonly seed?: number;
  /** Default 'minmax-band'. */
  readonly normalization?: Normalization;
  /** Truth mask (1 = anomaly); null/undefined: no AUC. */
  readonly truth?: Uint8Array | null;
  readonly backend?: BackendPreference;
  /** MSFA-Net data-parallel training threads (main/models/data-parallel.ts). Default 1. */
  readonly threads?: number;
  readonly outDir: string;
}

export interface MethodMetrics {
  auc?: number;
  seconds: number;
  scoreTiff: string;
  scorePng: string;
  [extra: string]: unknown;
}

/** What `spectral-axis.json` holds: channel names and their energy/wavelength, pixel size. */
export interface SpectralAxisRecord {
  readonly source: string;
  readonly bandNames: string[];
  readonly quantity: 'energy' | 'wavelength' | 'channel';
  readonly unit: string;
  /** Physical value of each channel (from the file, or from band names such as "6.400keV"), else the 1-based channel index. */
  readonly values: number[];
  readonly pixelSizeUm: number | null;
}

export function spectralAxisRecord(cube: SpectralCube): SpectralAxisRecord {
  const a = cubeSpectralAxis(cube);
  return {
    source: cube.source,
    bandNames: cube.bandNames,
    quantity: a.quantity,
    unit: a.unit,
    values: a.values,
    pixelSizeUm: cube.pixelSizeUm ?? null,
  };
}

/** What runXrfMethod needs besides the normalised cube: all of it plain data (it crosses the queue). */
export interface XrfMethodParams {
  readonly seed: number;
  readonly ablation: Ablation;
  readonly normalization: Normalization;
  readonly epochs?: number;
  readonly backend?: BackendPreference;
  readonly threads: number;
}

/** One detector's output: the score map, its metrics fields and its compute time. */
export interface XrfMethodResult {
  readonly method: XrfMethod;
  readonly scores: Float32Array;
  readonly extra: Record<string, unknown>;
  readonly seconds: number;
}

/**
 * Runs one detector on the normalised cube: the unit of work of an xrf run (locally in a loop,
 * or one queue unit per method, main/queue/xrf-units.ts). Its scores depend only on the cube,
 * the method and the params (seeded by the run seed), never on where it runs.
 */
export async function runXrfMethod(x: SpectralCube, method: XrfMethod, p: XrfMethodParams, ctx?: JobContext): Promise<XrfMethodResult> {
  const t0 = performance.now();
  let scores: Float32Array;
  const extra: Record<string, unknown> = {};
  if (method === 'rx') {
    // Blocked GEMMs on ONNX Runtime when it is installed (bench/xrf.ts rx), else the JS loops.
    const r = await globalRxFast(x, { threads: p.threads }, ctx);
    scores = r.scores;
    extra.engine = r.engine;
  }
  else if (method === 'lrx') scores = localRx(x, {}, ctx);
  else if (method === 'autoad') {
    const r = await runAutoAd(x, { seed: p.seed, backend: p.backend }, ctx);
    scores = r.scores;
    Object.assign(extra, { iterations: r.iterations, backend: r.backend });
  } else {
    const r = await runMsfaNet(x, { epochs: p.epochs, seed: p.seed, ablation: p.ablation, backend: p.backend, threads: p.threads }, ctx);
    scores = r.scores;
    Object.assign(extra, {
      ablation: p.ablation,
      epochs: r.options.epochs,
      finalLoss: r.lossHistory.at(-1),
      secondsPerEpoch: r.secondsPerEpoch,
      cpuSecondsPerEpoch: r.cpuSecondsPerEpoch,
      threads: r.options.threads,
      backend: r.backend,
      dbscanClusters: r.pseudo.clusterCount,
      backgroundEndmembers: r.pseudo.endmemberCount,
      pseudoAnomalies: r.pseudo.pseudoAnomaly.reduce((a, v) => a + v, 0),
    });
  }
  return { method, scores, extra, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Computes the methods' results in the given order: the local loop by default; `xrf --queue`
 * passes one that runs each method as a unit on the queue (main/queue/xrf-units.ts).
 */
export type XrfMethodRunner = (x: SpectralCube, methods: readonly XrfMethod[], p: XrfMethodParams, ctx?: JobContext) => Promise<XrfMethodResult[]>;

export const runXrfMethodsLocally: XrfMethodRunner = async (x, methods, p, ctx) => {
  const out: XrfMethodResult[] = [];
  const share = 1 / methods.length;
  for (const [k, method] of methods.entries()) {
    throwIfCancelled(ctx, 'xrf');
    out.push(await runXrfMethod(x, method, p, subJob(ctx, k * share, (k + 1) * share, method)));
  }
  return out;
};

export async function runXrfWorkflow(cube: SpectralCube, o: XrfWorkflowOptions, ctx?: JobContext, runMethods: XrfMethodRunner = runXrfMethodsLocally): Promise<Record<string, MethodMetrics>> {
  if (o.methods.length === 0) throw new InvalidOptionError('xrf: give at least one method');
  for (const m of o.methods) if (!XRF_METHODS.includes(m)) throw new InvalidOptionError(`xrf: unknown method "${m}" (methods: ${XRF_METHODS.join(', ')}, all)`);
  const ablation = o.ablation ?? 'none';
  if (!ABLATIONS.includes(ablation)) throw new InvalidOptionError(`xrf: ablation must be one of ${ABLATIONS.join(', ')}, got "${ablation}"`);
  const normalization = o.normalization ?? 'minmax-band';
  if (!NORMALIZATIONS.includes(normalization)) throw new InvalidOptionError(`xrf: normalisation must be one of ${NORMALIZATIONS.join(', ')}, got "${normalization}"`);
  const truth = o.truth ?? null;
  if (truth && truth.length !== cube.rows * cube.cols) throw new InvalidOptionError(`xrf: the truth mask has ${truth.length} pixels, the cube ${cube.rows * cube.cols}`);
  if (truth) {
    const pos = truth.reduce((a, v) => a + v, 0);
    if (pos === 0 || pos === truth.length) throw new InvalidOptionError(`xrf: the truth mask has ${pos === 0 ? 'no anomaly pixel' : 'only anomaly pixels'}; AUC needs both classes. Check the mask`);
  }
  const x = normalizeCube(cube, normalization);
  const seed = o.seed ?? 1;
  const params: XrfMethodParams = { seed, ablation, normalization, epochs: o.epochs, backend: o.backend, threads: o.threads ?? 1 };
  const results = await runMethods(x, o.methods, params, ctx);
  throwIfCancelled(ctx, 'xrf');
  const metrics: Record<string, MethodMetrics> = {};
  const seps: Separability[] = [];
  const rocs: Record<string, { fpr: number[]; tpr: number[] }> = {};
  for (const { method, scores, extra, seconds } of results) {
    const [scoreTiff, scorePng] = writeDetectionMaps(o.outDir, method, scores, cube.rows, cube.cols, cube.grid);
    const entry: MethodMetrics = { seconds, scoreTiff, scorePng, seed, normalization, ...extra };
    if (truth) {
      entry.auc = rocAuc(truth, scores);
      const roc = rocCurve(truth, scores);
      rocs[method] = { fpr: roc.fpr, tpr: roc.tpr };
      seps.push(separability(method, scores, truth));
    }
    metrics[method] = entry;
  }
  writeJsonAtomic(join(o.outDir, 'metrics.json'), metrics);
  // The spectral axis travels with the outputs: a spectrum plot of any score needs it.
  writeJsonAtomic(join(o.outDir, 'spectral-axis.json'), spectralAxisRecord(cube));
  if (truth) {
    writeJsonAtomic(join(o.outDir, 'roc.json'), rocs);
    writeJsonAtomic(join(o.outDir, 'separability.json'), seps);
    writeFileAtomic(join(o.outDir, 'separability.png'), boxPlotPng(seps));
  }
  return metrics;
}
