import { InvalidOptionError } from '../errors.ts';
import type { JobContext } from '../jobs/job.ts';
import { report, throwIfCancelled } from '../jobs/job.ts';
import { Rng } from '../util/rng.ts';
import { makeCube, type SpectralCube } from './cube.ts';

/**
 * Synthetic micro-XRF sample (the workflow's embedded demo and the generator for tests and
 * benchmarks): a thin section of Voronoi grains of a few rock-forming phases, scanned pixel by
 * pixel; each pixel's spectrum is the area-weighted mix of the phases it covers (so grain
 * boundaries give mixed pixels), drawn with Poisson counting noise. Rare inclusions of an
 * anomalous phase (chalcopyrite, CuFeS₂, by default) are discs with radii from a fraction of a
 * pixel to ~1.5 pixels: most are sub-pixel and appear only as a partial Cu/S signal.
 *
 * Spectra: K-lines (Kα + Kβ at 12 % of Kα) with Gaussian detector peaks, σ(E) = 0.045 + 0.009·E keV
 * (about 135 eV FWHM at Mn Kα, a typical SDD), on a weak bremsstrahlung continuum ∝ (E₀ − E)/E.
 */

/** Kα and Kβ energies in keV (Bearden 1967). */
const LINES_KEV: Record<string, [number, number]> = {
  Na: [1.041, 1.071], Mg: [1.254, 1.302], Al: [1.487, 1.557], Si: [1.740, 1.836], S: [2.308, 2.464],
  K: [3.314, 3.590], Ca: [3.692, 4.013], Ti: [4.511, 4.932], Fe: [6.404, 7.058], Cu: [8.048, 8.905], Zn: [8.639, 9.572],
};

export interface Phase {
  readonly name: string;
  /** Relative line intensities per element (counts share of the Kα line, before scaling). */
  readonly lines: Readonly<Record<string, number>>;
}

/** Default background phases of a granitoid thin section, with their area proportions. */
export const DEFAULT_PHASES: readonly (Phase & { proportion: number })[] = [
  { name: 'quartz', proportion: 0.35, lines: { Si: 1.0 } },
  { name: 'K-feldspar', proportion: 0.25, lines: { K: 0.55, Al: 0.3, Si: 0.75 } },
  { name: 'plagioclase', proportion: 0.25, lines: { Na: 0.2, Ca: 0.35, Al: 0.4, Si: 0.7 } },
  { name: 'biotite', proportion: 0.15, lines: { K: 0.35, Fe: 0.6, Mg: 0.25, Al: 0.3, Si: 0.5, Ti: 0.1 } },
];
export const DEFAULT_ANOMALY: Phase = { name: 'chalcopyrite', lines: { Cu: 0.7, Fe: 0.55, S: 0.6 } };

export interface SyntheticOptions {
  /** Image size in pixels. Defaults 128 × 128. */
  readonly rows?: number;
  readonly cols?: number;
  /** Energy channels between minKeV and maxKeV. Default 100 over 0.8–10 keV. */
  readonly channels?: number;
  readonly minKeV?: number;
  readonly maxKeV?: number;
  /** Mean grain diameter in pixels. Default 12. */
  readonly grainSizePx?: number;
  /** Number of anomalous inclusions. Default ⌈rows·cols / 700⌉ (≈ 23 on 128 × 128). */
  readonly inclusions?: number;
  /** Inclusion radius range in pixels. Default 0.25 … 1.5. */
  readonly inclusionRadiusPx?: readonly [number, number];
  /** Expected total counts per pixel (dwell time × count rate). Default 3000. */
  readonly countsPerPixel?: number;
  /** Per-grain relative composition jitter (sd). Default 0.08. */
  readonly compositionJitter?: number;
  /** A pixel is an anomaly in the truth mask when the anomalous phase covers at least this fraction. Default 0.1. */
  readonly truthFraction?: number;
  /** Sub-samples per pixel side for area mixing. Default 4 (16 per pixel). */
  readonly supersample?: number;
  readonly phases?: readonly (Phase & { proportion: number })[];
  readonly anomaly?: Phase;
  readonly seed?: number;
}

export interface SyntheticSample {
  readonly cube: SpectralCube;
  /** Anomalous-phase area fraction per pixel (0 … 1). */
  readonly anomalyFraction: Float32Array;
  /** Dominant background phase index per pixel. */
  readonly phaseMap: Uint8Array;
  readonly phaseNames: string[];
  readonly energiesKeV: Float64Array;
}

