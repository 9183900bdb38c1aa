import type { OptionsOf, OptionTable, WorkflowPaths } from './option-table.ts';
import { LAYER_ROW, dedupeRow, inputLayerRow } from './input-rows.ts';

/*
 * The options of the "faults" workflow, defined once: the CLI's flags and `--help`
 * (main/cli/commands/faults.ts), the app's `faults` request and main/workflows/faults.ts read
 * this table. Type imports only: the renderer's type check (no Node types) may read this file.
 */

export { LAYER_ROW, dedupeRow, inputLayerRow } from './input-rows.ts';

/** Weight-map rings when a given --k has no fitted law to take its last ring from and --max-ring is absent. */
export const FAULTS_DEFAULT_MAX_RING = 12;

export const FAULTS_OPTIONS = {
  faults: { flag: 'faults', kind: 'string', description: 'fault traces (GeoJSON/Shapefile lines) or a fault raster (non-zero = fault)', valueName: 'FILE' },
  grid: { flag: 'grid', kind: 'string', description: 'reference GeoTIFF: its grid (projected CRS) and nodata mask are used', valueName: 'REF.tif' },
  deposits: { flag: 'deposits', kind: 'string', description: 'deposit points (GeoJSON/Shapefile) or deposit raster', valueName: 'FILE' },
  depositValue: { flag: 'deposit-value', kind: 'number', description: 'raster value marking a deposit', valueName: 'V', default: 1 },
  ring: { flag: 'ring', kind: 'number', description: 'ring width in metres (default: one cell)', valueName: 'METRES' },
  minRing: { flag: 'min-ring', kind: 'number', description: 'first ring used in the fit (skip a flat near-fault zone)', valueName: 'N', default: 1 },
  ringDistance: { flag: 'ring-distance', kind: 'string', description: 'distance a ring stands for in the law: outer (edge, the paper\'s) or mid', valueName: 'outer|mid', default: 'outer' },
  maxRing: { flag: 'max-ring', kind: 'number', description: 'last ring fitted and weighted; farther cells take its weight (default: ring of the farthest deposit)', valueName: 'N' },
  k: { flag: 'k', kind: 'number', description: 'use this exponent for the weight map instead of fitting one (no --deposits needed)', valueName: 'K' },
  normalisation: { flag: 'normalisation', kind: 'string', description: 'weight normalisation: max (w = m(d)/m_max) or minmax (as the case study)', valueName: 'max|minmax', default: 'max' },
  distance: { flag: 'distance', kind: 'string', description: 'output distance-to-fault GeoTIFF (metres)', valueName: 'OUT.tif' },
  weight: { flag: 'weight', kind: 'string', description: 'output weight map GeoTIFF (0–1)', valueName: 'OUT.tif' },
  report: { flag: 'report', kind: 'string', description: 'output JSON with N, k, r2 and the per-ring counts and areas', valueName: 'OUT.json' },
  buffers: { flag: 'buffers', kind: 'string', description: 'fault buffer widths in metres, comma-separated', valueName: 'W1,W2,…' },
  buffersOut: { flag: 'buffers-out', kind: 'string', description: 'output GeoTIFF with one 0/1 band per buffer width', valueName: 'OUT.tif' },
  faultThreshold: {
    flag: 'fault-threshold',
    kind: 'number',
    description: 'fault raster: cells with value ≥ V are faults (for continuous rasters; default: every non-zero cell)',
    valueName: 'V',
  },
  faultWhere: { flag: 'fault-where', kind: 'string', description: 'use only fault features whose property KEY equals VALUE (e.g. favourable=true)', valueName: 'KEY=VALUE' },
  alignByIndex: { flag: 'align-by-index', kind: 'string', description: 'pair a deposit/fault raster on another grid by array index: its cell (r,c) is grid cell (r+R, c+C)', valueName: 'R,C' },
  crs: { flag: 'crs', kind: 'string', description: 'CRS of vector inputs that declare none (EPSG:N or proj4); declared CRSs are reprojected onto the grid\'s (logged)', valueName: 'CRS' },
  dropOutside: { flag: 'drop-outside', kind: 'boolean', description: 'drop deposits outside the grid (reported) instead of failing' },
  layer: LAYER_ROW,
  faultsLayer: inputLayerRow('faults'),
  depositsLayer: inputLayerRow('deposits'),
  dedupe: dedupeRow('deposit points of different features'),
} as const satisfies OptionTable;

export type FaultsWorkflowOptions = OptionsOf<typeof FAULTS_OPTIONS>;

/** The flags of FAULTS_OPTIONS that name outputs and inputs: checked before anything is computed. */
export const FAULTS_PATHS: WorkflowPaths = { outputs: { distance: 'file', weight: 'file', report: 'file', 'buffers-out': 'file' }, inputs: ['faults', 'grid', 'deposits'] };
