import type { OptionTable, OptionsOf, WorkflowPaths } from './option-table.ts';
import { LAYER_ROW, inputLayerRow, dedupeRow } from './input-rows.ts';

/**
 * The options of "evaluate a map at held-out deposits", defined once: the CLI's flags and
 * `--help` (main/cli/commands/evaluate.ts) and the app's typed `evaluate` request come from this
 * table. Node-free (types only from option-table.ts), so the renderer may import it.
 * The `--layer`, `--<input>-layer` and `--dedupe` rows say what main/cli/layer-options.ts and
 * main/cli/dedupe-option.ts say (workflows sit below the CLI and cannot import it); the help
 * test (tests/workflows/evaluate-workflow.test.ts) keeps the text byte-identical.
 */
export const EVALUATE_OPTIONS = {
  map: { flag: 'map', kind: 'string', description: 'probability or anomaly map (GeoTIFF; first band unless --band)', valueName: 'PROB.tif' },
  band: { flag: 'band', kind: 'string', description: 'band name of the map to evaluate', valueName: 'NAME' },
  deposits: { flag: 'deposits', kind: 'string', description: 'held-out deposits: points (GeoJSON/Shapefile) or a raster marking deposit cells', valueName: 'FILE' },
  depositValue: { flag: 'deposit-value', kind: 'number', description: 'raster value marking a deposit cell', valueName: 'V', default: 1 },
  alignByIndex: { flag: 'align-by-index', kind: 'string', description: 'pair a deposit raster on another grid by array index: its cell (r,c) is map cell (r+R, c+C)', valueName: 'R,C' },
  excludeTraining: { flag: 'exclude-training', kind: 'string', description: 'training sites GeoJSON: their cells are left out of the evaluation area', valueName: 'SITES.geojson' },
  crs: { flag: 'crs', kind: 'string', description: 'CRS of vector inputs that declare none (EPSG:N or proj4)', valueName: 'CRS' },
  caBreaks: { flag: 'ca-breaks', kind: 'string', description: 'comma-separated C–A breaks to use instead of the automatic fit', valueName: 'V1,V2,…' },
  caSegments: { flag: 'ca-segments', kind: 'number', description: 'fix the number of C–A segments (2–4; default chosen by BIC)', valueName: 'N' },
  classes: { flag: 'classes', kind: 'string', description: 'also write the C–A anomaly classes raster', valueName: 'CLASSES.tif' },
  compare: {
    flag: 'compare',
    kind: 'string',
    description: 'bands (e.g. p_gk-dcn,p_cnn,p_rf) whose map AUCs at the deposits are compared pairwise: paired bootstrap over deposits → "comparisons" in EVAL.json',
    valueName: 'A,B,…',
  },
  compareMap: { flag: 'compare-map', kind: 'string', description: 'read the --compare bands from this GeoTIFF instead of --map (same grid)', valueName: 'OTHER.tif' },
  seed: { flag: 'seed', kind: 'number', description: 'seed of the comparison bootstrap', valueName: 'N', default: 1 },
  labelsAsPoints: {
    flag: 'labels-as-points',
    kind: 'boolean',
    description: "a deposit raster on another grid: each non-zero cell becomes a point at its centre in the raster's own georeferencing, placed in the map cell that holds it (no resampling)",
  },
  mask: {
    flag: 'mask',
    kind: 'string',
    description: 'study-area mask: a GeoTIFF on the stack grid (inside = non-zero, finite) or polygons (.gpkg, .geojson, …); cells outside are nodata: neither deposits nor background there, and no C–A area',
    valueName: 'AREA.tif|.gpkg',
  },
  out: { flag: 'out', kind: 'string', description: 'evaluation JSON (keys auc, successRate, paIntersection, caBreaks, …)', valueName: 'EVAL.json' },
  layer: LAYER_ROW,
  depositsLayer: inputLayerRow('deposits'),
  excludeTrainingLayer: inputLayerRow('exclude-training'),
  dedupe: dedupeRow('two or more --exclude-training sites'),
} as const satisfies OptionTable;

export type EvaluateWorkflowOptions = OptionsOf<typeof EVALUATE_OPTIONS>;

/** The flags of EVALUATE_OPTIONS that name outputs and inputs: checked before anything is computed. */
export const EVALUATE_PATHS: WorkflowPaths = { outputs: { out: 'file', classes: 'file' }, inputs: ['map', 'deposits', 'exclude-training', 'compare-map', 'mask'] };
