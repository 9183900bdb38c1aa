import type { OptionsOf, OptionTable, WorkflowPaths } from './option-table.ts';

/*
 * The options of the "rpca" workflow, defined once: the CLI's flags and `--help`
 * (main/cli/commands/rpca.ts), the app's `rpca` request and main/workflows/rpca.ts read this
 * table. No Node imports: the renderer's type check may read this file.
 */

export const RPCA_TRANSFORMS = ['log10', 'clr'] as const;

export const RPCA_OPTIONS = {
  stack: { flag: 'stack', kind: 'string', description: 'element stack: multi-band GeoTIFF or folder of single-band GeoTIFFs', valueName: 'STACK' },
  out: { flag: 'out', kind: 'string', description: 'output folder (pc-scores.tif, robust-distance.tif, loadings.json, biplot.png/.svg, pc-maps.png)', valueName: 'DIR' },
  transform: { flag: 'transform', kind: 'string', description: 'log10 or clr (centred log-ratio; MCD in ilr coordinates)', valueName: 'T', default: 'log10' },
  alpha: { flag: 'alpha', kind: 'number', description: 'MCD subset share h/n (0.5 = highest breakdown, 0.75 = more efficient)', valueName: 'A', default: 0.5 },
  components: { flag: 'components', kind: 'number', description: 'number of PC score bands to write (default all)', valueName: 'K' },
  maxSamples: { flag: 'max-samples', kind: 'number', description: 'cells used for the MCD estimate; more are subsampled (seeded)', valueName: 'N', default: 50_000 },
  seed: { flag: 'seed', kind: 'number', description: 'seed of the subsample', valueName: 'N', default: 1 },
} as const satisfies OptionTable;

export type RpcaWorkflowOptions = OptionsOf<typeof RPCA_OPTIONS>;

/** The flags of RPCA_OPTIONS that name outputs and inputs: checked before anything is computed. */
export const RPCA_PATHS: WorkflowPaths = { outputs: { out: 'dir' }, inputs: ['stack'] };
