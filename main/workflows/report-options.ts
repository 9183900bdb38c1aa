import type { OptionTable, OptionsOf, WorkflowPaths } from './option-table.ts';
import { LAYER_ROW, inputLayerRow } from './input-rows.ts';

/**
 * The options of "write a training run's report", defined once: the CLI's flags and `--help`
 * (main/cli/commands/report.ts) and the app's typed `report` request come from this table.
 * Node-free. The `--layer` and `--deposits-layer` rows say what main/cli/layer-options.ts says
 * (workflows cannot import the CLI); tests/workflows/report-workflow.test.ts keeps `--help`
 * byte-identical.
 */
export const REPORT_OPTIONS = {
  run: { flag: 'run', kind: 'string', description: 'run directory written by "geoanomaly train" (metrics.json, manifest.json)', valueName: 'RUN_DIR' },
  map: { flag: 'map', kind: 'string', description: 'probability map of the run ("geoanomaly predict" output): one map per band', valueName: 'PROB.tif' },
  deposits: { flag: 'deposits', kind: 'string', description: 'deposit points drawn on the maps', valueName: 'FILE' },
  crs: { flag: 'crs', kind: 'string', description: "CRS of the --deposits layer if it declares none (EPSG:N or proj4); declared CRSs are reprojected onto the map's (logged)", valueName: 'CRS' },
  title: { flag: 'title', kind: 'string', description: 'report title (default: "Training run <folder>")', valueName: 'TEXT' },
  out: { flag: 'out', kind: 'string', description: '.html (self-contained, images inlined) or .pdf (A4, paginated)', valueName: 'FILE' },
  layer: LAYER_ROW,
  depositsLayer: inputLayerRow('deposits'),
} as const satisfies OptionTable;

export type ReportWorkflowOptions = OptionsOf<typeof REPORT_OPTIONS>;

/** The flags of REPORT_OPTIONS that name outputs and inputs: checked before anything is computed. */
export const REPORT_PATHS: WorkflowPaths = { outputs: { out: 'file' }, inputs: ['run', 'map', 'deposits'] };
