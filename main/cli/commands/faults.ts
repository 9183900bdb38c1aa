import type { Command, ParsedArgs } from '../command.ts';
import { optionalNumber, optionalString, requireString } from '../command.ts';
import { readGeoTiff } from '../../io/geotiff-read.ts';
import { writeGeoTiff } from '../../io/geotiff-write.ts';
import { writeJsonAtomic } from '../../util/atomic-write.ts';
import { InvalidOptionError } from '../../errors.ts';
import { parseCrs } from '../../grid/crs.ts';
import { faultDistanceFromFile, parseWhere } from '../../faults/fault-inputs.ts';
import { faultBuffers } from '../../faults/distance-to-faults.ts';
import { defaultRingWidth, fitDensityPowerLaw, type PowerLawFit, type RingDistance } from '../../faults/power-law.ts';
import { ringWeights, weightMap, type WeightNormalisation } from '../../faults/weight-map.ts';
import { parseIndexAlignment } from '../../sites/label-cells.ts';
import { readSiteCells } from '../../sites/site-inputs.ts';
import { LAYER_OPTION, inputLayerOptions, layerFor } from '../layer-options.ts';
import { dedupeOf, dedupeOption } from '../dedupe-option.ts';
import { checkPowerLaw, formatWarning } from '../../eval/trust-checks.ts';

function parseWidths(text: string): number[] {
  const widths = text.split(',').map((s) => Number(s.trim()));
  if (widths.length === 0 || widths.some((w) => !(Number.isFinite(w) && w >= 0))) {
    throw new InvalidOptionError(`--buffers expects comma-separated widths in metres (e.g. 1000,2000), got "${text}"`);
  }
  return widths;
}

function normalisationOf(args: ParsedArgs): WeightNormalisation {
  const v = optionalString(args, 'normalisation') ?? 'max';
  if (v !== 'max' && v !== 'minmax') throw new InvalidOptionError(`geoanomaly faults: --normalisation must be "max" or "minmax", got "${v}"`);
  return v;
}