function check(o: SyntheticOptions): Required<SyntheticOptions> {
  const rows = o.rows ?? 128;
  const cols = o.cols ?? 128;
  const r: Required<SyntheticOptions> = {
    rows, cols,
    channels: o.channels ?? 100,
    minKeV: o.minKeV ?? 0.8,
    maxKeV: o.maxKeV ?? 10,
    grainSizePx: o.grainSizePx ?? 12,
    inclusions: o.inclusions ?? Math.ceil((rows * cols) / 700),
    inclusionRadiusPx: o.inclusionRadiusPx ?? [0.25, 1.5],
    countsPerPixel: o.countsPerPixel ?? 3000,
    compositionJitter: o.compositionJitter ?? 0.08,
    truthFraction: o.truthFraction ?? 0.1,
    supersample: o.supersample ?? 4,
    phases: o.phases ?? DEFAULT_PHASES,
    anomaly: o.anomaly ?? DEFAULT_ANOMALY,
    seed: o.seed ?? 1,
  };
  const posInt = (v: number, name: string): void => {
    if (!Number.isInteger(v) || v < 1) throw new InvalidOptionError(`synthetic sample: ${name} must be a positive integer, got ${v}`);
  };
  posInt(r.rows, 'rows'); posInt(r.cols, 'cols'); posInt(r.channels, 'channels'); posInt(r.supersample, 'supersample');
  if (!Number.isInteger(r.inclusions) || r.inclusions < 0) throw new InvalidOptionError(`synthetic sample: inclusions must be an integer ≥ 0, got ${r.inclusions}`);
  if (!(r.maxKeV > r.minKeV && r.minKeV > 0)) throw new InvalidOptionError(`synthetic sample: need 0 < minKeV < maxKeV, got ${r.minKeV} … ${r.maxKeV}`);
  if (!(r.grainSizePx > 1)) throw new InvalidOptionError(`synthetic sample: grainSizePx must be > 1, got ${r.grainSizePx}`);
  if (!(r.countsPerPixel > 0)) throw new InvalidOptionError(`synthetic sample: countsPerPixel must be > 0, got ${r.countsPerPixel}`);
  if (!(r.truthFraction > 0 && r.truthFraction <= 1)) throw new InvalidOptionError(`synthetic sample: truthFraction must be in (0, 1], got ${r.truthFraction}`);
  const [rmin, rmax] = r.inclusionRadiusPx;
  if (!(rmin > 0 && rmax >= rmin)) throw new InvalidOptionError(`synthetic sample: inclusionRadiusPx must satisfy 0 < min ≤ max, got ${rmin} … ${rmax}`);
  if (r.phases.length < 1 || r.phases.length > 255) throw new InvalidOptionError('synthetic sample: give 1…255 background phases');
  for (const ph of [...r.phases, r.anomaly]) {
    for (const el of Object.keys(ph.lines)) if (!LINES_KEV[el]) throw new InvalidOptionError(`synthetic sample: phase ${ph.name} uses element ${el}, which has no line table entry (${Object.keys(LINES_KEV).join(', ')})`);
  }
  return r;
}

/** Spectrum shape (sums to 1) of a phase on the channel grid. */
function phaseSpectrum(lines: Readonly<Record<string, number>>, energies: Float64Array, e0: number): Float64Array {
  const s = new Float64Array(energies.length);
  for (const [el, w] of Object.entries(lines)) {
    const [ka, kb] = LINES_KEV[el];
    for (const [e, amp] of [[ka, w], [kb, 0.12 * w]] as const) {
      const sig = 0.045 + 0.009 * e;
      for (let c = 0; c < energies.length; c++) s[c] += amp * Math.exp(-0.5 * ((energies[c] - e) / sig) ** 2);
    }
  }
  // Continuum, 15 % of the counts: scattered bremsstrahlung of a tube at E₀ = 1.5 × maxKeV.
  const cont = new Float64Array(energies.length);
  let cs = 0, ps = 0;
  for (let c = 0; c < energies.length; c++) {
    cont[c] = Math.max(0, (e0 - energies[c]) / energies[c]);
    cs += cont[c];
    ps += s[c];
  }
  for (let c = 0; c < energies.length; c++) s[c] = (0.85 * s[c]) / ps + (0.15 * cont[c]) / cs;
  return s;
}

