import { InvalidOptionError } from '../errors.ts';
import { defaultThreads } from '../jobs/worker-pool.ts';
import type { ExperimentalVariogramOptions } from './experimental-variogram.ts';
import { MODEL_TYPES, validateModel, type ModelType, type VariogramModel } from './variogram-model.ts';

/** Options of `krigeGrid` and `crossValidate`; every default is applied and checked in `checkKrigeOptions`. */
export interface KrigeOptions {
  /**
   * Model fitted per variable when no fixed `variogram` is given: one type, or 'auto' (fit sph,
   * exp and gau, keep the smallest weighted SSE). @default 'auto'
   */
  readonly model?: 'auto' | Exclude<ModelType, 'nug'>;
  /** Fixed model(s) in gstat's parameterisation instead of fitting: one for all variables, or per variable name. */
  readonly variogram?: VariogramModel | Readonly<Record<string, VariogramModel>>;
  /** Experimental variogram binning for the fit (cutoff, lag width, subsample size). @default gstat's */
  readonly variogramOptions?: ExperimentalVariogramOptions;
  /** Nearest points per prediction. @default Infinity (global kriging, gstat's default) */
  readonly nmax?: number;
  /** Fewer neighbours than this within maxDistM leaves the cell NaN (counted in the result). @default 1 */
  readonly nmin?: number;
  /** Search radius in metres (anisotropy-reduced distance). @default Infinity */
  readonly maxDistM?: number;
  /** Known mean for simple kriging (on the log scale with `log`); null = ordinary kriging. @default null */
  readonly mean?: number | null;
  /**
   * Krige log(value) and back-transform predictions with the lognormal formula
   * exp(ŷ + σ²/2 + m) (ordinary) / exp(ŷ + σ²/2) (simple). Variances stay on the log scale.
   * @default false
   */
  readonly log?: boolean;
  /**
   * Points sharing identical coordinates make the kriging system singular. 'average' merges them
   * (mean of each variable's finite values; the count is reported), 'error' throws. @default 'average'
   */
  readonly duplicates?: 'average' | 'error';
  /** Global kriging refuses more points than this (an n×n matrix per variable). @default 2000 */
  readonly maxGlobalPoints?: number;
  /** Worker threads for grid prediction; 1 = run in this thread. @default os.availableParallelism() */
  readonly threads?: number;
}

export interface CheckedKrigeOptions {
  readonly model: 'auto' | Exclude<ModelType, 'nug'>;
  readonly variogram: VariogramModel | Readonly<Record<string, VariogramModel>> | null;
  readonly variogramOptions: ExperimentalVariogramOptions;
  readonly nmax: number;
  readonly nmin: number;
  readonly maxDistM: number;
  readonly mean: number | null;
  readonly log: boolean;
  readonly duplicates: 'average' | 'error';
  readonly maxGlobalPoints: number;
  readonly threads: number;
}

function isModel(v: unknown): v is VariogramModel {
  return typeof v === 'object' && v !== null && typeof (v as VariogramModel).type === 'string' && MODEL_TYPES.includes((v as VariogramModel).type);
}

export function checkKrigeOptions(o: KrigeOptions = {}): CheckedKrigeOptions {
  const model = o.model ?? 'auto';
  if (!['auto', 'sph', 'exp', 'gau'].includes(model)) throw new InvalidOptionError(`model must be auto, sph, exp or gau, got "${String(model)}"`);
  let variogram: CheckedKrigeOptions['variogram'] = null;
  if (o.variogram) {
    if (isModel(o.variogram)) validateModel(o.variogram);
    else for (const [name, m] of Object.entries(o.variogram)) validateModel(m, `variogram of ${name}`);
    variogram = o.variogram;
  }
  const nmax = o.nmax ?? Infinity;
  if (!(nmax === Infinity || (Number.isInteger(nmax) && nmax >= 1))) throw new InvalidOptionError(`nmax must be an integer ≥ 1 (or Infinity for global kriging), got ${nmax}`);
  const nmin = o.nmin ?? 1;
  if (!(Number.isInteger(nmin) && nmin >= 1 && nmin <= nmax)) throw new InvalidOptionError(`nmin must be an integer in [1, nmax = ${nmax}], got ${nmin}`);
  const maxDistM = o.maxDistM ?? Infinity;
  if (!(maxDistM > 0)) throw new InvalidOptionError(`maxdist must be a positive distance in metres, got ${maxDistM}`);
  const mean = o.mean ?? null;
  if (mean !== null && !Number.isFinite(mean)) throw new InvalidOptionError(`simple-kriging mean must be finite, got ${mean}`);
  const duplicates = o.duplicates ?? 'average';
  if (duplicates !== 'average' && duplicates !== 'error') throw new InvalidOptionError(`duplicates must be "average" or "error", got "${String(duplicates)}"`);
  const maxGlobalPoints = o.maxGlobalPoints ?? 2000;
  if (!(Number.isInteger(maxGlobalPoints) && maxGlobalPoints >= 1)) throw new InvalidOptionError(`maxGlobalPoints must be an integer ≥ 1, got ${maxGlobalPoints}`);
  const threads = o.threads ?? defaultThreads();
  if (!(Number.isInteger(threads) && threads >= 1)) throw new InvalidOptionError(`threads must be an integer ≥ 1, got ${threads}`);
  return { model, variogram, variogramOptions: o.variogramOptions ?? {}, nmax, nmin, maxDistM, mean, log: o.log ?? false, duplicates, maxGlobalPoints, threads };
}
