import { PAPER_NAMES } from '../export/paper.ts';
import { LAYER_ROW, inputLayerRow } from './input-rows.ts';
import type { OptionTable, OptionsOf, WorkflowPaths } from './option-table.ts';

/**
 * The options of "draw a map layout page", defined once: the CLI's flags and `--help`
 * (main/cli/commands/layout.ts) and the app's typed `layout` request come from this table.
 * Node-free (main/export/paper.ts imports only the named errors). The `--layer` and
 * `--<input>-layer` rows say what main/cli/layer-options.ts says (workflows cannot import the
 * CLI); tests/workflows/layout-workflow.test.ts keeps `--help` byte-identical.
 */
export const LAYOUT_OPTIONS = {
  raster: { flag: 'raster', kind: 'string', description: 'raster layer: a GeoTIFF or a folder of single-band GeoTIFFs', valueName: 'FILE' },
  band: { flag: 'band', kind: 'string', description: 'band to map (default: the first)', valueName: 'NAME' },
  title: { flag: 'title', kind: 'string', description: 'page title (default: the layer\'s readable name, e.g. "Kriged Au, Cu (ppb, ppm)", else "<file name> — <band>")', valueName: 'TEXT' },
  units: { flag: 'units', kind: 'string', description: 'legend units, e.g. ppm (default: "probability" for p_* bands, else the band\'s unit as the GeoTIFF records it)', valueName: 'TEXT' },
  ramp: { flag: 'ramp', kind: 'string', description: 'colour ramp: viridis, magma, cividis, rdbu, greys, hot (turbo → hot, rdylbu → rdbu)', valueName: 'NAME', default: 'viridis' },
  stretch: { flag: 'stretch', kind: 'string', description: 'minmax, percentile or log', valueName: 'KIND', default: 'percentile' },
  percentiles: { flag: 'percentiles', kind: 'string', description: 'percentile clip LOW,HIGH of the percentile stretch', valueName: 'LO,HI', default: '2,98' },
  paper: { flag: 'paper', kind: 'string', description: `paper size: ${PAPER_NAMES.join(', ')}`, valueName: 'SIZE', default: 'A4' },
  orientation: { flag: 'orientation', kind: 'string', description: 'landscape or portrait', valueName: 'O', default: 'landscape' },
  dpi: { flag: 'dpi', kind: 'number', description: 'resolution of the PNG page (36–600); the PDF is vector and records it in its footer', valueName: 'N', default: 150 },
  inset: { flag: 'inset', kind: 'boolean', description: 'draw an overview of the whole layer with the mapped extent outlined' },
  extent: { flag: 'extent', kind: 'string', description: 'map only this extent, in the raster CRS (default: the whole layer)', valueName: 'XMIN,YMIN,XMAX,YMAX' },
  deposits: { flag: 'deposits', kind: 'string', description: 'deposit points to draw (GeoJSON / Shapefile)', valueName: 'FILE' },
  faults: { flag: 'faults', kind: 'string', description: 'fault lines to draw (GeoJSON / Shapefile)', valueName: 'FILE' },
  crs: { flag: 'crs', kind: 'string', description: "CRS of --deposits/--faults/--sites layers that declare none (EPSG:N or proj4); declared CRSs are reprojected onto the raster's", valueName: 'CRS' },
  sites: { flag: 'sites', kind: 'string', description: 'training sites to draw (sites GeoJSON; block centres)', valueName: 'FILE' },
  out: { flag: 'out', kind: 'string', description: 'output page: .pdf (page box = paper size) or .png (pHYs = DPI)', valueName: 'FILE' },
  layer: LAYER_ROW,
  depositsLayer: inputLayerRow('deposits'),
  faultsLayer: inputLayerRow('faults'),
  sitesLayer: inputLayerRow('sites'),
} as const satisfies OptionTable;

export type LayoutWorkflowOptions = OptionsOf<typeof LAYOUT_OPTIONS>;

/** The flags of LAYOUT_OPTIONS that name outputs and inputs: checked before anything is computed. */
export const LAYOUT_PATHS: WorkflowPaths = { outputs: { out: 'file' }, inputs: ['raster', 'deposits', 'faults', 'sites'] };
