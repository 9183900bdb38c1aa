import { InvalidOptionError } from '../errors.ts';

/**
 * Variogram models in gstat's parameterisation: γ(h) = nugget + psill · f(h / rangeM) for h > 0
 * and γ(0) = 0.
 *
 * What "range" means differs between programs, so it is spelled out per model:
 * - `sph` spherical: f(r) = 1.5r − 0.5r³ for r < 1, else 1. The range is where the sill is reached.
 * - `exp` exponential: f(r) = 1 − exp(−r). `rangeM` is gstat's a; the *practical* range (95 % of
 *   the sill), which GSLIB/KT3D and PyKrige call "range", is 3a.
 * - `gau` gaussian: f(r) = 1 − exp(−r²). `rangeM` is gstat's a; the practical range is √3·a.
 * - `nug` pure nugget: f(r) = 1 for every h > 0 (psill and range are ignored; use nugget).
 *
 * Geometric anisotropy follows gstat's 2-D `anis = c(angle, ratio)`: the major axis points
 * `angleDeg` degrees clockwise from north and carries `rangeM`; the minor axis carries
 * `ratio · rangeM`.
 */
export type ModelType = 'sph' | 'exp' | 'gau' | 'nug';

export const MODEL_TYPES: readonly ModelType[] = ['sph', 'exp', 'gau', 'nug'];

export interface Anisotropy {
  /** Direction of the major axis, degrees clockwise from north. */
  readonly angleDeg: number;
  /** Minor range / major range, in (0, 1]. */
  readonly ratio: number;
}

export interface VariogramModel {
  readonly type: ModelType;
  readonly nugget: number;
  /** Partial sill of the structure (total sill = nugget + psill). */
  readonly psill: number;
  /** Range parameter in metres (gstat's: a for exp and gau; see the module comment). */
  readonly rangeM: number;
  readonly anisotropy?: Anisotropy;
}

/** Correlation part f(r) of the structure: γ(h) = nugget + psill · structure(h / range). */
export function structure(type: ModelType, r: number): number {
  switch (type) {
    case 'sph':
      return r >= 1 ? 1 : r * (1.5 - 0.5 * r * r);
    case 'exp':
      return 1 - Math.exp(-r);
    case 'gau':
      return 1 - Math.exp(-r * r);
    case 'nug':
      return 1;
  }
}

/** γ(h) for an (anisotropy-reduced) distance h ≥ 0. */
export function semivariance(m: VariogramModel, h: number): number {
  if (h === 0) return 0;
  if (m.type === 'nug') return m.nugget + m.psill;
  return m.nugget + m.psill * structure(m.type, h / m.rangeM);
}

export function totalSill(m: VariogramModel): number {
  return m.nugget + m.psill;
}

/**
 * A covariance function C(h) = sill − γ(h) specialised per model (the inner loop of kriging
 * calls it k² times per cell, so the switch is taken once here, not per call).
 */
export function covarianceFunction(m: VariogramModel): (h: number) => number {
  const sill = m.nugget + m.psill;
  const p = m.psill;
  const inv = 1 / m.rangeM;
  switch (m.type) {
    case 'sph':
      return (h) => {
        if (h === 0) return sill;
        const r = h * inv;
        return r >= 1 ? 0 : p * (1 - r * (1.5 - 0.5 * r * r));
      };
    case 'exp':
      return (h) => (h === 0 ? sill : p * Math.exp(-h * inv));
    case 'gau':
      return (h) => {
        if (h === 0) return sill;
        const r = h * inv;
        return p * Math.exp(-r * r);
      };
    case 'nug':
      return (h) => (h === 0 ? sill : 0);
  }
}