export const faultsCommand: Command = {
  name: 'faults',
  summary: 'distance to faults, deposit density–distance power law, fault weight map',
  usage:
    '--faults LINES(.shp|.geojson)|RASTER.tif --grid REF.tif --deposits POINTS|RASTER.tif [--ring METRES] ' +
    '--distance OUT_DIST.tif --weight OUT_W.tif --report POWERLAW.json',
  paths: { outputs: { distance: 'file', weight: 'file', report: 'file', 'buffers-out': 'file' }, inputs: ['faults', 'grid', 'deposits'] },
  options: {
    faults: { type: 'string', description: 'fault traces (GeoJSON/Shapefile lines) or a fault raster (non-zero = fault)', valueName: 'FILE' },
    grid: { type: 'string', description: 'reference GeoTIFF: its grid (projected CRS) and nodata mask are used', valueName: 'REF.tif' },
    deposits: { type: 'string', description: 'deposit points (GeoJSON/Shapefile) or deposit raster', valueName: 'FILE' },
    'deposit-value': { type: 'string', description: 'raster value marking a deposit', valueName: 'V', default: '1' },
    ring: { type: 'string', description: 'ring width in metres (default: one cell)', valueName: 'METRES' },
    'min-ring': { type: 'string', description: 'first ring used in the fit (skip a flat near-fault zone)', valueName: 'N', default: '1' },
    'ring-distance': { type: 'string', description: 'distance a ring stands for in the law: outer (edge, the paper\'s) or mid', valueName: 'outer|mid', default: 'outer' },
    'max-ring': { type: 'string', description: 'last ring fitted and weighted; farther cells take its weight (default: ring of the farthest deposit)', valueName: 'N' },
    k: { type: 'string', description: 'use this exponent for the weight map instead of fitting one (no --deposits needed)', valueName: 'K' },
    normalisation: { type: 'string', description: 'weight normalisation: max (w = m(d)/m_max) or minmax (as the case study)', valueName: 'max|minmax', default: 'max' },
    distance: { type: 'string', description: 'output distance-to-fault GeoTIFF (metres)', valueName: 'OUT.tif' },
    weight: { type: 'string', description: 'output weight map GeoTIFF (0–1)', valueName: 'OUT.tif' },
    report: { type: 'string', description: 'output JSON with N, k, r2 and the per-ring counts and areas', valueName: 'OUT.json' },
    buffers: { type: 'string', description: 'fault buffer widths in metres, comma-separated', valueName: 'W1,W2,…' },
    'buffers-out': { type: 'string', description: 'output GeoTIFF with one 0/1 band per buffer width', valueName: 'OUT.tif' },
    'fault-threshold': {
      type: 'string',
      description: 'fault raster: cells with value ≥ V are faults (for continuous rasters; default: every non-zero cell)',
      valueName: 'V',
    },
    'fault-where': { type: 'string', description: 'use only fault features whose property KEY equals VALUE (e.g. favourable=true)', valueName: 'KEY=VALUE' },
    'align-by-index': { type: 'string', description: 'pair a deposit/fault raster on another grid by array index: its cell (r,c) is grid cell (r+R, c+C)', valueName: 'R,C' },
    crs: { type: 'string', description: 'CRS of vector inputs that declare none (EPSG:N or proj4); declared CRSs are reprojected onto the grid\'s (logged)', valueName: 'CRS' },
    'drop-outside': { type: 'boolean', description: 'drop deposits outside the grid (reported) instead of failing' },
    ...LAYER_OPTION,
    ...inputLayerOptions('faults', 'deposits'),
    ...dedupeOption('deposit points of different features'),
  },
  details:
    'Rings: ring i holds distances in ((i−1)·w, i·w]; cells on a fault are in ring 1. The law m(d) = N·d^k is fitted\n' +
    'in log–log space over rings holding deposits, d = outer ring edge in km (--ring-distance mid: its middle),\n' +
    'm = deposit cells per km².\n' +
    'Example (GK-DCN case study, labels paired by index):\n' +
    '  geoanomaly faults --faults faults.geojson --grid elements/Au.tif --deposits label/Au_deposits0.tif \\\n' +
    '    --align-by-index 0,0 --distance dist.tif --weight w.tif --report powerlaw.json\n' +
    'Example (faults and deposits as layers of one GeoPackage; "geoanomaly info survey.gpkg" lists them):\n' +
    '  geoanomaly faults --faults survey.gpkg --faults-layer faults --deposits survey.gpkg --deposits-layer deposits \\\n' +
    '    --grid stack.tif --distance dist.tif --weight w.tif --report powerlaw.json',
  async run(args, io) {
    const faultsPath = requireString(args, 'faults', 'faults');
    const gridPath = requireString(args, 'grid', 'faults');
    const depositsPath = optionalString(args, 'deposits');
    const givenK = optionalNumber(args, 'k', 'faults');
    if (!depositsPath && givenK === undefined) throw new InvalidOptionError('geoanomaly faults: give --deposits to fit the power law, or --k to use a known exponent');
    const outputs = ['distance', 'weight', 'report', 'buffers-out'].filter((o) => optionalString(args, o));
    if (outputs.length === 0) throw new InvalidOptionError('geoanomaly faults: nothing to write; give --distance, --weight, --report and/or --buffers-out');
    const align = optionalString(args, 'align-by-index');
    const alignByIndex = align ? parseIndexAlignment(align) : undefined;
    const normalisation = normalisationOf(args);

    const ref = await readGeoTiff(gridPath);
    const grid = ref.grid;
    const excluded = new Uint8Array(grid.rows * grid.cols);
    ref.bands[0].forEach((v, i) => (excluded[i] = Number.isNaN(v) ? 1 : 0));
    const ctx = { signal: io.signal, progress: io.progress, log: (m: string) => io.err(`faults: ${m}`) };
    const whereArg = optionalString(args, 'fault-where');
    const crsText = optionalString(args, 'crs');
    const assumeCrs = crsText ? parseCrs(crsText) : undefined;
    const threshold = optionalNumber(args, 'fault-threshold', 'faults');
    const fd = await faultDistanceFromFile(faultsPath, grid, { alignByIndex, assumeCrs, where: whereArg ? parseWhere(whereArg) : undefined, threshold, ...layerFor(args, 'faults') }, ctx);
    io.out(`faults: ${fd.elements} ${fd.kind === 'lines' ? 'segments' : 'fault cells'} (${fd.elementsInGrid} in the grid)`);
    const distance = Float32Array.from(fd.distanceM, (d, i) => (excluded[i] ? NaN : d));

    const ringWidthM = optionalNumber(args, 'ring', 'faults') ?? defaultRingWidth(grid);
    const maxRingOpt = optionalNumber(args, 'max-ring', 'faults');
    const minRing = optionalNumber(args, 'min-ring', 'faults');
    const ringDistanceArg = optionalString(args, 'ring-distance') ?? 'outer';
    if (ringDistanceArg !== 'outer' && ringDistanceArg !== 'mid') throw new InvalidOptionError(`geoanomaly faults: --ring-distance must be "outer" or "mid", got "${ringDistanceArg}"`);
    const ringDistance: RingDistance = ringDistanceArg;
    let fit: PowerLawFit | null = null;
    if (depositsPath) {
      const dep = await readSiteCells(depositsPath, grid, {
        role: 'deposit',
        value: Number(optionalString(args, 'deposit-value') ?? '1'),
        alignByIndex,
        outside: args.values['drop-outside'] ? 'drop' : 'error',
        ...layerFor(args, 'deposits'),
        dedupe: dedupeOf(args, 'faults'),
        assumeCrs,
        log: ctx.log,
      });
      if (dep.duplicatesDropped) io.err(`faults: --dedupe first: dropped ${dep.duplicatesDropped} deposit feature(s) in cells already holding a deposit`);
      if (dep.alignment && !dep.alignment.aligned) io.err(`faults: ${depositsPath} paired by index (${align}) although ${dep.alignment.problems.join('; ')}`);
      if (dep.dropped.length > 0) io.err(`faults: dropped ${dep.dropped.length} deposit(s) outside the grid`);
      fit = fitDensityPowerLaw(grid, distance, dep.cells, { ringWidthM, maxRing: maxRingOpt, minRing, ringDistance, excluded });
      io.out(`power law: m(d) = ${fit.N.toPrecision(4)}·d^${fit.k.toFixed(4)}  (R² = ${fit.r2.toFixed(4)}, ${fit.depositCells} deposit cells, ${fit.rings.filter((r) => r.usedInFit).length} rings fitted)`);
      // Only a fitted law is checked: a given --k is the user's choice.
      if (givenK === undefined) for (const w of checkPowerLaw(fit)) io.err(formatWarning(w));
    }
    const k = givenK ?? (fit as PowerLawFit).k;
    const maxRing = maxRingOpt ?? fit?.maxRing ?? 12;
    const weightOpts = { k, ringWidthM, maxRing, normalisation, ringDistance };

    const distanceOut = optionalString(args, 'distance');
    if (distanceOut) {
      writeGeoTiff(distanceOut, { grid, bandNames: ['fault_distance_m'], bands: [distance] });
      io.out(`wrote ${distanceOut}`);
    }
    const weightOut = optionalString(args, 'weight');
    if (weightOut) {
      writeGeoTiff(weightOut, { grid, bandNames: ['fault_weight'], bands: [weightMap(distance, weightOpts)] });
      io.out(`wrote ${weightOut}`);
    }
    const buffersOut = optionalString(args, 'buffers-out');
    if (buffersOut) {
      const widths = parseWidths(requireString(args, 'buffers', 'faults'));
      const masks = faultBuffers(distance, widths);
      writeGeoTiff(buffersOut, {
        grid,
        bandNames: widths.map((w) => `buffer_${w}m`),
        bands: masks.map((m) => Float32Array.from(m, (v, i) => (excluded[i] ? NaN : v))),
      });
      io.out(`wrote ${buffersOut}`);
    }
    const reportOut = optionalString(args, 'report');
    if (reportOut) {
      writeJsonAtomic(reportOut, {
        ...(fit ?? { N: null, k, r2: null, rings: [] }),
        warnings: fit && givenK === undefined ? checkPowerLaw(fit) : [],
        weight: { ...weightOpts, ringWeights: Array.from(ringWeights(weightOpts)).slice(1) },
        faults: { file: faultsPath, kind: fd.kind, elements: fd.elements, elementsInGrid: fd.elementsInGrid },
        grid: gridPath,
        deposits: depositsPath ?? null,
      });
      io.out(`wrote ${reportOut}`);
    }
    return 0;
  },
};
