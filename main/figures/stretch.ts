/**
 * Value → [0, 1] stretches for display, shared by the map renderer and figure exports.
 * 'minmax' uses the finite extremes, 'percentile' clips at the given lower/upper percentiles
 * (robust to outliers, the default for element maps), 'log' maps log10 between positive
 * extremes (for concentrations spanning decades). NaN stays NaN (drawn transparent).
 */
export type StretchKind = 'minmax' | 'percentile' | 'log';

export interface Stretch {
  readonly kind: StretchKind;
  readonly min: number;
  readonly max: number;
}

export interface StretchOptions {
  readonly kind?: StretchKind;
  /** @default [2, 98] */
  readonly percentiles?: readonly [number, number];
  /** Fixed limits override the data (e.g. 0–1 for probabilities). */
  readonly fixed?: readonly [number, number];
}

function finiteSorted(values: ArrayLike<number>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) out.push(values[i]);
  return Float64Array.from(out).sort();
}

export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

export function computeStretch(values: ArrayLike<number>, options: StretchOptions = {}): Stretch {
  const kind = options.kind ?? 'percentile';
  if (options.fixed) return { kind: kind === 'log' ? 'log' : 'minmax', min: options.fixed[0], max: options.fixed[1] };
  const s = finiteSorted(values);
  if (s.length === 0) return { kind, min: 0, max: 1 };
  if (kind === 'minmax') return { kind, min: s[0], max: s[s.length - 1] };
  if (kind === 'log') {
    let i = 0;
    while (i < s.length && s[i] <= 0) i++;
    const min = i < s.length ? s[i] : 1e-6;
    return { kind, min, max: Math.max(min * 10, s[s.length - 1]) };
  }
  const [lo, hi] = options.percentiles ?? [2, 98];
  return { kind, min: quantileSorted(s, lo / 100), max: quantileSorted(s, hi / 100) };
}

/** Position of v in the stretch, in [0, 1] (clamped); NaN for NaN. */
export function applyStretch(s: Stretch, v: number): number {
  if (!Number.isFinite(v)) return NaN;
  let t: number;
  if (s.kind === 'log') t = (Math.log10(Math.max(v, s.min)) - Math.log10(s.min)) / (Math.log10(s.max) - Math.log10(s.min));
  else t = s.max > s.min ? (v - s.min) / (s.max - s.min) : 0.5;
  return Math.min(1, Math.max(0, t));
}

/** Value at legend position t (inverse of applyStretch). */
export function stretchValueAt(s: Stretch, t: number): number {
  if (s.kind === 'log') return Math.pow(10, Math.log10(s.min) + t * (Math.log10(s.max) - Math.log10(s.min)));
  return s.min + t * (s.max - s.min);
}

/** "Nice" tick values (1, 2, 5 × 10^k steps) between min and max. */
export function niceTicks(min: number, max: number, target = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / target;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}