export function syntheticSample(options: SyntheticOptions = {}, ctx?: JobContext): SyntheticSample {
  const o = check(options);
  const rng = new Rng(o.seed);
  const { rows: H, cols: W, channels: B } = o;
  const energies = Float64Array.from({ length: B }, (_, c) => o.minKeV + ((c + 0.5) * (o.maxKeV - o.minKeV)) / B);
  const e0 = 1.5 * o.maxKeV;
  const P = o.phases.length;
  // Voronoi seeds on a bucket grid (one bucket per mean grain), each with a phase and its own
  // jittered composition: real grains are not chemically identical.
  const seedRng = rng.fork(1);
  const cell = o.grainSizePx;
  const nbx = Math.ceil(W / cell) + 2, nby = Math.ceil(H / cell) + 2;
  const seeds: { x: number; y: number; phase: number; spectrum: Float64Array }[] = [];
  const buckets: number[][] = Array.from({ length: nbx * nby }, () => []);
  const cum = o.phases.map((_, i) => o.phases.slice(0, i + 1).reduce((a, p) => a + p.proportion, 0));
  const totalP = cum[P - 1];
  for (let by = 0; by < nby; by++) {
    for (let bx = 0; bx < nbx; bx++) {
      const x = (bx - 1 + seedRng.uniform()) * cell;
      const y = (by - 1 + seedRng.uniform()) * cell;
      const u = seedRng.uniform() * totalP;
      const phase = Math.max(0, cum.findIndex((c) => u < c));
      const jittered: Record<string, number> = {};
      for (const [el, w] of Object.entries(o.phases[phase].lines)) jittered[el] = Math.max(0, w * (1 + o.compositionJitter * seedRng.normal()));
      buckets[by * nbx + bx].push(seeds.length);
      seeds.push({ x, y, phase, spectrum: phaseSpectrum(jittered, energies, e0) });
    }
  }
  const nearestSeed = (x: number, y: number): number => {
    const bx = Math.floor(x / cell) + 1, by = Math.floor(y / cell) + 1;
    let best = -1, bd = Infinity;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const b = (by + dy) * nbx + (bx + dx);
      if (bx + dx < 0 || by + dy < 0 || bx + dx >= nbx || by + dy >= nby) continue;
      for (const s of buckets[b]) {
        const d = (seeds[s].x - x) ** 2 + (seeds[s].y - y) ** 2;
        if (d < bd) { bd = d; best = s; }
      }
    }
    return best;
  };
  // Inclusions: discs (centre, radius) of the anomalous phase.
  const incRng = rng.fork(2);
  const inclusions = Array.from({ length: o.inclusions }, () => ({
    x: incRng.uniform() * W,
    y: incRng.uniform() * H,
    r: o.inclusionRadiusPx[0] + incRng.uniform() * (o.inclusionRadiusPx[1] - o.inclusionRadiusPx[0]),
  }));
  const anomalySpectrum = phaseSpectrum(o.anomaly.lines, energies, e0);
  // A smooth multiplicative count-rate field (sample topography / focus): ±15 %.
  const topo = (x: number, y: number): number => 1 + 0.15 * Math.sin((2 * Math.PI * x) / (W * 0.9) + 0.7) * Math.cos((2 * Math.PI * y) / (H * 1.1) + 0.3);
  const S = o.supersample;
  const pixels = new Float32Array(H * W * B);
  const anomalyFraction = new Float32Array(H * W);
  const phaseMap = new Uint8Array(H * W);
  const truth = new Uint8Array(H * W);
  const noise = rng.fork(3);
  const mix = new Float64Array(B);
  const phaseArea = new Float64Array(P);
  for (let r = 0; r < H; r++) {
    if ((r & 7) === 0) {
      throwIfCancelled(ctx, 'synthetic sample');
      report(ctx, r / H, 'synthetic sample');
    }
    const near = inclusions.filter((q) => q.y + q.r >= r && q.y - q.r <= r + 1);
    for (let c = 0; c < W; c++) {
      mix.fill(0);
      phaseArea.fill(0);
      let anom = 0;
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const x = c + (sx + 0.5) / S, y = r + (sy + 0.5) / S;
          let inside = false;
          for (const q of near) if ((q.x - x) ** 2 + (q.y - y) ** 2 <= q.r * q.r) { inside = true; break; }
          if (inside) {
            anom++;
            for (let b = 0; b < B; b++) mix[b] += anomalySpectrum[b];
          } else {
            const s = seeds[nearestSeed(x, y)];
            phaseArea[s.phase]++;
            for (let b = 0; b < B; b++) mix[b] += s.spectrum[b];
          }
        }
      }
      const p = r * W + c;
      const frac = anom / (S * S);
      anomalyFraction[p] = frac;
      truth[p] = frac >= o.truthFraction ? 1 : 0;
      let best = 0;
      for (let k = 1; k < P; k++) if (phaseArea[k] > phaseArea[best]) best = k;
      phaseMap[p] = best;
      const scale = (o.countsPerPixel * topo(c + 0.5, r + 0.5)) / (S * S);
      for (let b = 0; b < B; b++) pixels[p * B + b] = noise.poisson(mix[b] * scale);
    }
  }
  report(ctx, 1, 'synthetic sample');
  const bandNames = Array.from(energies, (e) => `${e.toFixed(3)}keV`);
  const cube = makeCube({ rows: H, cols: W, bandCount: B, bandNames, pixels, truth, grid: null, source: `synthetic micro-XRF sample (seed ${o.seed})` });
  return { cube, anomalyFraction, phaseMap, phaseNames: o.phases.map((p) => p.name), energiesKeV: energies };
}
