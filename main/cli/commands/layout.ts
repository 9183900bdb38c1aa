import type { Command } from '../command.ts';
import { optionalNumber, optionalString, requireString } from '../command.ts';
import { InvalidOptionError } from '../../errors.ts';
import { parseCrs } from '../../grid/crs.ts';
import { parseExtent, writeMapLayout } from '../../export/map-layout.ts';
import { PAPER_NAMES, type Orientation, type PaperName } from '../../export/paper.ts';
import type { StretchKind } from '../../figures/stretch.ts';
import { LAYER_OPTION, inputLayerOptions, layerFor } from '../layer-options.ts';

export const layoutCommand: Command = {
  name: 'layout',
  summary: 'map layout for reports: PNG or PDF page with title, legend, scale bar, north arrow, CRS, overlays, inset',
  usage: '--raster FILE [--band NAME] [--title T] [--paper A4|A3|Letter] [--orientation landscape|portrait] [--dpi N] [--inset] [--deposits F] [--faults F] [--sites F] --out PAGE.pdf|PAGE.png',
  paths: { outputs: { out: 'file' }, inputs: ['raster', 'deposits', 'faults', 'sites'] },
  options: {
    raster: { type: 'string', description: 'raster layer: a GeoTIFF or a folder of single-band GeoTIFFs', valueName: 'FILE' },
    band: { type: 'string', description: 'band to map (default: the first)', valueName: 'NAME' },
    title: { type: 'string', description: 'page title (default: "<layer> — <band>")', valueName: 'TEXT' },
    units: { type: 'string', description: 'legend units, e.g. ppm (default: "probability" for p_* bands)', valueName: 'TEXT' },
    ramp: { type: 'string', description: 'colour ramp: viridis, magma, cividis, rdbu, greys, hot (turbo → hot, rdylbu → rdbu)', valueName: 'NAME', default: 'viridis' },
    stretch: { type: 'string', description: 'minmax, percentile or log', valueName: 'KIND', default: 'percentile' },
    percentiles: { type: 'string', description: 'percentile clip LOW,HIGH of the percentile stretch', valueName: 'LO,HI', default: '2,98' },
    paper: { type: 'string', description: `paper size: ${PAPER_NAMES.join(', ')}`, valueName: 'SIZE', default: 'A4' },
    orientation: { type: 'string', description: 'landscape or portrait', valueName: 'O', default: 'landscape' },
    dpi: { type: 'string', description: 'resolution of the PNG page (36–600); the PDF is vector and records it in its footer', valueName: 'N', default: '150' },
    inset: { type: 'boolean', description: 'draw an overview of the whole layer with the mapped extent outlined' },
    extent: { type: 'string', description: 'map only this extent, in the raster CRS (default: the whole layer)', valueName: 'XMIN,YMIN,XMAX,YMAX' },
    deposits: { type: 'string', description: 'deposit points to draw (GeoJSON / Shapefile)', valueName: 'FILE' },
    faults: { type: 'string', description: 'fault lines to draw (GeoJSON / Shapefile)', valueName: 'FILE' },
    crs: { type: 'string', description: 'CRS of --deposits/--faults/--sites layers that declare none (EPSG:N or proj4); declared CRSs are reprojected onto the raster\'s', valueName: 'CRS' },
    sites: { type: 'string', description: 'training sites to draw (sites GeoJSON; block centres)', valueName: 'FILE' },
    out: { type: 'string', description: 'output page: .pdf (page box = paper size) or .png (pHYs = DPI)', valueName: 'FILE' },
    ...LAYER_OPTION,
    ...inputLayerOptions('deposits', 'faults', 'sites'),
  },
  details: [
    'The PDF page has the exact paper size (A4 = 595.28 × 841.89 pt portrait) and is vector: text, legend,',
    'scale bar, north arrow, CRS and overlays are PDF text and paths, the raster one image pixel per cell.',
    'The PNG is the page image at --dpi with the DPI in its pHYs chunk; both print at paper size.',
    '',
    'Example:',
    '  geoanomaly layout --raster prob.tif --band p_gk-dcn --deposits deposits.geojson --faults faults.geojson \\',
    '    --inset --paper A4 --orientation landscape --dpi 300 --out prob-gk-dcn.pdf',
  ].join('\n'),
  async run(args, io) {
    const out = requireString(args, 'out', 'layout');
    const pct = (optionalString(args, 'percentiles') ?? '2,98').split(',').map(Number);
    if (pct.length !== 2 || pct.some((v) => !Number.isFinite(v))) throw new InvalidOptionError('geoanomaly layout: --percentiles must be two numbers LOW,HIGH');
    const extent = optionalString(args, 'extent');
    const crsText = optionalString(args, 'crs');
    const r = await writeMapLayout(
      out,
      {
        raster: requireString(args, 'raster', 'layout'),
        band: optionalString(args, 'band'),
        title: optionalString(args, 'title'),
        units: optionalString(args, 'units'),
        ramp: optionalString(args, 'ramp'),
        stretch: optionalString(args, 'stretch') as StretchKind | undefined,
        percentiles: [pct[0], pct[1]],
        paper: (optionalString(args, 'paper') ?? 'A4') as PaperName,
        orientation: (optionalString(args, 'orientation') ?? 'landscape') as Orientation,
        dpi: optionalNumber(args, 'dpi', 'layout') ?? 150,
        inset: args.values.inset === true,
        extent: extent ? parseExtent(extent) : undefined,
        deposits: optionalString(args, 'deposits'),
        faults: optionalString(args, 'faults'),
        sites: optionalString(args, 'sites'),
        overlayLayers: { deposits: layerFor(args, 'deposits'), faults: layerFor(args, 'faults'), sites: layerFor(args, 'sites') },
        crs: crsText ? parseCrs(crsText) : undefined,
      },
      { signal: io.signal, progress: io.progress, log: io.err },
    );
    io.out(`wrote ${r.path}: ${r.format.toUpperCase()} ${r.page.paper} ${r.page.orientation} (${r.page.widthPt.toFixed(2)} × ${r.page.heightPt.toFixed(2)} pt), ${r.widthPx} × ${r.heightPx} px`);
    return 0;
  },
};
