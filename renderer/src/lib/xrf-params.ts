import type { ComputeJobRequest } from '../../../main/api/contract.ts';

/** Pure parameter handling of the Micro-XRF panel (no Svelte, no contract calls; unit-tested). */

/** Detectors of `geoanomaly xrf`, in its order. */
export const XRF_METHODS = ['msfa', 'rx', 'lrx', 'autoad'] as const;
export type XrfMethodName = (typeof XRF_METHODS)[number];
export const XRF_ABLATIONS = ['none', 'no-attention', 'no-groups', 'no-orthogonal'] as const;

export interface XrfParams {
  readonly cube: string;
  /** Truth mask path, or '' = the cube file's own map (or none). */
  readonly truth: string;
  readonly methods: readonly XrfMethodName[];
  readonly ablation: (typeof XRF_ABLATIONS)[number];
  readonly epochs: number;
  readonly seed: number;
  /** Worker threads for MSFA-Net training (`xrf --threads`); null = leave the option out (command default). */
  readonly threads: number | null;
  /** HDF5 dataset of the cube (`xrf --dataset`); '' or absent = found from the file's layout. */
  readonly dataset?: string;
}

/** The `xrf` command's flags for the panel's parameters. */
export function xrfRequest(p: XrfParams, outDir: string): ComputeJobRequest {
  const options: Record<string, string | number> = {
    cube: p.cube,
    method: p.methods.length === XRF_METHODS.length ? 'all' : p.methods.join(','),
    ablation: p.ablation,
    epochs: p.epochs,
    seed: p.seed,
    out: outDir,
  };
  if (p.truth) options.truth = p.truth;
  if (p.threads !== null) options.threads = p.threads;
  if (p.dataset) options.dataset = p.dataset;
  return { options };
}

/** Kα energies (keV, Bearden 1967) of the default composite: Cu → red, Fe → green, Si → blue. */
const COMPOSITE_LINES: readonly [string, number][] = [['Cu', 8.048], ['Fe', 6.404], ['Si', 1.74]];

/**
 * Default composite bands: for energy channels named "<E>keV" the channels nearest to the Cu, Fe
 * and Si Kα lines (ore sulphide vs silicate matrix); for element maps the bands named Cu, Fe, Si;
 * otherwise the last, middle and first band.
 */
export function defaultCompositeBands(bandNames: readonly string[]): [number, number, number] {
  const n = bandNames.length;
  const kev = bandNames.map((b) => /^(\d+(?:\.\d+)?)\s*keV$/i.exec(b.trim())).map((m) => (m ? Number(m[1]) : NaN));
  if (n >= 3 && kev.every(Number.isFinite)) {
    const nearest = (e: number): number => kev.reduce((best, v, i) => (Math.abs(v - e) < Math.abs(kev[best] - e) ? i : best), 0);
    return COMPOSITE_LINES.map(([, e]) => nearest(e)) as [number, number, number];
  }
  const byName = COMPOSITE_LINES.map(([el]) => bandNames.findIndex((b) => b.trim().toLowerCase() === el.toLowerCase()));
  if (byName.every((i) => i >= 0)) return byName as [number, number, number];
  return [Math.max(0, n - 1), Math.floor((n - 1) / 2), 0];
}
