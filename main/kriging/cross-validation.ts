import type { JobContext } from '../jobs/job.ts';
import { report, subJob, throwIfCancelled } from '../jobs/job.ts';
import { KrigingPredictor } from './kriging-predictor.ts';
import { checkKrigeOptions, type KrigeOptions } from './krige-options.ts';
import { prepareKriging, type FieldModel, type SampleInput } from './prepare-samples.ts';

/** Leave-one-out errors at one sample (on the log scale when kriging with `log`). */
export interface CvPoint {
  readonly x: number;
  readonly y: number;
  readonly observed: number;
  readonly predicted: number;
  readonly variance: number;
  /** observed − predicted (gstat's `residual`). */
  readonly residual: number;
  /** residual / √variance (gstat's `zscore`). */
  readonly zscore: number;
}

export interface CvSummary {
  /** Points with a prediction. */
  readonly n: number;
  /** Points left without a prediction (fewer than nmin neighbours once the point is removed). */
  readonly notPredicted: number;
  readonly meanError: number;
  readonly rmse: number;
  /** Mean standardised squared error, mean(zscore²): ≈ 1 when the kriging variance is right. */
  readonly msse: number;
  readonly meanZscore: number;
  /** Scale of the errors: 'log' when the variable was log-transformed. */
  readonly scale: 'linear' | 'log';
}

export interface CvResult {
  readonly name: string;
  readonly model: FieldModel;
  readonly summary: CvSummary;
  readonly points: CvPoint[];
}

/** Summary statistics of per-point LOO errors (NaN predictions counted, not averaged). */
export function summarizeCv(points: readonly CvPoint[], scale: 'linear' | 'log'): CvSummary {
  let n = 0, se = 0, sse = 0, sz2 = 0, sz = 0;
  for (const p of points) {
    if (!Number.isFinite(p.predicted)) continue;
    n++;
    se += p.residual;
    sse += p.residual * p.residual;
    if (Number.isFinite(p.zscore)) {
      sz2 += p.zscore * p.zscore;
      sz += p.zscore;
    }
  }
  return {
    n,
    notPredicted: points.length - n,
    meanError: n ? se / n : NaN,
    rmse: n ? Math.sqrt(sse / n) : NaN,
    msse: n ? sz2 / n : NaN,
    meanZscore: n ? sz / n : NaN,
    scale,
  };
}

/**
 * Leave-one-out cross-validation of every variable with the same models and neighbourhood as
 * `krigeGrid` (gstat's krige.cv with nfold = n). Variograms are fitted once on all points, as
 * krige.cv does, not refitted per left-out point.
 */
export async function crossValidate(input: SampleInput, options: KrigeOptions = {}, ctx?: JobContext): Promise<CvResult[]> {
  const o = checkKrigeOptions(options);
  const prepared = prepareKriging(input, o, subJob(ctx, 0, 0.1, 'variograms'));
  const results: CvResult[] = new Array(input.fields.length);
  const total = prepared.groups.reduce((s, g) => s + g.pointIndex.length * g.fields.length, 0);
  let done = 0;
  for (const g of prepared.groups) {
    throwIfCancelled(ctx, 'cross-validation');
    const gx = Float64Array.from(g.pointIndex, (i) => prepared.x[i]);
    const gy = Float64Array.from(g.pointIndex, (i) => prepared.y[i]);
    const predictor = new KrigingPredictor(gx, gy, g.fields, { nmax: o.nmax, nmin: o.nmin, maxDistM: o.maxDistM, mean: o.mean, maxGlobalPoints: o.maxGlobalPoints }, prepared.origin);
    const n = gx.length;
    let calls = 0;
    const loo = predictor.leaveOneOut((fraction) => {
      if ((calls++ & 63) !== 0) return;
      throwIfCancelled(ctx, 'cross-validation');
      const f = (done + fraction * n * g.fields.length) / total;
      report(ctx, 0.1 + 0.9 * f, `leave-one-out ${Math.round(100 * f)}%`);
    });
    done += n * g.fields.length;
    g.fields.forEach((f, k) => {
      const points: CvPoint[] = [];
      for (let i = 0; i < n; i++) {
        const predicted = loo[k].pred[i];
        const variance = loo[k].variance[i];
        const residual = f.z[i] - predicted;
        points.push({ x: gx[i] + prepared.origin.x, y: gy[i] + prepared.origin.y, observed: f.z[i], predicted, variance, residual, zscore: residual / Math.sqrt(variance) });
      }
      results[f.fieldIndex] = { name: f.name, model: prepared.fieldModels[f.fieldIndex], summary: summarizeCv(points, o.log ? 'log' : 'linear'), points };
    });
  }
  report(ctx, 1, 'cross-validation done');
  return results;
}
