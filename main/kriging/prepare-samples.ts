import { EmptyInputError, InvalidOptionError, WorkbenchError } from '../errors.ts';
import type { JobContext } from '../jobs/job.ts';
import { report, throwIfCancelled } from '../jobs/job.ts';
import { experimentalVariograms, type ExperimentalVariogram } from './experimental-variogram.ts';
import { fitBestVariogram, fitVariogram, type FittedVariogram } from './fit-variogram.ts';
import type { CheckedKrigeOptions } from './krige-options.ts';
import type { VariogramModel } from './variogram-model.ts';

/** Point samples to krige: coordinates in a projected CRS (metres) and one array per variable (NaN = missing). */
export interface SampleInput {
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly fields: readonly { readonly name: string; readonly values: Float64Array }[];
  /** For messages (the sample file). */
  readonly source?: string;
}

/** Two or more samples at identical coordinates, refused when `duplicates: 'error'`. */
export class CoincidentPointsError extends WorkbenchError {}

export interface FieldModel {
  readonly name: string;
  readonly model: VariogramModel;
  /** The fit, when the model was fitted (null when fixed by the user). */
  readonly fit: (FittedVariogram & { readonly experimental: ExperimentalVariogram; readonly candidates?: FittedVariogram[] }) | null;
  /** Valid (finite) samples of this variable after merging duplicates. */
  readonly pointCount: number;
  readonly log: boolean;
}

/** Variables kriged together: same valid points, same anisotropy (and one per variable in global mode). */
export interface PreparedGroup {
  /** Indices into PreparedKriging.x/y. */
  readonly pointIndex: Int32Array;
  readonly fields: { readonly fieldIndex: number; readonly name: string; readonly z: Float64Array; readonly model: VariogramModel }[];
}

/** Everything the prediction workers need, as plain structured-clone data. */
export interface PreparedKriging {
  /** Coordinates were centred on this point (large UTM values cost precision). */
  readonly origin: { readonly x: number; readonly y: number };
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly groups: PreparedGroup[];
  readonly fieldModels: FieldModel[];
  /** Samples removed by averaging coincident points. */
  readonly mergedDuplicates: number;
  readonly options: CheckedKrigeOptions;
}

/** Averages samples at identical coordinates; per variable the mean of its finite values. */
export function mergeCoincidentPoints(input: SampleInput, mode: 'average' | 'error'): { x: Float64Array; y: Float64Array; values: Float64Array[]; merged: number } {
  const n = input.x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => input.x[a] - input.x[b] || input.y[a] - input.y[b] || a - b);
  const groups: number[][] = [];
  for (const i of order) {
    const last = groups[groups.length - 1];
    if (last && input.x[last[0]] === input.x[i] && input.y[last[0]] === input.y[i]) last.push(i);
    else groups.push([i]);
  }
  const merged = n - groups.length;
  if (merged > 0 && mode === 'error') {
    const g = groups.find((q) => q.length > 1)!;
    throw new CoincidentPointsError(
      `${input.source ?? 'samples'}: ${merged} sample(s) share coordinates with another (first: rows ${g.map((i) => i + 1).join(', ')} at ` +
        `${input.x[g[0]]}, ${input.y[g[0]]}), which makes the kriging system singular. Average them (duplicates: 'average') or remove them.`,
      { merged, firstRows: g.map((i) => i + 1) },
    );
  }
  // Keep the original order of first occurrences so results do not depend on the sort.
  groups.sort((a, b) => Math.min(...a) - Math.min(...b));
  const x = Float64Array.from(groups, (g) => input.x[g[0]]);
  const y = Float64Array.from(groups, (g) => input.y[g[0]]);
  const values = input.fields.map((f) =>
    Float64Array.from(groups, (g) => {
      let s = 0, c = 0;
      for (const i of g) if (Number.isFinite(f.values[i])) { s += f.values[i]; c++; }
      return c > 0 ? s / c : NaN;
    }),
  );
  return { x, y, values, merged };
}

function fixedModelFor(options: CheckedKrigeOptions, name: string): VariogramModel | null {
  const v = options.variogram;
  if (!v) return null;
  if ('type' in v && typeof v.type === 'string') return v as VariogramModel;
  const m = (v as Record<string, VariogramModel>)[name];
  if (!m) throw new InvalidOptionError(`no fixed variogram given for variable "${name}" (given for: ${Object.keys(v).join(', ')})`);
  return m;
}

