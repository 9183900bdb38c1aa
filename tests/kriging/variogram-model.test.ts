import { describe, expect, it } from 'vitest';
import { anisotropyTransform, covarianceFunction, parseVariogramSpec, semivariance, validateModel } from '../../main/kriging/variogram-model.ts';
import { InvalidOptionError } from '../../main/errors.ts';

// Reference formulas: gstat's vgm() model definitions (gstat manual, "vgm"; Pebesma 2004),
// e.g. Sph: γ(h) = c·(1.5 h/a − 0.5 (h/a)³) for h < a; Exp: c·(1 − e^(−h/a)); Gau: c·(1 − e^(−(h/a)²)).
describe('variogram models (gstat parameterisation)', () => {
  it('parses the issue example sph:0.05:0.59:897 as nugget 0.05, partial sill 0.59, range 897 m', () => {
    expect(parseVariogramSpec('sph:0.05:0.59:897')).toEqual({ type: 'sph', nugget: 0.05, psill: 0.59, rangeM: 897 });
    expect(parseVariogramSpec('EXP:0:500:1000:30:0.5')).toEqual({ type: 'exp', nugget: 0, psill: 500, rangeM: 1000, anisotropy: { angleDeg: 30, ratio: 0.5 } });
  });

  it('rejects malformed specs and invalid models with InvalidOptionError naming the problem', () => {
    expect(() => parseVariogramSpec('sph:0.05:0.59')).toThrow(InvalidOptionError);
    expect(() => parseVariogramSpec('cubic:0:1:100')).toThrow(/unknown model "cubic"/);
    expect(() => parseVariogramSpec('sph:-1:1:100')).toThrow(/nugget must be/);
    expect(() => parseVariogramSpec('sph:0:1:0')).toThrow(/range must be/);
    expect(() => parseVariogramSpec('sph:0:1:100:30:1.5')).toThrow(/ratio/);
    expect(() => validateModel({ type: 'gau', nugget: 0, psill: 0, rangeM: 10 })).toThrow(/total sill/);
  });

  it('evaluates textbook values (exact to 1e-15 relative)', () => {
    const sph = { type: 'sph' as const, nugget: 0.1, psill: 1, rangeM: 100 };
    expect(semivariance(sph, 0)).toBe(0);
    expect(semivariance(sph, 50)).toBeCloseTo(0.1 + (1.5 * 0.5 - 0.5 * 0.125), 15);
    expect(semivariance(sph, 100)).toBeCloseTo(1.1, 15);
    expect(semivariance(sph, 250)).toBeCloseTo(1.1, 15);
    // Exponential: gstat's a; the practical range 3a reaches 1 − e⁻³ ≈ 95 % of the sill.
    const exp = { type: 'exp' as const, nugget: 0, psill: 500, rangeM: 1000 };
    expect(semivariance(exp, 3000) / 500).toBeCloseTo(1 - Math.exp(-3), 15);
    const gau = { type: 'gau' as const, nugget: 0.2, psill: 0.8, rangeM: 10 };
    expect(semivariance(gau, 10)).toBeCloseTo(0.2 + 0.8 * (1 - Math.exp(-1)), 15);
  });

  it('covariance is sill − γ(h), with the full sill at h = 0 (exact interpolator)', () => {
    for (const m of [
      { type: 'sph' as const, nugget: 0.1, psill: 1, rangeM: 100 },
      { type: 'exp' as const, nugget: 0.3, psill: 2, rangeM: 40 },
      { type: 'gau' as const, nugget: 0, psill: 1, rangeM: 25 },
      { type: 'nug' as const, nugget: 1, psill: 0, rangeM: 1 },
    ]) {
      const c = covarianceFunction(m);
      for (const h of [0, 1e-9, 3, 30, 99.9, 100, 400]) expect(c(h)).toBeCloseTo(m.nugget + m.psill - semivariance(m, h), 14);
    }
  });

  it('anisotropy: a lag along the major axis keeps its length, along the minor axis grows by 1/ratio', () => {
    const t = anisotropyTransform({ angleDeg: 30, ratio: 0.5 })!;
    const rad = (30 * Math.PI) / 180;
    const major = t(100 * Math.sin(rad), 100 * Math.cos(rad));
    expect(Math.hypot(...major)).toBeCloseTo(100, 10);
    const minor = t(100 * Math.cos(rad), -100 * Math.sin(rad));
    expect(Math.hypot(...minor)).toBeCloseTo(200, 10);
    expect(anisotropyTransform({ angleDeg: 30, ratio: 1 })).toBeNull();
  });
});
