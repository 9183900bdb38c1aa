import { extname } from 'node:path';
import type { Command } from '../command.ts';
import { optionalNumber, optionalString, requireString } from '../command.ts';
import { readGeoTiff } from '../../io/geotiff-read.ts';
import { writeGeoTiff } from '../../io/geotiff-write.ts';
import { layerPoints, readVector } from '../../io/vector.ts';
import { parseCrs } from '../../grid/crs.ts';
import type { Crs } from '../../grid/crs.ts';
import { bandIndex } from '../../grid/raster.ts';
import type { GridSpec } from '../../grid/grid-spec.ts';
import { cellOf, inGrid } from '../../grid/grid-spec.ts';
import { cellsFromLabelRaster, parseIndexAlignment } from '../../sites/label-cells.ts';
import { readSitesGeoJson } from '../../sites/sites-geojson.ts';
import { evaluateMap } from '../../eval/success-rate.ts';
import { anomalyClasses, concentrationArea } from '../../eval/concentration-area.ts';
import { writeJsonAtomic } from '../../util/atomic-write.ts';
import { comparisonRecord, depositPlacements, formatComparison, pairedDepositBootstrap, type Comparison } from '../../eval/bootstrap.ts';
import { InvalidFileError, InvalidOptionError } from '../../errors.ts';

interface DepositInput {
  /** One cell index per deposit (repeated for several deposits in one cell). */
  readonly cells: number[];
  readonly outsideMap: number;
  readonly kind: 'points' | 'raster';
}

