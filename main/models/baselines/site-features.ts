/**
 * Per-site features of the logistic-regression and random-forest baselines, computed from the
 * same transformed k×k×C windows the networks see (training patches and map windows share one
 * layout, [py][px][band] row-major): for every band its centre value, its window mean and its
 * window (population) sd, i.e. 3·C features per window, ordered [centres…, means…, sds…].
 */

export function featureNames(bandNames: readonly string[]): string[] {
  return [...bandNames.map((b) => `${b}_centre`), ...bandNames.map((b) => `${b}_mean`), ...bandNames.map((b) => `${b}_sd`)];
}

/** Features of windows `idx` (or all `n`) of `x`: Float64Array [rows × 3C] row-major. */
export function windowFeatures(x: Float32Array, k: number, channels: number, idx: readonly number[]): Float64Array {
  const C = channels;
  const size = k * k * C;
  const centre = ((k * k - 1) / 2) * C;
  const out = new Float64Array(idx.length * 3 * C);
  const sum = new Float64Array(C);
  const sq = new Float64Array(C);
  const cells = k * k;
  idx.forEach((s, row) => {
    const base = s * size;
    sum.fill(0);
    sq.fill(0);
    for (let cell = 0; cell < cells; cell++) {
      const o = base + cell * C;
      for (let b = 0; b < C; b++) {
        const v = x[o + b];
        sum[b] += v;
        sq[b] += v * v;
      }
    }
    const r = row * 3 * C;
    for (let b = 0; b < C; b++) {
      const mean = sum[b] / cells;
      out[r + b] = x[base + centre + b];
      out[r + C + b] = mean;
      out[r + 2 * C + b] = Math.sqrt(Math.max(0, sq[b] / cells - mean * mean));
    }
  });
  return out;
}

/** Centre values of windows `idx`: Float64Array [rows × C]. */
export function centreValues(x: Float32Array, k: number, channels: number, idx: readonly number[]): Float64Array {
  const size = k * k * channels;
  const centre = ((k * k - 1) / 2) * channels;
  const out = new Float64Array(idx.length * channels);
  idx.forEach((s, row) => {
    for (let b = 0; b < channels; b++) out[row * channels + b] = x[s * size + centre + b];
  });
  return out;
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
