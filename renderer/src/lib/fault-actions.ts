import type { ComputeJobRequest } from '../../../main/api/contract.ts';
import { runOutputPath } from './site-actions.ts';
import type { Workbench } from './workbench.svelte.ts';

export interface FaultParams {
  readonly faults: string;
  readonly deposits: string;
  readonly grid: string;
  /** Ring width (m); null = one cell (the command's default). */
  readonly ringM: number | null;
  readonly minRing: number | null;
  readonly maxRing: number | null;
  readonly normalisation: 'max' | 'minmax';
  /** Only fault features whose property KEY equals VALUE ("favourable=true"); null = all. */
  readonly where: string | null;
  /** Distance a ring stands for in the law: its outer edge (the paper's) or its middle. */
  readonly ringDistance: 'outer' | 'mid';
}

/** The part of the fitted law the plot needs (main/workflows/faults-result.ts FaultsPowerLaw, also `faults --report`). */
export interface PowerLawReport {
  readonly N: number;
  readonly k: number;
  readonly r2: number;
  readonly ringWidthM: number;
  readonly depositCells: number;
  readonly rings: readonly { ring: number; dKm: number; density: number; deposits: number; usedInFit: boolean }[];
}

/**
 * Runs the `faults` workflow as a job; adds the distance and weight maps as layers; returns the
 * fitted power law from the job's typed result (main/workflows/faults-result.ts), nothing parsed.
 */
export async function runFaults(wb: Workbench, p: FaultParams): Promise<{ error: string | null; report: PowerLawReport | null }> {
  const distance = runOutputPath(wb, 'fault-distance', 'tif');
  const weight = distance.replace('fault-distance', 'fault-weight');
  const report = distance.replace('fault-distance', 'fault-powerlaw').replace(/\.tif$/, '.json');
  const options: Record<string, string | number> = { faults: p.faults, grid: p.grid, deposits: p.deposits, distance, weight, report, normalisation: p.normalisation };
  if (p.ringM !== null) options.ring = p.ringM;
  if (p.minRing !== null) options['min-ring'] = p.minRing;
  if (p.maxRing !== null) options['max-ring'] = p.maxRing;
  if (p.where) options['fault-where'] = p.where;
  options['ring-distance'] = p.ringDistance;
  const request: ComputeJobRequest = { options };
  const outcome = await wb.jobs.start('faults', request, 'Faults: distance, power law, weights');
  if (!outcome.ok) return { error: outcome.error ? `${outcome.error.name}: ${outcome.error.message}` : 'the faults job failed', report: null };
  const done = outcome.result?.workflow;
  if (done?.workflow !== 'faults' || !done.result.fit) return { error: 'the faults job returned no fitted power law', report: null };
  const fit: PowerLawReport = done.result.fit;
  for (const path of [done.result.outputs.distance ?? distance, done.result.outputs.weight ?? weight]) {
    const err = await wb.importLayer({ kind: 'raster', path });
    if (err) return { error: err, report: null };
  }
  return { error: null, report: fit };
}
