import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { RasterStack } from '../grid/raster.ts';
import { extractPatches } from '../sites/patches.ts';
import type { SiteSet } from '../sites/site-blocks.ts';
import { writeGeoTiff } from '../io/geotiff-write.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write.ts';
import { EmptyInputError, InvalidOptionError } from '../errors.ts';
import { report, subJob, throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { modelClassifier, type LoadedRun } from './run-models.ts';
import { predictMap, type NamedClassifier, type WindowClassifier } from './predict-map.ts';
import type { StackSource } from './stack-source.ts';

/**
 * Per-element attribution: WHICH elements drive a model's deposit probability, where Grad-CAM
 * only shows where in the window it looks.
 *
 * Both methods measure against the same baseline window: every band at 0 in the transformed
 * (standardised) space, i.e. each element at its study-area mean — the "nothing unusual here"
 * window. (A zero baseline of raw values would be an impossible rock.)
 * - 'ig' (integrated gradients, Sundararajan et al. 2017): a_b = Σ_cells (x − x₀)·mean_α ∂p/∂x at
 *   x₀ + α(x − x₀), α on `steps` midpoints; the bands' attributions sum to p(x) − p(x₀)
 *   (completeness, checked in the tests).
 * - 'occlusion': a_b = p(x) − p(x with band b set to the baseline over the whole window): model-
 *   agnostic, one forward pass per band.
 * Per site: every deposit block centre; the band ranking orders bands by mean |a_b| over them.
 * For the map: occlusion at every cell's window (one raster band per element and model), since
 * integrated gradients over every window would cost `steps` backward passes per cell.
 * Hand-written (a few tfjs ops): no attribution library is installed for tfjs.
 */

export type AttributionMethod = 'ig' | 'occlusion';
export const ATTRIBUTION_METHODS: readonly AttributionMethod[] = ['ig', 'occlusion'];

export interface AttributionOptions {
  readonly method: AttributionMethod;
  /** Integrated-gradients steps (midpoint rule). @default 64 */
  readonly steps?: number;
  /** Class explained. @default 1 (deposit) */
  readonly classIndex?: number;
  /** Also write the occlusion rasters over the grid. @default true */
  readonly maps?: boolean;
}

/** P(class) of n windows [n, k, k, C] (inference mode). */
function probabilities(model: tfl.LayersModel, x: tf.Tensor4D, cls: number): Float32Array {
  return tf.tidy(() => {
    const p = model.apply(x, { training: false }) as tf.Tensor2D;
    return tf.squeeze(tf.slice(p, [0, cls], [-1, 1]), [1]);
  }).dataSync() as Float32Array;
}

/** Integrated gradients per sample and band, [n × C], against the all-zero (mean) window. */
export function integratedGradients(model: tfl.LayersModel, x: Float32Array, n: number, k: number, C: number, options: { steps?: number; classIndex?: number } = {}): Float32Array {
  const steps = options.steps ?? 64;
  const cls = options.classIndex ?? 1;
  if (!(Number.isInteger(steps) && steps >= 1)) throw new InvalidOptionError(`integrated gradients: steps must be an integer ≥ 1, got ${steps}`);
  const xt = tf.tensor4d(x, [n, k, k, C]);
  // Σ over samples of p(class): each sample's gradient is its own (samples do not interact in inference mode).
  const f = (z: tf.Tensor): tf.Scalar => tf.sum(tf.slice(model.apply(z, { training: false }) as tf.Tensor2D, [0, cls], [-1, 1])) as tf.Scalar;
  const grad = tf.grad(f);
  let sum: tf.Tensor = tf.zerosLike(xt);
  try {
    for (let s = 0; s < steps; s++) {
      const next = tf.tidy(() => tf.add(sum, grad(tf.mul(xt, (s + 0.5) / steps))));
      sum.dispose();
      sum = next;
    }
    const a = tf.tidy(() => tf.sum(tf.mul(tf.mul(sum, 1 / steps), xt), [1, 2]));
    const out = a.dataSync() as Float32Array;
    a.dispose();
    return Float32Array.from(out);
  } finally {
    sum.dispose();
    xt.dispose();
  }
}

/** Windows with band b set to the baseline (0) in every cell. */
function occludeBand(x: Float32Array, n: number, k: number, C: number, b: number): Float32Array {
  const y = Float32Array.from(x);
  for (let i = b; i < n * k * k * C; i += C) y[i] = 0;
  return y;
}

/** Occlusion per sample and band, [n × C]: p(x) − p(x with band b at the baseline). */
export async function occlusion(classify: WindowClassifier, x: Float32Array, n: number, k: number, C: number): Promise<Float32Array> {
  const p = await classify(x, n);
  const out = new Float32Array(n * C);
  for (let b = 0; b < C; b++) {
    const q = await classify(occludeBand(x, n, k, C, b), n);
    for (let i = 0; i < n; i++) out[i * C + b] = p[i] - q[i];
  }
  return out;
}

export interface BandRank {
  readonly band: string;
  readonly meanAbs: number;
  readonly mean: number;
}

/** Bands by mean |attribution| over samples, largest first. */
export function bandRanking(attr: Float32Array, n: number, bandNames: readonly string[]): BandRank[] {
  const C = bandNames.length;
  return bandNames
    .map((band, b) => {
      let abs = 0;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        abs += Math.abs(attr[i * C + b]);
        sum += attr[i * C + b];
      }
      return { band, meanAbs: abs / n, mean: sum / n };
    })
    .sort((a, b) => b.meanAbs - a.meanAbs);
}

