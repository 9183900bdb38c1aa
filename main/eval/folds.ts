import { InvalidOptionError, WorkbenchError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import { studentTQuantile } from './student-t.ts';

/**
 * Cross-validation folds grouped by site and stratified by class, and the summary of per-fold
 * scores (mean ± sd, 95% t interval).
 *
 * Why grouped: a training site is a 3×3 block of cells whose patches overlap and differ by a
 * one-cell shift; putting some of them in training and the rest in validation (the reference
 * code's random patch split) leaks near-copies and inflates every score. Every member of a
 * group therefore lands in the same fold. sklearn's StratifiedGroupKFold does the same job with a
 * different (greedy, not seeded per class) assignment; we want a stronger, checkable guarantee:
 * per class, fold group counts differ by at most one.
 */

/** Fewer groups of a class than folds: some test fold would have none of that class. */
export class TooFewGroupsError extends WorkbenchError {}

/** A group whose members carry different labels cannot be stratified by its label. */
export class MixedGroupLabelError extends WorkbenchError {}

export interface Fold {
  /** Sample indices used for training, ascending. */
  readonly train: number[];
  /** Sample indices held out, ascending. */
  readonly test: number[];
}

interface GroupInfo {
  readonly id: string;
  readonly label: number;
  readonly members: number[];
}

function collectGroups(labels: ArrayLike<number>, groups: readonly string[]): GroupInfo[] {
  if (labels.length !== groups.length) {
    throw new InvalidOptionError(
      `grouped folds: ${labels.length} labels but ${groups.length} group ids; expected one group id (siteId) per sample.`,
    );
  }
  const byId = new Map<string, { label: number; members: number[] }>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label !== 0 && label !== 1) {
      throw new InvalidOptionError(`grouped folds: label ${i} is ${String(label)}; expected 0 or 1.`);
    }
    const id = groups[i];
    const g = byId.get(id);
    if (!g) byId.set(id, { label, members: [i] });
    else {
      if (g.label !== label) {
        throw new MixedGroupLabelError(
          `grouped folds: group "${id}" holds samples labelled ${g.label} and ${label}; every sample of a site must ` +
            'carry the site\'s label. Split the site into a positive and a negative site or fix the labels.',
          { group: id, sample: i },
        );
      }
      g.members.push(i);
    }
  }
  // Sort by id so that the input order of samples does not change the folds for a given seed.
  return [...byId.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([id, g]) => ({ id, label: g.label, members: g.members }));
}

/**
 * k folds in which every group (site) lies wholly in one test fold, stratified by the group's
 * label: for each class, the number of its groups in any two test folds differs by at most one.
 * Seeded: the same labels, groups, k and seed give the same folds.
 *
 * Assignment, class by class: the class's groups are shuffled with the seed, then taken in
 * order of decreasing size (stable, so equal sizes keep the shuffled order) and each placed in
 * the fold that has the fewest groups of that class, ties broken by the fewest samples so far,
 * then by a seeded random order of the folds.
 */
export function groupedStratifiedKFold(labels: ArrayLike<number>, groups: readonly string[], k: number, seed: number): Fold[] {
  if (!Number.isInteger(k) || k < 2) throw new InvalidOptionError(`grouped folds: k = ${k}; expected an integer ≥ 2.`);
  if (!Number.isInteger(seed)) throw new InvalidOptionError(`grouped folds: seed = ${seed}; expected an integer.`);
  const all = collectGroups(labels, groups);
  const rng = new Rng(seed);
  const foldOf = new Int32Array(labels.length);
  const foldSamples = new Array<number>(k).fill(0);
  for (const cls of [1, 0]) {
    const own = all.filter((g) => g.label === cls);
    if (own.length < k) {
      throw new TooFewGroupsError(
        `grouped folds: k = ${k} folds but only ${own.length} group(s) (sites) of class ${cls}; every test fold needs ` +
          `at least one site of each class. Use k ≤ ${own.length} or add sites of class ${cls}.`,
        { k, class: cls, groups: own.length },
      );
    }
    rng.shuffle(own);
    own.sort((a, b) => b.members.length - a.members.length);
    const foldGroups = new Array<number>(k).fill(0);
    const tieOrder = rng.shuffle([...Array(k).keys()]);
    for (const g of own) {
      let best = -1;
      for (const f of tieOrder) {
        if (
          best < 0 ||
          foldGroups[f] < foldGroups[best] ||
          (foldGroups[f] === foldGroups[best] && foldSamples[f] < foldSamples[best])
        ) {
          best = f;
        }
      }
      foldGroups[best]++;
      foldSamples[best] += g.members.length;
      for (const i of g.members) foldOf[i] = best;
    }
  }
  const folds: Fold[] = [];
  for (let f = 0; f < k; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < labels.length; i++) (foldOf[i] === f ? test : train).push(i);
    folds.push({ train, test });
  }
  return folds;
}

export interface Summary {
  readonly mean: number;
  /** Sample standard deviation (n − 1 in the denominator). */
  readonly sd: number;
  /** 95% confidence interval of the mean: mean ± t(0.975, n − 1) · sd / √n. */
  readonly ci95: [number, number];
  readonly n: number;
}

/** Mean, sample sd and 95% t interval of per-fold (or per-repeat) scores. Needs n ≥ 2 finite values. */
export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n < 2) {
    throw new InvalidOptionError(
      `summary: ${n} value(s); a standard deviation and confidence interval need at least 2. Use k ≥ 2 folds.`,
    );
  }
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new InvalidOptionError(`summary: value ${i} is ${v}; expected finite numbers.`);
  });
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  const sd = Math.sqrt(ss / (n - 1));
  const half = (studentTQuantile(0.975, n - 1) * sd) / Math.sqrt(n);
  return { mean, sd, ci95: [mean - half, mean + half], n };
}
