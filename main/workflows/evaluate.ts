import { extname } from 'node:path';
import { readGeoTiff } from '../io/geotiff-read.ts';
import { writeGeoTiff } from '../io/geotiff-write.ts';
import { layerPoints, readVector } from '../io/vector.ts';
import { parseCrs, type Crs } from '../grid/crs.ts';
import { bandIndex } from '../grid/raster.ts';
import { cellOf, inGrid, type GridSpec } from '../grid/grid-spec.ts';
import { cellsFromLabelRaster, parseIndexAlignment } from '../sites/label-cells.ts';
import { cellsFromLabelPoints } from '../sites/label-points.ts';
import { DEDUPE_POLICIES, readSitesGeoJson, type DedupePolicy } from '../sites/sites-geojson.ts';
import { evaluateMap } from '../eval/success-rate.ts';
import { anomalyClasses, concentrationArea } from '../eval/concentration-area.ts';
import { writeJsonAtomic } from '../util/atomic-write.ts';
import { comparisonRecord, depositPlacements, formatComparison, pairedDepositBootstrap, type Comparison } from '../eval/bootstrap.ts';
import { InvalidFileError, InvalidOptionError } from '../errors.ts';
import { maskValues, readStudyMask } from '../eval/study-mask.ts';
import type { JobContext } from '../jobs/job.ts';
import { checkWorkflowPaths, required } from './option-table.ts';
import { EVALUATE_OPTIONS, EVALUATE_PATHS, type EvaluateWorkflowOptions } from './evaluate-options.ts';
import type { EvaluateWorkflowResult } from './evaluate-result.ts';

export { EVALUATE_OPTIONS, EVALUATE_PATHS, type EvaluateWorkflowOptions } from './evaluate-options.ts';
export type { EvaluateComparison, EvaluateWorkflowResult } from './evaluate-result.ts';

/** A vector input's layer: its own `--<input>-layer`, else `--layer`; errors quote the input's own flag. */
interface LayerChoice {
  readonly layer?: string;
  readonly layerFlag: string;
}
const layerChoice = (own: string | undefined, generic: string | undefined, input: string): LayerChoice => ({ layer: own || generic || undefined, layerFlag: `--${input}-layer` });

interface DepositInput {
  /** One cell index per deposit (repeated for several deposits in one cell). */
  readonly cells: number[];
  readonly outsideMap: number;
  readonly kind: 'points' | 'raster';
}

