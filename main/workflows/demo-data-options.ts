import type { OptionsOf, WorkflowPaths } from './option-table.ts';

/*
 * The options of the "demo-data" workflow, defined once: the CLI's flags and `--help`
 * (main/cli/commands/demo-data.ts) and main/workflows/demo-data.ts read this table. Type imports
 * only: the renderer's type check (no Node types) may read this file.
 */
export const DEMO_DATA_OPTIONS = {
  out: { flag: 'out', kind: 'string', description: 'output folder', valueName: 'DIR' },
  seed: { flag: 'seed', kind: 'number', description: 'random seed', valueName: 'N', default: 20260219 },
  samples: { flag: 'samples', kind: 'number', description: 'approximate number of samples', valueName: 'N', default: 3000 },
  deposits: { flag: 'deposits', kind: 'number', description: 'number of deposits', valueName: 'N', default: 40 },
  haloAlong: { flag: 'halo-along', kind: 'number', description: 'anomaly halo sd along the fault strike (elongation = along / across)', valueName: 'M', default: 2500 },
  haloAcross: { flag: 'halo-across', kind: 'number', description: 'anomaly halo sd across the fault strike', valueName: 'M', default: 700 },
  faultControl: {
    flag: 'fault-control',
    kind: 'number',
    description: 'strength of fault control in [0, 1]: deposits by the power law and fault-related enrichment (1) or uniform (0)',
    valueName: 'X',
    default: 1,
  },
  noise: { flag: 'noise', kind: 'number', description: "multiplier of each element's own noise", valueName: 'X', default: 1 },
  decoys: { flag: 'decoys', kind: 'number', description: 'decoy anomalies: halos without a deposit (not in the truth raster)', valueName: 'N', default: 0 },
} as const;

export type DemoDataWorkflowOptions = OptionsOf<typeof DEMO_DATA_OPTIONS>;

export const DEMO_DATA_PATHS: WorkflowPaths = { outputs: { out: 'dir' } };

/** What "demo-data" wrote: the survey's files. */
export interface DemoDataWorkflowResult {
  readonly outputs: { readonly samples: string; readonly faults: string; readonly deposits: string; readonly truth: string; readonly manifest: string };
  readonly seed: number;
}
