/**
 * Ensemble bands of `predict`: per model, the mean (p_<model>) and the standard deviation
 * (sd_<model>) across its members' probabilities at each cell. The sd is the sample sd (n − 1),
 * 0 for a one-member ensemble; nodata (NaN) in any member gives NaN (members share windows, so
 * they are nodata at the same cells). Accumulated in float64, written as float32.
 */
export function ensembleMeanSd(members: readonly Float32Array[]): { mean: Float32Array; sd: Float32Array } {
  const n = members.length;
  const len = members[0]?.length ?? 0;
  const mean = new Float32Array(len);
  const sd = new Float32Array(len);
  for (let i = 0; i < len; i++) {
    let s = 0;
    for (let m = 0; m < n; m++) s += members[m][i];
    const mu = s / n;
    let ss = 0;
    for (let m = 0; m < n; m++) ss += (members[m][i] - mu) ** 2;
    mean[i] = mu;
    sd[i] = n > 1 ? Math.sqrt(ss / (n - 1)) : Number.isNaN(mu) ? NaN : 0;
  }
  return { mean, sd };
}

/** Splits per-member arrays (in the order of `groups` flattened) into each group's mean and sd. */
export function groupMeanSd(groups: readonly number[][], probs: readonly Float32Array[]): { means: Float32Array[]; sds: Float32Array[] } {
  const means: Float32Array[] = [];
  const sds: Float32Array[] = [];
  for (const g of groups) {
    const r = ensembleMeanSd(g.map((i) => probs[i]));
    means.push(r.mean);
    sds.push(r.sd);
  }
  return { means, sds };
}