export interface ModelAttribution {
  readonly ranking: BandRank[];
  readonly sites: { siteId: string; row: number; col: number; p: number; pBaseline: number; attribution: Record<string, number> }[];
}

export interface AttributionResult {
  readonly method: AttributionMethod;
  readonly models: Record<string, ModelAttribution>;
  readonly files: string[];
}

function occludingClassifier(base: NamedClassifier, k: number, C: number, b: number): NamedClassifier {
  return { name: `${base.name}/${b}`, classify: (x, n) => base.classify(occludeBand(x, n, k, C, b), n) };
}

export async function attributeRun(run: LoadedRun, stack: RasterStack, sites: SiteSet, source: StackSource, outDir: string, options: AttributionOptions, ctx?: JobContext): Promise<AttributionResult> {
  if (!ATTRIBUTION_METHODS.includes(options.method)) throw new InvalidOptionError(`--attribution must be one of ${ATTRIBUTION_METHODS.join(', ')}, got "${String(options.method)}"`);
  if (!run.stats.transform.endsWith('standardize')) {
    throw new InvalidOptionError(
      `--attribution needs a standardised transform (its baseline is each band at its mean, 0 after standardising); run ${run.runDir} used "${run.stats.transform}". Re-train with --transform log10-standardize.`,
    );
  }
  const cls = options.classIndex ?? 1;
  const k = run.window;
  const C = run.bandNames.length;
  const centres = sites.sites.filter((s) => s.centre && s.label === 1);
  if (centres.length === 0) throw new EmptyInputError('sites', 'no deposit (label 1) block centre among the sites', 'Give the sites file the model was trained with');
  const patches = extractPatches(stack, { grid: sites.grid, sites: centres }, { size: k, stats: run.stats, nodata: 'fill-mean' });
  const n = centres.length;
  const models: Record<string, ModelAttribution> = {};
  const files: string[] = [];
  const csv = ['model,siteId,row,col,band,attribution'];
  const names = [...run.models.keys()];
  for (const [m, [name, model]] of [...run.models].entries()) {
    throwIfCancelled(ctx, 'attribution');
    const xt = tf.tensor4d(patches.x, [n, k, k, C]);
    const p = probabilities(model, xt, cls);
    xt.dispose();
    const zero = tf.zeros([n, k, k, C]) as tf.Tensor4D;
    const p0 = probabilities(model, zero, cls);
    zero.dispose();
    const classify: WindowClassifier = cls === 1 ? modelClassifier(name, model, k, C).classify : (w, cnt) => {
      const t = tf.tensor4d(w, [cnt, k, k, C]);
      const out = probabilities(model, t, cls);
      t.dispose();
      return out;
    };
    const attr = options.method === 'ig' ? integratedGradients(model, patches.x, n, k, C, { steps: options.steps, classIndex: cls }) : await occlusion(classify, patches.x, n, k, C);
    models[name] = {
      ranking: bandRanking(attr, n, run.bandNames),
      sites: centres.map((s, i) => ({
        siteId: s.siteId,
        row: s.row,
        col: s.col,
        p: p[i],
        pBaseline: p0[i],
        attribution: Object.fromEntries(run.bandNames.map((band, b) => [band, attr[i * C + b]])),
      })),
    };
    centres.forEach((s, i) => run.bandNames.forEach((band, b) => csv.push(`${name},${s.siteId},${s.row},${s.col},${band},${attr[i * C + b]}`)));
    report(ctx, (m + 0.5) / names.length, `${name}: ${options.method} attribution at ${n} deposit site(s)`);
  }
  const json = join(outDir, 'attribution-sites.json');
  writeJsonAtomic(json, { method: options.method, classIndex: cls, baseline: 'every band at 0 after standardising (its study-area mean)', ...(options.method === 'ig' ? { steps: options.steps ?? 64 } : {}), bandNames: run.bandNames, models });
  const csvPath = join(outDir, 'attribution-sites.csv');
  writeFileAtomic(csvPath, csv.join('\n') + '\n');
  files.push(json, csvPath);

  if (options.maps ?? true) {
    const cells = source.grid.rows * source.grid.cols;
    for (const [m, [name, model]] of [...run.models].entries()) {
      const base = modelClassifier(name, model, k, C);
      const classifiers = [base, ...run.bandNames.map((_, b) => occludingClassifier(base, k, C, b))];
      const maps = classifiers.map(() => new Float32Array(cells).fill(NaN));
      await predictMap(
        source,
        classifiers,
        { window: k, bandNames: run.bandNames, stats: run.stats, batchSize: 256 },
        (rowStart, probs) => probs.forEach((pr, i) => maps[i].set(pr, rowStart * source.grid.cols)),
        subJob(ctx, (m + 0.5) / names.length, (m + 1) / names.length, `${name}: occlusion map`),
      );
      const bands = run.bandNames.map((_, b) => Float32Array.from(maps[0], (v, i) => v - maps[b + 1][i]));
      const path = join(outDir, `attribution-${name}.tif`);
      writeGeoTiff(path, { grid: source.grid, bandNames: [...run.bandNames], bands }, { nodata: -9999 });
      files.push(path);
    }
  }
  return { method: options.method, models, files };
}
