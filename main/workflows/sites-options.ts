import type { OptionsOf, OptionTable, WorkflowPaths } from './option-table.ts';
import { LAYER_ROW, dedupeRow, inputLayerRow } from './faults-options.ts';

/*
 * The options of the "sites" workflow, defined once: the CLI's flags and `--help`
 * (main/cli/commands/sites.ts), the app's `sites` request and main/workflows/sites.ts read this
 * table. No Node imports: the renderer's type check may read this file.
 */

export const SITES_OPTIONS = {
  deposits: { flag: 'deposits', kind: 'string', description: 'deposit points (GeoJSON, Shapefile, GeoPackage, FlatGeobuf, KML/KMZ) or deposit raster', valueName: 'FILE' },
  grid: { flag: 'grid', kind: 'string', description: 'reference GeoTIFF (the element grid the patches are cut from)', valueName: 'REF.tif' },
  faults: { flag: 'faults', kind: 'string', description: 'fault lines or fault raster, for the minimum fault distance of automatic negatives', valueName: 'FILE' },
  negatives: { flag: 'negatives', kind: 'string', description: 'auto, none, or a file of negative centres (points or a raster)', valueName: 'auto|none|FILE', default: 'auto' },
  minDepositDist: { flag: 'min-deposit-dist', kind: 'number', description: 'automatic negatives: minimum distance to any deposit, metres (default 10 cells)', valueName: 'M' },
  minFaultDist: { flag: 'min-fault-dist', kind: 'number', description: 'automatic negatives: minimum distance to any fault, metres (default 5 cells when --faults is given)', valueName: 'M' },
  count: { flag: 'count', kind: 'number', description: 'number of negative blocks (default: one per deposit cell)', valueName: 'N' },
  seed: { flag: 'seed', kind: 'number', description: 'random seed of the automatic selection', valueName: 'N', default: 1 },
  blockRadius: { flag: 'block-radius', kind: 'number', description: 'block half-width in cells (1 = 3×3 blocks, 0 = single cells)', valueName: 'R', default: 1 },
  depositValue: { flag: 'deposit-value', kind: 'number', description: 'raster value marking a deposit', valueName: 'V', default: 1 },
  negativeValue: { flag: 'negative-value', kind: 'number', description: 'raster value marking a negative (the GK-DCN raster uses 0)', valueName: 'V', default: 1 },
  faultWhere: { flag: 'fault-where', kind: 'string', description: 'use only fault features whose property KEY equals VALUE (e.g. favourable=true)', valueName: 'KEY=VALUE' },
  alignByIndex: { flag: 'align-by-index', kind: 'string', description: 'pair label rasters on another grid by array index: their cell (r,c) is grid cell (r+R, c+C)', valueName: 'R,C' },
  labelsAsPoints: {
    flag: 'labels-as-points',
    kind: 'boolean',
    description:
      'label rasters on another grid: each marked cell (deposits: non-zero; negatives: --negative-value) becomes a point at its centre in the raster\'s own georeferencing, placed in the grid cell that holds it (no resampling)',
  },
  crs: { flag: 'crs', kind: 'string', description: 'CRS of vector inputs that declare none (EPSG:N or proj4); declared CRSs are reprojected onto the grid\'s (logged)', valueName: 'CRS' },
  dropOutside: { flag: 'drop-outside', kind: 'boolean', description: 'drop deposits/negatives outside the grid (reported) instead of failing' },
  out: { flag: 'out', kind: 'string', description: 'output sites file: .geojson, .gpkg (GeoPackage, layer "sites") or .shp (ESRI Shapefile with .prj)', valueName: 'SITES.geojson|.gpkg|.shp' },
  layer: LAYER_ROW,
  depositsLayer: inputLayerRow('deposits'),
  faultsLayer: inputLayerRow('faults'),
  negativesLayer: inputLayerRow('negatives'),
  dedupe: dedupeRow('deposit (or negative) points of different features'),
} as const satisfies OptionTable;

export type SitesWorkflowOptions = OptionsOf<typeof SITES_OPTIONS>;

/** The flags of SITES_OPTIONS that name outputs and inputs: checked before anything is computed. */
export const SITES_PATHS: WorkflowPaths = { outputs: { out: 'file' }, inputs: ['deposits', 'grid', 'faults', 'negatives'] };