/** Throws InvalidOptionError unless the model is a valid (positive semi-definite) one. */
export function validateModel(m: VariogramModel, what = 'variogram model'): void {
  const bad = (msg: string): never => {
    throw new InvalidOptionError(`${what}: ${msg} (got ${describeModel(m)})`, { model: m });
  };
  if (!MODEL_TYPES.includes(m.type)) bad(`type must be one of ${MODEL_TYPES.join(', ')}`);
  if (!(Number.isFinite(m.nugget) && m.nugget >= 0)) bad('nugget must be a finite number ≥ 0');
  if (!(Number.isFinite(m.psill) && m.psill >= 0)) bad('partial sill must be a finite number ≥ 0');
  if (m.type !== 'nug' && !(Number.isFinite(m.rangeM) && m.rangeM > 0)) bad('range must be a finite number > 0 metres');
  if (m.nugget + m.psill <= 0) bad('total sill (nugget + partial sill) must be > 0');
  if (m.anisotropy) {
    const { angleDeg, ratio } = m.anisotropy;
    if (!Number.isFinite(angleDeg)) bad('anisotropy angle must be finite (degrees clockwise from north)');
    if (!(ratio > 0 && ratio <= 1)) bad('anisotropy ratio (minor/major range) must be in (0, 1]');
  }
}

export function describeModel(m: VariogramModel): string {
  const fmt = (v: number): string => (Number.isFinite(v) ? Number(v.toPrecision(6)).toString() : String(v));
  const anis = m.anisotropy && m.anisotropy.ratio !== 1 ? ` anis ${fmt(m.anisotropy.angleDeg)}°/${fmt(m.anisotropy.ratio)}` : '';
  return `${m.type}:${fmt(m.nugget)}:${fmt(m.psill)}:${fmt(m.rangeM)}${anis}`;
}

/**
 * Parses `MODEL:NUGGET:PSILL:RANGE[:ANGLE:RATIO]` in gstat's parameterisation, e.g.
 * `sph:0.05:0.59:897` (for `exp`/`gau` RANGE is gstat's a, not the practical range).
 */
export function parseVariogramSpec(text: string): VariogramModel {
  const parts = text.trim().split(':');
  const usage =
    'Expected MODEL:NUGGET:PSILL:RANGE[:ANGLE:RATIO] with MODEL one of sph, exp, gau, nug, e.g. "sph:0.05:0.59:897" ' +
    '(range in metres; for exp and gau gstat\'s a = practical range / 3 resp. / √3)';
  if (parts.length !== 4 && parts.length !== 6) throw new InvalidOptionError(`variogram "${text}": ${usage}`, { spec: text });
  const type = parts[0].toLowerCase() as ModelType;
  if (!MODEL_TYPES.includes(type)) throw new InvalidOptionError(`variogram "${text}": unknown model "${parts[0]}". ${usage}`, { spec: text });
  const nums = parts.slice(1).map(Number);
  if (nums.some((v) => !Number.isFinite(v))) throw new InvalidOptionError(`variogram "${text}": every parameter must be a number. ${usage}`, { spec: text });
  const model: VariogramModel = {
    type,
    nugget: nums[0],
    psill: nums[1],
    rangeM: type === 'nug' && !(nums[2] > 0) ? 1 : nums[2],
    ...(parts.length === 6 ? { anisotropy: { angleDeg: nums[3], ratio: nums[4] } } : {}),
  };
  validateModel(model, `variogram "${text}"`);
  return model;
}

/**
 * Linear map taking coordinates into the space where the anisotropic distance is Euclidean:
 * u = component along the major axis, v = component along the minor axis divided by the ratio
 * (the GSLIB/gstat construction for 2-D geometric anisotropy).
 */
export function anisotropyTransform(a: Anisotropy | undefined): ((dx: number, dy: number) => [number, number]) | null {
  if (!a || (a.ratio === 1)) return null;
  const t = (a.angleDeg * Math.PI) / 180;
  const s = Math.sin(t);
  const c = Math.cos(t);
  const invRatio = 1 / a.ratio;
  return (dx, dy) => [dx * s + dy * c, (dx * c - dy * s) * invRatio];
}