async function depositCells(file: string, grid: GridSpec, opts: { assumeCrs?: Crs; alignByIndex?: string; value: number }): Promise<DepositInput> {
  if (/^\.tiff?$/i.test(extname(file))) {
    const label = await readGeoTiff(file);
    const r = cellsFromLabelRaster(grid, label, {
      value: opts.value,
      role: 'deposit',
      outside: 'drop',
      alignByIndex: opts.alignByIndex ? parseIndexAlignment(opts.alignByIndex) : undefined,
    });
    return { cells: r.cells, outsideMap: r.dropped.length, kind: 'raster' };
  }
  const layer = await readVector(file, { targetCrs: grid.crs ?? undefined, assumeCrs: opts.assumeCrs });
  const pts = layerPoints(layer);
  if (pts.x.length === 0) {
    throw new InvalidFileError(file, `holds ${layer.features.length} feature(s) but no points`, 'Give deposits as Point features (or a raster of 1s on the map grid)');
  }
  const cells: number[] = [];
  let outsideMap = 0;
  for (let i = 0; i < pts.x.length; i++) {
    const { row, col } = cellOf(grid, pts.x[i], pts.y[i]);
    if (inGrid(grid, row, col)) cells.push(row * grid.cols + col);
    else outsideMap++;
  }
  return { cells, outsideMap, kind: 'points' };
}

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'map-level evaluation: AUC, success-rate curve, P–A plot, C–A thresholds',
  usage: '--map PROB.tif --deposits FILE [--exclude-training SITES.geojson] [--compare A,B,… [--compare-map OTHER.tif]] --out EVAL.json',
  options: {
    map: { type: 'string', description: 'probability or anomaly map (GeoTIFF; first band unless --band)', valueName: 'PROB.tif' },
    band: { type: 'string', description: 'band name of the map to evaluate', valueName: 'NAME' },
    deposits: { type: 'string', description: 'held-out deposits: points (GeoJSON/Shapefile) or a raster marking deposit cells', valueName: 'FILE' },
    'deposit-value': { type: 'string', description: 'raster value marking a deposit cell', valueName: 'V', default: '1' },
    'align-by-index': { type: 'string', description: 'pair a deposit raster on another grid by array index: its cell (r,c) is map cell (r+R, c+C)', valueName: 'R,C' },
    'exclude-training': { type: 'string', description: 'training sites GeoJSON: their cells are left out of the evaluation area', valueName: 'SITES.geojson' },
    crs: { type: 'string', description: 'CRS of vector inputs that declare none (EPSG:N or proj4)', valueName: 'CRS' },
    'ca-breaks': { type: 'string', description: 'comma-separated C–A breaks to use instead of the automatic fit', valueName: 'V1,V2,…' },
    'ca-segments': { type: 'string', description: 'fix the number of C–A segments (2–4; default chosen by BIC)', valueName: 'N' },
    classes: { type: 'string', description: 'also write the C–A anomaly classes raster', valueName: 'CLASSES.tif' },
    compare: {
      type: 'string',
      description: 'bands (e.g. p_gk-dcn,p_cnn,p_rf) whose map AUCs at the deposits are compared pairwise: paired bootstrap over deposits → "comparisons" in EVAL.json',
      valueName: 'A,B,…',
    },
    'compare-map': { type: 'string', description: 'read the --compare bands from this GeoTIFF instead of --map (same grid)', valueName: 'OTHER.tif' },
    seed: { type: 'string', description: 'seed of the comparison bootstrap', valueName: 'N', default: '1' },
    out: { type: 'string', description: 'evaluation JSON (keys auc, successRate, paIntersection, caBreaks, …)', valueName: 'EVAL.json' },
  },
  details:
    'Deposits must be held out from training; cells of the training sites (--exclude-training) are removed from\n' +
    'the study area so the map is not scored on its own training labels. auc is the ROC AUC of deposit cells\n' +
    'against all other study cells; successRate.auc the area under the success-rate curve.\n' +
    'Example: geoanomaly evaluate --map run/prob-gk-dcn.tif --deposits holdout.geojson --exclude-training sites.geojson --out eval.json',
  async run(args, io) {
    const mapPath = requireString(args, 'map', 'evaluate');
    const depositsPath = requireString(args, 'deposits', 'evaluate');
    const outPath = requireString(args, 'out', 'evaluate');
    const crsText = optionalString(args, 'crs');
    const assumeCrs = crsText ? parseCrs(crsText) : undefined;
    const map = await readGeoTiff(mapPath);
    const bandName = optionalString(args, 'band');
    const b = bandName ? bandIndex(map, bandName) : 0;
    const scores = map.bands[b];
    const grid = map.grid;
    io.progress(0.1, 'reading deposits');
    const deposits = await depositCells(depositsPath, grid, {
      assumeCrs,
      alignByIndex: optionalString(args, 'align-by-index'),
      value: optionalNumber(args, 'deposit-value', 'evaluate') ?? 1,
    });
    if (deposits.outsideMap > 0) io.err(`evaluate: ${deposits.outsideMap} deposit(s) lie outside the map and are not evaluated`);
    let exclude: Uint8Array | undefined;
    const sitesPath = optionalString(args, 'exclude-training');
    if (sitesPath) {
      const sites = await readSitesGeoJson(sitesPath, grid, { assumeCrs });
      exclude = new Uint8Array(grid.rows * grid.cols);
      for (const s of sites.sites) exclude[s.row * grid.cols + s.col] = 1;
    }
    io.progress(0.3, 'success-rate and P–A curves');
    const evaluation = evaluateMap(scores, deposits.cells, { exclude });
    if (evaluation.counts.depositsExcluded > 0) {
      io.err(`evaluate: ${evaluation.counts.depositsExcluded} deposit(s) lie in training-site cells and are not evaluated (they are not held out)`);
    }
    io.progress(0.6, 'concentration–area model');
    const breaksText = optionalString(args, 'ca-breaks');
    const breaks = breaksText ? breaksText.split(',').map((s) => Number(s.trim())) : undefined;
    if (breaks && breaks.some((v) => !Number.isFinite(v))) throw new InvalidOptionError(`evaluate: --ca-breaks must be numbers, got "${breaksText}"`);
    const projected = grid.crs !== null && !grid.crs.geographic;
    const cellAreaKm2 = projected ? (grid.cellSizeX * grid.cellSizeY) / 1e6 : 1;
    const ca = concentrationArea(scores, {
      breaks,
      segments: optionalNumber(args, 'ca-segments', 'evaluate'),
      cellArea: cellAreaKm2,
    });
    const classesPath = optionalString(args, 'classes');
    if (classesPath) {
      writeGeoTiff(classesPath, { grid, bandNames: ['ca_class'], bands: [anomalyClasses(scores, ca.breaks)] });
    }
    const report = {
      auc: evaluation.auc,
      successRate: evaluation.successRate,
      paIntersection: evaluation.paIntersection,
      caBreaks: ca.breaks,
      pa: evaluation.pa,
      ca: {
        source: ca.source,
        areaUnit: projected ? 'km2' : 'cells',
        thresholds: ca.thresholds,
        area: ca.area,
        segments: ca.segments,
        rss: ca.rss,
        nonPositiveCells: ca.nonPositiveCells,
      },
      counts: { ...evaluation.counts, depositsOutsideMap: deposits.outsideMap },
      inputs: {
        map: mapPath,
        band: map.bandNames[b],
        deposits: depositsPath,
        depositKind: deposits.kind,
        excludeTraining: sitesPath ?? null,
        classes: classesPath ?? null,
      },
    };
    // Paired comparisons of map AUCs at the same deposits (eval/bootstrap.ts pairedDepositBootstrap).
    const compareBands = optionalString(args, 'compare')?.split(',').map((x) => x.trim()).filter((x) => x !== '') ?? [];
    const comparisons: Comparison[] = [];
    if (compareBands.length > 0) {
      if (compareBands.length < 2) throw new InvalidOptionError('evaluate: --compare needs at least two band names, e.g. --compare p_gk-dcn,p_cnn');
      const cmpPath = optionalString(args, 'compare-map');
      const cmpMap = cmpPath ? await readGeoTiff(cmpPath) : map;
      if (cmpPath && (cmpMap.grid.rows !== grid.rows || cmpMap.grid.cols !== grid.cols)) {
        throw new InvalidOptionError(`evaluate: --compare-map ${cmpPath} is ${cmpMap.grid.rows}×${cmpMap.grid.cols} cells, --map is ${grid.rows}×${grid.cols}; give maps on one grid`);
      }
      const placements = compareBands.map((name) => depositPlacements(cmpMap.bands[bandIndex(cmpMap, name)], deposits.cells, exclude));
      const seed = optionalNumber(args, 'seed', 'evaluate') ?? 1;
      for (let i = 0; i < compareBands.length; i++) {
        for (let j = i + 1; j < compareBands.length; j++) {
          const c = comparisonRecord(compareBands[i], compareBands[j], 'map auc', pairedDepositBootstrap(placements[i], placements[j], { seed }), 'deposit bootstrap');
          comparisons.push(c);
          io.out(formatComparison({ ...c, a: c.a.replace(/^p_/, ''), b: c.b.replace(/^p_/, ''), metric: 'auc' }));
        }
      }
    }
    writeJsonAtomic(outPath, comparisons.length > 0 ? { ...report, comparisons } : report);
    io.progress(1, 'done');
    io.out(
      `AUC ${evaluation.auc.toFixed(4)} · success-rate AUC ${evaluation.successRate.auc.toFixed(4)} · ` +
        `P–A: ${(evaluation.paIntersection.predictionRate * 100).toFixed(1)}% of deposits in ` +
        `${(evaluation.paIntersection.areaShare * 100).toFixed(1)}% of the area (threshold ${evaluation.paIntersection.threshold.toPrecision(4)}) · ` +
        `C–A breaks ${ca.breaks.map((v) => v.toPrecision(4)).join(', ')} · ${evaluation.counts.depositsUsed} deposit(s) → ${outPath}`,
    );
    return 0;
  },
};
