/**
 * Spatial feature of the anomaly score: an anomalous grain stands out against its surroundings,
 * a noisy background pixel stands out against nothing. The contrast of a pixel is its score minus
 * the median score of the ring between a 3×3 guard and a 7×7 outer window (a median, so one
 * anomalous neighbour does not raise the reference). Scores are first rank-normalised to [0, 1]
 * so the fusion is scale-free: fused = (1 − β)·rank(s) + β·rank(contrast).
 */
export function spatialContrast(scores: Float32Array, rows: number, cols: number, weight: number): Float32Array {
  if (weight === 0) return Float32Array.from(scores);
  const n = rows * cols;
  const contrast = new Float32Array(n);
  const ring: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      ring.length = 0;
      for (let dr = -3; dr <= 3; dr++) {
        for (let dc = -3; dc <= 3; dc++) {
          if (Math.abs(dr) <= 1 && Math.abs(dc) <= 1) continue;
          const rr = r + dr, cc = c + dc;
          if (rr < 0 || cc < 0 || rr >= rows || cc >= cols) continue;
          ring.push(scores[rr * cols + cc]);
        }
      }
      ring.sort((a, b) => a - b);
      const med = ring.length % 2 ? ring[(ring.length - 1) / 2] : 0.5 * (ring[ring.length / 2 - 1] + ring[ring.length / 2]);
      contrast[r * cols + c] = scores[r * cols + c] - med;
    }
  }
  const a = ranks(scores);
  const b = ranks(contrast);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (1 - weight) * a[i] + weight * b[i];
  return out;
}

/** Average ranks scaled to [0, 1] (ties share their mean rank). */
export function ranks(v: Float32Array): Float32Array {
  const n = v.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => v[x] - v[y]);
  const out = new Float32Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && v[order[j + 1]] === v[order[i]]) j++;
    const rank = (i + j) / 2 / Math.max(1, n - 1);
    for (let k = i; k <= j; k++) out[order[k]] = rank;
    i = j + 1;
  }
  return out;
}