/** Validates samples, merges duplicates, log-transforms, fits variograms and groups the variables. */
export function prepareKriging(input: SampleInput, options: CheckedKrigeOptions, ctx?: JobContext): PreparedKriging {
  const src = input.source ?? 'samples';
  const n0 = input.x.length;
  if (input.y.length !== n0 || input.fields.some((f) => f.values.length !== n0)) throw new InvalidOptionError('x, y and every variable must have one value per sample');
  if (input.fields.length === 0) throw new InvalidOptionError('no variable to krige (give at least one field)');
  for (let i = 0; i < n0; i++) {
    if (!Number.isFinite(input.x[i]) || !Number.isFinite(input.y[i])) {
      throw new InvalidOptionError(`${src}: sample ${i + 1} has non-finite coordinates (${input.x[i]}, ${input.y[i]}); fix or drop the row`, { row: i + 1 });
    }
  }
  const m = mergeCoincidentPoints(input, options.duplicates);
  const n = m.x.length;
  let ox = 0, oy = 0;
  for (let i = 0; i < n; i++) { ox += m.x[i]; oy += m.y[i]; }
  ox /= n; oy /= n;
  const x = Float64Array.from(m.x, (v) => v - ox);
  const y = Float64Array.from(m.y, (v) => v - oy);
  const z = m.values.map((v, fi) => {
    const name = input.fields[fi].name;
    let valid = 0;
    for (const val of v) if (Number.isFinite(val)) valid++;
    if (valid < 2) throw new EmptyInputError(src, `variable "${name}" has ${valid} valid value(s); kriging needs at least 2`, 'Drop the variable or supply more samples', { variable: name });
    if (!options.log) return v;
    let bad = 0, min = Infinity;
    for (const val of v) if (Number.isFinite(val) && val <= 0) { bad++; min = Math.min(min, val); }
    if (bad > 0) {
      throw new InvalidOptionError(`${src}: --log needs positive values but "${name}" has ${bad} value(s) ≤ 0 (smallest ${min}). Remove or replace them, or krige without --log.`, { variable: name, nonPositive: bad });
    }
    return Float64Array.from(v, Math.log);
  });
  // Variograms: one pair pass for every variable that needs a fit.
  const toFit = input.fields.map((f, i) => (fixedModelFor(options, f.name) ? -1 : i)).filter((i) => i >= 0);
  let experimental: ExperimentalVariogram[] = [];
  if (toFit.length > 0) {
    report(ctx, 0, `experimental variograms of ${toFit.length} variable(s)`);
    experimental = experimentalVariograms(x, y, toFit.map((i) => z[i]), options.variogramOptions, ctx).map((v) => v[0]);
  }
  throwIfCancelled(ctx, 'variogram fit');
  const fieldModels: FieldModel[] = input.fields.map((f, i) => {
    const pointCount = z[i].reduce((c, v) => c + (Number.isFinite(v) ? 1 : 0), 0);
    const fixed = fixedModelFor(options, f.name);
    if (fixed) return { name: f.name, model: fixed, fit: null, pointCount, log: options.log };
    const ev = experimental[toFit.indexOf(i)];
    try {
      const fit = options.model === 'auto' ? fitBestVariogram(ev) : fitVariogram(ev, options.model);
      return { name: f.name, model: fit.model, fit: { ...fit, experimental: ev }, pointCount, log: options.log };
    } catch (e) {
      if (e instanceof WorkbenchError) e.message = `variable "${f.name}": ${e.message}`;
      throw e;
    }
  });
  report(ctx, 1, 'variograms fitted');
  // Group variables that share valid points and anisotropy (global kriging: one group each,
  // since each needs its own n×n factorisation anyway and whole variables balance across workers).
  const global = options.nmax >= n && options.maxDistM === Infinity;
  const groups: PreparedGroup[] = [];
  const byKey = new Map<string, PreparedGroup>();
  fieldModels.forEach((fm, fi) => {
    const mask: number[] = [];
    for (let i = 0; i < n; i++) if (Number.isFinite(z[fi][i])) mask.push(i);
    const a = fm.model.anisotropy;
    const key = global ? `field${fi}` : `${a?.angleDeg ?? 0}/${a?.ratio ?? 1}/${mask.length}/${hashIndices(mask)}`;
    let g = byKey.get(key);
    if (!g || g.pointIndex.length !== mask.length || g.pointIndex.some((v, k) => v !== mask[k])) {
      g = { pointIndex: Int32Array.from(mask), fields: [] };
      byKey.set(key, g);
      groups.push(g);
    }
    g.fields.push({ fieldIndex: fi, name: fm.name, z: Float64Array.from(mask, (i) => z[fi][i]), model: fm.model });
  });
  return { origin: { x: ox, y: oy }, x, y, groups, fieldModels, mergedDuplicates: m.merged, options };
}

function hashIndices(a: readonly number[]): number {
  let h = 2166136261;
  for (const v of a) h = Math.imul(h ^ v, 16777619) >>> 0;
  return h;
}