async function depositCells(file: string, grid: GridSpec, opts: { assumeCrs?: Crs; alignByIndex?: string; value: number; layer: LayerChoice; asPoints?: boolean; log?: (m: string) => void }): Promise<DepositInput> {
  if (/^\.tiff?$/i.test(extname(file))) {
    const label = await readGeoTiff(file);
    if (opts.asPoints) {
      // A label raster on another grid: its marked (non-zero) cells as points (sites/label-points.ts), no resampling.
      const p = cellsFromLabelPoints(grid, label, { role: 'deposit', value: 'non-zero', outside: 'drop' });
      return { cells: p.cells, outsideMap: p.dropped.length, kind: 'raster' };
    }
    const r = cellsFromLabelRaster(grid, label, {
      value: opts.value,
      role: 'deposit',
      outside: 'drop',
      alignByIndex: opts.alignByIndex ? parseIndexAlignment(opts.alignByIndex) : undefined,
    });
    return { cells: r.cells, outsideMap: r.dropped.length, kind: 'raster' };
  }
  const layer = await readVector(file, { targetCrs: grid.crs ?? undefined, assumeCrs: opts.assumeCrs, grid, log: opts.log, ...opts.layer });
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

/**
 * Map-level evaluation of one band at held-out deposits: ROC AUC, success-rate curve, P–A
 * intersection, C–A thresholds (optionally the classes raster) and, with `compare`, paired
 * deposit-bootstrap comparisons of several bands' map AUCs. Writes EVAL.json (atomically);
 * notes go to `ctx.log`, and each comparison's line too (the CLI prints them on stdout, see
 * evaluateResultLines).
 */
export async function evaluateWorkflow(o: EvaluateWorkflowOptions, ctx: JobContext = {}): Promise<EvaluateWorkflowResult> {
  checkWorkflowPaths(EVALUATE_OPTIONS, EVALUATE_PATHS, o);
  const cmd = 'evaluate';
  const log = (m: string): void => ctx.log?.(m);
  const progress = (f: number, m: string): void => ctx.progress?.(f, m);
  const mapPath = required(o.map, 'map', cmd);
  const depositsPath = required(o.deposits, 'deposits', cmd);
  const outPath = required(o.out, 'out', cmd);
  const assumeCrs = o.crs ? parseCrs(o.crs) : undefined;
  const map = await readGeoTiff(mapPath);
  const b = o.band ? bandIndex(map, o.band) : 0;
  const grid = map.grid;
  const maskPath = o.mask || undefined;
  const studyMask = maskPath ? await readStudyMask(maskPath, grid) : null;
  // Outside the study area a map cell is nodata: not background, not a deposit, not C–A area.
  const masked = (band: Float32Array): Float32Array => (studyMask ? maskValues(band, studyMask) : band);
  const scores = masked(map.bands[b]);
  progress(0.1, 'reading deposits');
  const deposits = await depositCells(depositsPath, grid, {
    assumeCrs,
    log,
    alignByIndex: o.alignByIndex || undefined,
    value: o.depositValue ?? EVALUATE_OPTIONS.depositValue.default,
    layer: layerChoice(o.depositsLayer, o.layer, 'deposits'),
    asPoints: o.labelsAsPoints === true,
  });
  const depositsOutsideMask = studyMask ? deposits.cells.filter((c) => !studyMask.cells[c]).length : 0;
  if (depositsOutsideMask > 0) log(`evaluate: ${depositsOutsideMask} deposit(s) lie outside the study-area mask and are not evaluated`);
  if (studyMask) deposits.cells.splice(0, deposits.cells.length, ...deposits.cells.filter((c) => studyMask.cells[c]));
  if (deposits.outsideMap > 0) log(`evaluate: ${deposits.outsideMap} deposit(s) lie outside the map and are not evaluated`);
  let exclude: Uint8Array | undefined;
  const sitesPath = o.excludeTraining || undefined;
  if (sitesPath) {
    // --dedupe only matters (and is only checked) when there are training sites to read.
    const dedupe = (o.dedupe || EVALUATE_OPTIONS.dedupe.default) as DedupePolicy;
    if (!DEDUPE_POLICIES.includes(dedupe)) throw new InvalidOptionError(`geoanomaly ${cmd}: --dedupe must be "first" or "refuse", got "${dedupe}"`);
    const sites = await readSitesGeoJson(sitesPath, grid, { assumeCrs, log, ...layerChoice(o.excludeTrainingLayer, o.layer, 'exclude-training'), dedupe, dedupeFlag: '--dedupe first' });
    exclude = new Uint8Array(grid.rows * grid.cols);
    for (const s of sites.sites) exclude[s.row * grid.cols + s.col] = 1;
  }
  progress(0.3, 'success-rate and P–A curves');
  const evaluation = evaluateMap(scores, deposits.cells, { exclude });
  if (evaluation.counts.depositsExcluded > 0) {
    log(`evaluate: ${evaluation.counts.depositsExcluded} deposit(s) lie in training-site cells and are not evaluated (they are not held out)`);
  }
  progress(0.6, 'concentration–area model');
  const breaksText = o.caBreaks || undefined;
  const breaks = breaksText ? breaksText.split(',').map((s) => Number(s.trim())) : undefined;
  if (breaks && breaks.some((v) => !Number.isFinite(v))) throw new InvalidOptionError(`evaluate: --ca-breaks must be numbers, got "${breaksText}"`);
  const projected = grid.crs !== null && !grid.crs.geographic;
  const cellAreaKm2 = projected ? (grid.cellSizeX * grid.cellSizeY) / 1e6 : 1;
  const ca = concentrationArea(scores, { breaks, segments: o.caSegments, cellArea: cellAreaKm2 });
  const classesPath = o.classes || undefined;
  if (classesPath) writeGeoTiff(classesPath, { grid, bandNames: ['ca_class'], bands: [anomalyClasses(scores, ca.breaks)] });
  const counts = { ...evaluation.counts, depositsOutsideMap: deposits.outsideMap, depositsOutsideMask, studyCellsInMask: studyMask?.inside ?? null };
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
    counts,
    inputs: {
      map: mapPath,
      band: map.bandNames[b],
      deposits: depositsPath,
      depositKind: deposits.kind,
      excludeTraining: sitesPath ?? null,
      mask: maskPath ?? null,
      classes: classesPath ?? null,
    },
  };
  // Paired comparisons of map AUCs at the same deposits (eval/bootstrap.ts pairedDepositBootstrap).
  const compareBands = o.compare?.split(',').map((x) => x.trim()).filter((x) => x !== '') ?? [];
  const comparisons: Comparison[] = [];
  if (compareBands.length > 0) {
    if (compareBands.length < 2) throw new InvalidOptionError('evaluate: --compare needs at least two band names, e.g. --compare p_gk-dcn,p_cnn');
    const cmpPath = o.compareMap || undefined;
    const cmpMap = cmpPath ? await readGeoTiff(cmpPath) : map;
    if (cmpPath && (cmpMap.grid.rows !== grid.rows || cmpMap.grid.cols !== grid.cols)) {
      throw new InvalidOptionError(`evaluate: --compare-map ${cmpPath} is ${cmpMap.grid.rows}×${cmpMap.grid.cols} cells, --map is ${grid.rows}×${grid.cols}; give maps on one grid`);
    }
    const placements = compareBands.map((name) => depositPlacements(masked(cmpMap.bands[bandIndex(cmpMap, name)]), deposits.cells, exclude));
    const seed = o.seed ?? EVALUATE_OPTIONS.seed.default;
    for (let i = 0; i < compareBands.length; i++) {
      for (let j = i + 1; j < compareBands.length; j++) {
        comparisons.push(comparisonRecord(compareBands[i], compareBands[j], 'map auc', pairedDepositBootstrap(placements[i], placements[j], { seed }), 'deposit bootstrap'));
      }
    }
  }
  writeJsonAtomic(outPath, comparisons.length > 0 ? { ...report, comparisons } : report);
  progress(1, 'done');
  return {
    outputs: { evaluation: outPath, ...(classesPath ? { classes: classesPath } : {}) },
    band: map.bandNames[b],
    auc: evaluation.auc,
    successRateAuc: evaluation.successRate.auc,
    paIntersection: evaluation.paIntersection,
    caBreaks: ca.breaks,
    caSource: ca.source,
    counts,
    comparisons,
  };
}

/** The lines "geoanomaly evaluate" prints on stdout for a result: one per comparison, then the summary. */
export function evaluateResultLines(r: EvaluateWorkflowResult): string[] {
  const pa = r.paIntersection;
  return [
    ...r.comparisons.map((c) => formatComparison({ ...c, a: c.a.replace(/^p_/, ''), b: c.b.replace(/^p_/, ''), metric: 'auc' })),
    `AUC ${r.auc.toFixed(4)} · success-rate AUC ${r.successRateAuc.toFixed(4)} · ` +
      `P–A: ${(pa.predictionRate * 100).toFixed(1)}% of deposits in ` +
      `${(pa.areaShare * 100).toFixed(1)}% of the area (threshold ${pa.threshold.toPrecision(4)}) · ` +
      `C–A breaks ${r.caBreaks.map((v) => v.toPrecision(4)).join(', ')} · ${r.counts.depositsUsed} deposit(s) → ${r.outputs.evaluation}`,
  ];
}
