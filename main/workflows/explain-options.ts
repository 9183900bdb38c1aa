import type { OptionTable, OptionsOf, WorkflowPaths } from './option-table.ts';
import { inputLayerRow, dedupeRow } from './input-rows.ts';

/**
 * The options of "explain a trained run", defined once: the CLI's flags and `--help`
 * (main/cli/commands/explain.ts), the app's `explain` compute request and its `explainSite`
 * request (one clicked cell) all come from this table. No runtime imports (types only), so the
 * table can be read wherever the option types are needed.
 *
 * Row order is the `--help` order of the command before the workflow existed (its help is
 * byte-identical: tests/workflows/explain-workflow.test.ts). The last two rows are the CLI's
 * `inputLayerOptions('sites')` and `dedupeOption('two or more sites')` (main/cli/), written out
 * because nothing below main/cli may import it; explain has no generic `--layer` (its --layer
 * names a network layer).
 */
export const EXPLAIN_OPTIONS = {
  run: { flag: 'run', kind: 'string', description: 'run folder written by "geoanomaly train"', valueName: 'RUN_DIR' },
  stack: { flag: 'stack', kind: 'string', description: 'element stack the run was trained on', valueName: 'PATH' },
  crs: { flag: 'crs', kind: 'string', description: 'CRS of the --sites layer if it declares none (EPSG:N or proj4); declared CRSs are reprojected onto the stack\'s (logged)', valueName: 'CRS' },
  sites: { flag: 'sites', kind: 'string', description: 'training sites GeoJSON (deposit block centres are explained)', valueName: 'FILE' },
  model: { flag: 'model', kind: 'string', description: 'model name(s), comma separated, or all', valueName: 'NAME', default: 'all' },
  layer: { flag: 'layer', kind: 'string', description: 'layer to explain (default: last convolutional / first deformable layer)', valueName: 'NAME' },
  gradcam: { flag: 'gradcam', kind: 'boolean', description: 'Grad-CAM only (with --offsets: both)' },
  offsets: { flag: 'offsets', kind: 'boolean', description: 'offset fields only (with --gradcam: both)' },
  classIndex: { flag: 'class', kind: 'number', description: 'class to explain: 1 deposit, 0 non-deposit', valueName: 'C', default: 1 },
  maxSites: { flag: 'max-sites', kind: 'number', description: 'deposit sites shown', valueName: 'N', default: 10 },
  attribution: {
    flag: 'attribution',
    kind: 'string',
    description: 'per-element attribution beside Grad-CAM: ig (integrated gradients against the all-mean window) or occlusion (drop in P when one element is set to its mean)',
    valueName: 'ig|occlusion',
  },
  igSteps: { flag: 'ig-steps', kind: 'number', description: 'integrated-gradients steps (midpoint rule)', valueName: 'N', default: 64 },
  noMaps: { flag: 'no-maps', kind: 'boolean', description: 'skip the map-wide explanation rasters' },
  backend: { flag: 'backend', kind: 'string', description: 'auto | wasm | cpu | tensorflow', valueName: 'NAME', default: 'auto' },
  out: { flag: 'out', kind: 'string', description: 'output folder', valueName: 'DIR' },
  sitesLayer: inputLayerRow('sites'),
  dedupe: dedupeRow('two or more sites'),
} as const satisfies OptionTable;

/** One point to explain instead of the deposit sites: map coordinates in the stack's CRS. */
export interface ExplainPoint {
  readonly x: number;
  readonly y: number;
}

/**
 * The options of explainWorkflow. Without `at`: the whole run, i.e. panels at the deposit sites of
 * `sites`, map-wide rasters and explain.json in `out` (the CLI's `geoanomaly explain`). With
 * `at`: the one cell under that point, returned as data and nothing written (the app's
 * `explainSite`, a click in the Compare view); `sites` and `out` are then not used, and `stack`
 * defaults to the stack named in the run's manifest.
 */
export type ExplainWorkflowOptions = OptionsOf<typeof EXPLAIN_OPTIONS> & { readonly at?: ExplainPoint };

/** The flags of EXPLAIN_OPTIONS that name outputs and inputs: checked before anything is computed. */
export const EXPLAIN_PATHS: WorkflowPaths = { outputs: { out: 'dir' }, inputs: ['run', 'stack', 'sites'] };
