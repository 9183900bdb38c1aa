import type { Command } from '../command.ts';
import { optionalNumber, optionalString, requireString } from '../command.ts';
import { readGeoTiff } from '../../io/geotiff-read.ts';
import { InvalidOptionError } from '../../errors.ts';
import { parseCrs } from '../../grid/crs.ts';
import { faultDistanceFromFile, parseWhere } from '../../faults/fault-inputs.ts';
import { parseIndexAlignment } from '../../sites/label-cells.ts';
import { readSiteCells } from '../../sites/site-inputs.ts';
import { buildSites, type NegativeSpec } from '../../sites/build-sites.ts';
import { sitesFileFormat, writeSitesFile } from '../../sites/sites-file.ts';
import { LAYER_OPTION, inputLayerOptions, layerFor } from '../layer-options.ts';
import { dedupeOf, dedupeOption } from '../dedupe-option.ts';
import { siteCellsOnNodata } from '../../sites/training-area.ts';

export const sitesCommand: Command = {
  name: 'sites',
  summary: 'positive and negative training sites (3×3 blocks) as GeoJSON',
  usage:
    '--deposits FILE --grid REF.tif [--faults FILE] [--negatives auto|none|FILE] [--min-deposit-dist M] ' +
    '[--min-fault-dist M] [--seed N] [--layer NAME] [--labels-as-points] --out SITES.geojson|SITES.gpkg|SITES.shp',
  paths: { outputs: { out: 'file' }, inputs: ['deposits', 'grid', 'faults', 'negatives'] },
  options: {
    deposits: { type: 'string', description: 'deposit points (GeoJSON, Shapefile, GeoPackage, FlatGeobuf, KML/KMZ) or deposit raster', valueName: 'FILE' },
    grid: { type: 'string', description: 'reference GeoTIFF (the element grid the patches are cut from)', valueName: 'REF.tif' },
    faults: { type: 'string', description: 'fault lines or fault raster, for the minimum fault distance of automatic negatives', valueName: 'FILE' },
    negatives: { type: 'string', description: 'auto, none, or a file of negative centres (points or a raster)', valueName: 'auto|none|FILE', default: 'auto' },
    'min-deposit-dist': { type: 'string', description: 'automatic negatives: minimum distance to any deposit, metres (default 10 cells)', valueName: 'M' },
    'min-fault-dist': { type: 'string', description: 'automatic negatives: minimum distance to any fault, metres (default 5 cells when --faults is given)', valueName: 'M' },
    count: { type: 'string', description: 'number of negative blocks (default: one per deposit cell)', valueName: 'N' },
    seed: { type: 'string', description: 'random seed of the automatic selection', valueName: 'N', default: '1' },
    'block-radius': { type: 'string', description: 'block half-width in cells (1 = 3×3 blocks, 0 = single cells)', valueName: 'R', default: '1' },
    'deposit-value': { type: 'string', description: 'raster value marking a deposit', valueName: 'V', default: '1' },
    'negative-value': { type: 'string', description: 'raster value marking a negative (the GK-DCN raster uses 0)', valueName: 'V', default: '1' },
    'fault-where': { type: 'string', description: 'use only fault features whose property KEY equals VALUE (e.g. favourable=true)', valueName: 'KEY=VALUE' },
    'align-by-index': { type: 'string', description: 'pair label rasters on another grid by array index: their cell (r,c) is grid cell (r+R, c+C)', valueName: 'R,C' },
    'labels-as-points': {
      type: 'boolean',
      description:
        'label rasters on another grid: each marked cell (deposits: non-zero; negatives: --negative-value) becomes a point at its centre in the raster\'s own georeferencing, placed in the grid cell that holds it (no resampling)',
    },
    crs: { type: 'string', description: 'CRS of vector inputs that declare none (EPSG:N or proj4); declared CRSs are reprojected onto the grid\'s (logged)', valueName: 'CRS' },
    'drop-outside': { type: 'boolean', description: 'drop deposits/negatives outside the grid (reported) instead of failing' },
    out: { type: 'string', description: 'output sites file: .geojson, .gpkg (GeoPackage, layer "sites") or .shp (ESRI Shapefile with .prj)', valueName: 'SITES.geojson|.gpkg|.shp' },
    ...LAYER_OPTION,
    ...inputLayerOptions('deposits', 'faults', 'negatives'),
    ...dedupeOption('deposit (or negative) points of different features'),
  },
  details:
    'Each deposit cell and its 8 neighbours become positives sharing one siteId; negatives are augmented likewise.\n' +
    'Example (GK-DCN case study, label grids paired by array index with the element grid):\n' +
    '  geoanomaly sites --deposits label/Au_deposits0.tif --grid elements/Au.tif --negatives label/non_deposits.tif \\\n' +
    '    --negative-value 0 --align-by-index 0,0 --out sites.geojson\n' +
    'Example (deposits and faults as layers of one GeoPackage, sites written as GeoPackage):\n' +
    '  geoanomaly sites --deposits survey.gpkg --deposits-layer deposits --faults survey.gpkg --faults-layer faults \\\n' +
    '    --grid stack.tif --out sites.gpkg',
  async run(args, io) {
    const depositsPath = requireString(args, 'deposits', 'sites');
    const gridPath = requireString(args, 'grid', 'sites');
    const out = requireString(args, 'out', 'sites');
    sitesFileFormat(out); // a wrong extension is refused before any work
    const align = optionalString(args, 'align-by-index');
    const alignByIndex = align ? parseIndexAlignment(align) : undefined;
    const outside = args.values['drop-outside'] ? 'drop' : 'error';
    const dedupe = dedupeOf(args, 'sites');
    const asPoints = args.values['labels-as-points'] === true;
    if (asPoints && align) throw new InvalidOptionError('geoanomaly sites: --labels-as-points places label cells by their coordinates; it cannot be combined with --align-by-index');
    const ref = await readGeoTiff(gridPath);
    const grid = ref.grid;
    const excluded = new Uint8Array(grid.rows * grid.cols);
    ref.bands[0].forEach((v, i) => (excluded[i] = Number.isNaN(v) ? 1 : 0));

    const crsText = optionalString(args, 'crs');
    const assumeCrs = crsText ? parseCrs(crsText) : undefined;
    const log = (m: string): void => io.err(`sites: ${m}`);
    const dep = await readSiteCells(depositsPath, grid, { role: 'deposit', value: Number(optionalString(args, 'deposit-value') ?? '1'), alignByIndex, outside, dedupe, asPoints, assumeCrs, log, ...layerFor(args, 'deposits') });
    if (dep.alignment && !dep.alignment.aligned) io.err(`sites: ${depositsPath} paired by index (${align}) although ${dep.alignment.problems.join('; ')}`);
    if (dep.dropped.length > 0) io.err(`sites: dropped ${dep.dropped.length} deposit(s) outside the grid`);
    if (dep.duplicatesDropped) io.err(`sites: --dedupe first: dropped ${dep.duplicatesDropped} deposit feature(s) in cells already holding a deposit`);
    if (dep.merged > 0) io.err(`sites: ${dep.merged} deposit point(s) share a cell with another point of the same feature; each cell counts once`);

    const negArg = optionalString(args, 'negatives') ?? 'auto';
    const int = (name: string): number | undefined => {
      const v = optionalNumber(args, name, 'sites');
      if (v !== undefined && !Number.isInteger(v)) throw new InvalidOptionError(`geoanomaly sites: --${name} must be an integer, got ${v}`);
      return v;
    };
    let negatives: NegativeSpec;
    if (negArg === 'none') negatives = { kind: 'none' };
    else if (negArg === 'auto') {
      const faultsPath = optionalString(args, 'faults');
      const whereArg = optionalString(args, 'fault-where');
      const where = whereArg ? parseWhere(whereArg) : undefined;
      const faultDistanceM = faultsPath ? (await faultDistanceFromFile(faultsPath, grid, { alignByIndex, where, assumeCrs, ...layerFor(args, 'faults') }, { signal: io.signal, progress: io.progress, log })).distanceM : undefined;
      negatives = {
        kind: 'auto',
        count: int('count'),
        seed: int('seed') ?? 1,
        minDepositDistM: optionalNumber(args, 'min-deposit-dist', 'sites'),
        minFaultDistM: optionalNumber(args, 'min-fault-dist', 'sites'),
        faultDistanceM,
        excluded,
      };
    } else {
      const neg = await readSiteCells(negArg, grid, { role: 'negative', value: Number(optionalString(args, 'negative-value') ?? '1'), alignByIndex, outside, dedupe, asPoints, assumeCrs, log, ...layerFor(args, 'negatives') });
      if (neg.alignment && !neg.alignment.aligned) io.err(`sites: ${negArg} paired by index (${align}) although ${neg.alignment.problems.join('; ')}`);
      if (neg.dropped.length > 0) io.err(`sites: dropped ${neg.dropped.length} negative(s) outside the grid`);
      if (neg.duplicatesDropped) io.err(`sites: --dedupe first: dropped ${neg.duplicatesDropped} negative feature(s) in cells already holding a negative`);
      negatives = { kind: 'user', cells: neg.cells };
    }
    const { set, summary } = buildSites(grid, { depositCells: dep.cells, negatives, blockRadius: int('block-radius') ?? 1 });
    const written = await writeSitesFile(out, set);
    const onNodata = siteCellsOnNodata(set, ref);
    if (onNodata.cells > 0) {
      io.err(
        `sites: warning: ${onNodata.cells} block cell(s) of ${onNodata.blocks.length} block(s) fall on nodata of ${gridPath} [first: ${onNodata.first.join(', ')}]; ` +
          'train refuses patches holding nodata unless you pass --nodata fill-mean (band mean) or --nodata skip (drop those sites)',
      );
    }
    io.out(`sites: ${summary.positives} positives in ${summary.positiveBlocks} blocks (${summary.depositCells} deposit cells), ` +
      `${summary.negatives} negatives in ${summary.negativeBlocks} blocks` +
      (summary.negativeCandidates !== undefined ? ` (chosen among ${summary.negativeCandidates} admissible centres)` : ''));
    const partial = Object.entries(summary.partialBlocks);
    if (partial.length > 0) io.out(`partial blocks (clipped or shared): ${partial.map(([id, c]) => `${id}: ${c}`).join(', ')}`);
    io.out(`wrote ${written.files.join(', ')}`);
    return 0;
  },
};
