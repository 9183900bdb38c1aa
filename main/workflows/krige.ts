import { dirname, resolve } from 'node:path';
import { CrsError, InvalidOptionError } from '../errors.ts';
import { parseCrs, requireProjected, sameCrs } from '../grid/crs.ts';
import { assertGridSize } from '../kriging/grid-size-limit.ts';
import { assertPlausibleCoordinates, boundsOfPositions, reprojectPoints } from '../grid/reproject.ts';
import { gridFromExtent, type GridSpec } from '../grid/grid-spec.ts';
import { readGeoTiffInfo } from '../io/geotiff-read.ts';
import { writeGeoTiff } from '../io/geotiff-write.ts';
import { squaredUnit } from '../util/display-names.ts';
import { readSampleTable } from '../io/table.ts';
import { writeJsonAtomic } from '../util/atomic-write.ts';
import { subJob, type JobContext } from '../jobs/job.ts';
import { krigeGrid } from '../kriging/krige-grid.ts';
import { crossValidate, type CvSummary } from '../kriging/cross-validation.ts';
import type { KrigedElement, KrigeWorkflowResult } from './workflow-results.ts';

export type { KrigedElement, KrigeWorkflowResult } from './workflow-results.ts';
import type { KrigeOptions } from '../kriging/krige-options.ts';
import { describeModel, parseVariogramSpec } from '../kriging/variogram-model.ts';
import { checkKrigingExtrapolation, extrapolationSummary, formatWarning, practicalRangeM } from '../eval/trust-checks.ts';
import { checkWorkflowPaths, required, type OptionTable, type OptionsOf, type WorkflowPaths } from './option-table.ts';
import { queueBatchRow } from './queue-rows.ts';
import { parseQueueBatch } from '../queue/batch-option.ts';

/** Above this many samples, kriging without --nmax uses a neighbourhood instead of all points. */
export const GLOBAL_LIMIT = 2000;
export const DEFAULT_NMAX = 32;

/**
 * The options of "krige a sample table onto a grid", defined once: the CLI's flags and `--help`
 * (main/cli/commands/krige.ts) and the app's typed `krige` request are generated from this table.
 */
export const KRIGE_OPTIONS = {
  samples: { flag: 'samples', kind: 'string', description: 'sample table (CSV, TSV or XLSX)', valueName: 'FILE' },
  x: { flag: 'x', kind: 'string', description: 'x (easting) column', valueName: 'COL' },
  y: { flag: 'y', kind: 'string', description: 'y (northing) column', valueName: 'COL' },
  crs: { flag: 'crs', kind: 'string', description: 'CRS of x/y (EPSG:N or proj4): projected in metres, or any CRS (e.g. EPSG:4326 lon/lat) with --like, whose grid CRS the samples are then reprojected to (logged)', valueName: 'CRS' },
  fields: { flag: 'fields', kind: 'string', description: 'comma-separated element columns, or "all"', valueName: 'A,B|all' },
  cell: { flag: 'cell', kind: 'number', description: 'cell size in metres', valueName: 'METRES' },
  extent: { flag: 'extent', kind: 'string', description: 'grid extent in CRS units', valueName: 'xmin,ymin,xmax,ymax' },
  like: { flag: 'like', kind: 'string', description: 'take the grid (extent, cells, CRS) from this GeoTIFF', valueName: 'GRID.tif' },
  model: { flag: 'model', kind: 'string', description: 'variogram model to fit: auto (best of sph/exp/gau), sph, exp, gau', valueName: 'MODEL', default: 'auto' },
  variogram: { flag: 'variogram', kind: 'string', description: 'fixed model MODEL:NUGGET:PSILL:RANGE[:ANGLE:RATIO] instead of fitting', valueName: 'SPEC' },
  cutoff: { flag: 'cutoff', kind: 'number', description: 'variogram cutoff in metres (default: diagonal/3)', valueName: 'METRES' },
  lagWidth: { flag: 'lag-width', kind: 'number', description: 'variogram lag width in metres (default: cutoff/15)', valueName: 'METRES' },
  nmax: { flag: 'nmax', kind: 'number', description: 'nearest samples per prediction', valueName: 'N' },
  nmin: { flag: 'nmin', kind: 'number', description: 'fewer samples within --maxdist leaves the cell empty', valueName: 'N', default: 1 },
  maxdist: { flag: 'maxdist', kind: 'number', description: 'search radius in metres', valueName: 'M' },
  log: { flag: 'log', kind: 'boolean', description: 'krige log(value), back-transform predictions' },
  out: { flag: 'out', kind: 'string', description: 'output prediction stack (GeoTIFF, one band per element)', valueName: 'STACK.tif' },
  variance: { flag: 'variance', kind: 'string', description: 'also write the kriging variance stack', valueName: 'VAR.tif' },
  cv: { flag: 'cv', kind: 'string', description: 'also write leave-one-out cross-validation (summary + per-point errors)', valueName: 'CV.json' },
  extrapolationMask: {
    flag: 'extrapolation-mask',
    kind: 'string',
    description: "also write where the grid is extrapolation, one band per element: 1 = the cell centre lies outside the samples' convex hull or farther than the variogram's practical range from every sample, 0 = inside (a warning names the share)",
    valueName: 'MASK.tif',
  },
  threads: { flag: 'threads', kind: 'number', description: 'worker threads (default: all cores)', valueName: 'N' },
  queue: { flag: 'queue', kind: 'string', description: 'krige the row blocks as units on a Redis queue (redis://[:PASSWORD@]HOST:PORT[/DB] or rediss://) served by "geoanomaly worker" on machines sharing the output folder; same bits as without', valueName: 'URL' },
  queueBatch: queueBatchRow('row blocks', '1', 'a block takes seconds, so one per job'),
} as const satisfies OptionTable;

export type KrigeWorkflowOptions = OptionsOf<typeof KRIGE_OPTIONS>;

/** The flags of KRIGE_OPTIONS that name outputs and inputs: checked before anything is computed. */
export const KRIGE_PATHS: WorkflowPaths = { outputs: { out: 'file', variance: 'file', cv: 'file' }, inputs: ['samples', 'like'] };


function parseExtent(text: string): { xmin: number; ymin: number; xmax: number; ymax: number } {
  const v = text.split(',').map((s) => Number(s.trim()));
  if (v.length !== 4 || v.some((n) => !Number.isFinite(n)) || v[0] >= v[2] || v[1] >= v[3]) {
    throw new InvalidOptionError(`geoanomaly krige: --extent must be xmin,ymin,xmax,ymax with xmin < xmax and ymin < ymax, got "${text}"`);
  }
  return { xmin: v[0], ymin: v[1], xmax: v[2], ymax: v[3] };
}

function positiveInt(v: number | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!(Number.isInteger(v) && v >= 1)) throw new InvalidOptionError(`geoanomaly krige: --${flag} must be a whole number ≥ 1, got ${v}`);
  return v;
}

/**
 * Ordinary kriging of a sample table onto a grid (one band per element), with optional variance,
 * extrapolation mask and leave-one-out cross-validation. Notes and warnings go to `ctx.log`.
 */
export async function krigeWorkflow(o: KrigeWorkflowOptions, ctx: JobContext = {}): Promise<KrigeWorkflowResult> {
  checkWorkflowPaths(KRIGE_OPTIONS, KRIGE_PATHS, o);
  const cmd = 'krige';
  const log = (m: string): void => ctx.log?.(m);
  const samplesFile = required(o.samples, 'samples', cmd);
  const xCol = required(o.x, 'x', cmd);
  const yCol = required(o.y, 'y', cmd);
  const declaredCrs = parseCrs(required(o.crs, 'crs', cmd));
  const fieldsArg = required(o.fields, 'fields', cmd);
  const out = required(o.out, 'out', cmd);
  const like = o.like || undefined;
  const extentArg = o.extent || undefined;
  const cell = o.cell;
  if (like && (extentArg || cell !== undefined)) throw new InvalidOptionError('geoanomaly krige: give either --like or --cell/--extent, not both');
  if (!like && !(cell !== undefined && cell > 0)) throw new InvalidOptionError('geoanomaly krige: --cell METRES (> 0) is required unless --like GRID.tif gives the grid');
  const modelArg = o.model ?? KRIGE_OPTIONS.model.default;
  if (!['auto', 'sph', 'exp', 'gau'].includes(modelArg)) throw new InvalidOptionError(`geoanomaly krige: --model must be auto, sph, exp or gau, got "${modelArg}"`);
  const variogram = o.variogram ? parseVariogramSpec(o.variogram) : undefined;

  const table = await readSampleTable(samplesFile, { x: xCol, y: yCol, crs: declaredCrs });
  const likeInfo = like ? await readGeoTiffInfo(like) : null;
  const what = `${samplesFile} (columns ${xCol}/${yCol})`;
  // Degrees declared as metres (or the reverse) would krige onto a 1×1-cell map (issue 19).
  assertPlausibleCoordinates(what, boundsOfPositions(Array.from(table.x, (x, i) => [x, table.y[i]])), declaredCrs, { flag: '--crs' }, likeInfo?.grid);
  let crs = declaredCrs;
  let sx = table.x;
  let sy = table.y;
  if (likeInfo?.grid.crs && !sameCrs(likeInfo.grid.crs, declaredCrs)) {
    // Samples in another CRS than the --like grid (lon/lat tables, another datum): onto the grid's CRS.
    const r = reprojectPoints(samplesFile, Array.from(table.x), Array.from(table.y), declaredCrs, likeInfo.grid.crs, (m) => log(`krige: ${m}`));
    sx = Float64Array.from(r.x);
    sy = Float64Array.from(r.y);
    crs = likeInfo.grid.crs;
  }
  if (crs.geographic && !likeInfo) {
    throw new CrsError(
      `${what} is in ${crs.name} (degrees); kriging needs metres. Give --like GRID.tif (a projected grid) to reproject the samples onto its CRS, ` +
        'or give the coordinates in a projected CRS.',
      { file: samplesFile, crs: crs.name },
    );
  }
  requireProjected(crs, samplesFile);
  const wanted = fieldsArg.trim().toLowerCase() === 'all' ? table.columns : fieldsArg.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((f) => !table.values[f]);
  if (unknown.length > 0) {
    throw new InvalidOptionError(`geoanomaly krige: no numeric column ${unknown.map((u) => `"${u}"`).join(', ')} in ${samplesFile} (numeric columns: ${table.columns.join(', ')})`);
  }
  if (wanted.length === 0) throw new InvalidOptionError(`geoanomaly krige: ${samplesFile} has no numeric element column to krige`);

  let grid: GridSpec;
  if (likeInfo) {
    grid = { ...likeInfo.grid, crs };
  } else {
    const c = cell as number;
    let extent = extentArg ? parseExtent(extentArg) : null;
    if (!extent) {
      let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
      for (let i = 0; i < sx.length; i++) {
        xmin = Math.min(xmin, sx[i]); xmax = Math.max(xmax, sx[i]);
        ymin = Math.min(ymin, sy[i]); ymax = Math.max(ymax, sy[i]);
      }
      // Snap outward to whole cells so sample-bounding-box grids line up between runs.
      extent = { xmin: Math.floor(xmin / c) * c, ymin: Math.floor(ymin / c) * c, xmax: Math.ceil(xmax / c) * c, ymax: Math.ceil(ymax / c) * c };
      if (extent.xmax === extent.xmin) extent = { ...extent, xmax: extent.xmin + c };
      if (extent.ymax === extent.ymin) extent = { ...extent, ymax: extent.ymin + c };
    }
    grid = gridFromExtent(extent, c, crs);
    assertGridSize(grid); // before the variograms: a too-small --cell fails at once, by name
  }

  let nmax = positiveInt(o.nmax, 'nmax');
  if (nmax === undefined && table.rowCount > GLOBAL_LIMIT) {
    nmax = DEFAULT_NMAX;
    log(`note: ${table.rowCount} samples and no --nmax: kriging with the ${DEFAULT_NMAX} nearest samples per cell`);
  }
  const options: KrigeOptions = {
    model: modelArg as KrigeOptions['model'],
    variogram,
    variogramOptions: { cutoffM: o.cutoff, widthM: o.lagWidth },
    nmax,
    nmin: positiveInt(o.nmin ?? KRIGE_OPTIONS.nmin.default, 'nmin'),
    maxDistM: o.maxdist,
    log: o.log === true,
    threads: positiveInt(o.threads, 'threads'),
  };
  const input = { x: sx, y: sy, fields: wanted.map((name) => ({ name, values: table.values[name] })), source: samplesFile };
  const cvFile = o.cv || undefined;
  log(`kriging ${wanted.length} element(s) from ${table.rowCount} samples onto ${grid.cols}×${grid.rows} cells of ${grid.cellSizeX} m`);
  const queue = o.queue || undefined;
  const queueBatch = parseQueueBatch(o.queueBatch, 1, 'krige');
  const jobCtx: JobContext = { signal: ctx.signal, progress: ctx.progress };
  const krigeCtx = cvFile ? subJob(jobCtx, 0, 0.8) : jobCtx;
  // --queue: the same blocks as units on the queue (main/queue/krige-units.ts); lazily imported.
  const result = queue
    ? await (await import('../queue/krige-units.ts')).krigeGridViaQueue(input, grid, options, { url: queue, workDir: dirname(resolve(out)), log, batch: queueBatch }, krigeCtx)
    : await krigeGrid(input, grid, options, krigeCtx);
  const metadata: Record<string, string> = { KRIGING: `ordinary kriging${options.log ? ' of log(value), lognormal back-transform' : ''}` };
  for (const m of result.models) {
    metadata[`VARIOGRAM_${m.name}`] = describeModel(m.model);
    for (const w of m.fit?.warnings ?? []) log(`warning: ${m.name}: ${w}`);
    const empty = result.cellsWithoutNeighbours[m.name];
    if (empty > 0) log(`warning: ${m.name}: ${empty} cell(s) left empty: fewer than --nmin samples within --maxdist`);
  }
  if (result.mergedDuplicates > 0) log(`note: ${result.mergedDuplicates} coincident sample(s) merged by averaging`);
  // Trust check: cells outside the samples' hull or beyond the variogram range are the local
  // mean, not data (main/eval/trust-checks.ts); warned per element, optionally written as a mask.
  const masks: Float32Array[] = [];
  const extrapolation: KrigedElement['extrapolation'][] = [];
  for (const m of result.models) {
    const values = input.fields.find((f) => f.name === m.name)!.values;
    const keep = Array.from(values.keys()).filter((i) => Number.isFinite(values[i]));
    const farM = practicalRangeM(m.model);
    const ex = extrapolationSummary(grid, keep.map((i) => input.x[i]), keep.map((i) => input.y[i]), farM);
    metadata[`EXTRAPOLATED_${m.name}`] = `${ex.outsideHull} of ${ex.cells} cells outside the samples' convex hull, ${ex.beyondRange} farther than ${farM.toFixed(0)} m from any sample`;
    for (const w of checkKrigingExtrapolation(ex, farM, m.name)) log(formatWarning(w));
    masks.push(Float32Array.from(ex.mask));
    extrapolation.push({ cells: ex.cells, outsideHull: ex.outsideHull, beyondRange: ex.beyondRange, practicalRangeM: farM });
  }
  // Each band's unit from the table's header ("Au_ppb") as GDAL's band unit type, so a stack
  // imported by hand is named with its units ("Kriged Au, Cu (ppb, ppm)", issue 18).
  const unitOf = (name: string): string | null => table.units[name] ?? null;
  writeGeoTiff(out, result.prediction, { metadata, bandUnits: result.prediction.bandNames.map(unitOf) });
  const varFile = o.variance || undefined;
  // A variance is in the square of the unit; on the log scale it has none.
  const varianceUnits = result.variance.bandNames.map((n) => (options.log || !unitOf(n) ? null : squaredUnit(unitOf(n) as string)));
  if (varFile) writeGeoTiff(varFile, result.variance, { metadata: { ...metadata, CONTENT: `kriging variance${options.log ? ' (log scale)' : ''}` }, bandUnits: varianceUnits });
  const maskFile = o.extrapolationMask || undefined;
  if (maskFile) {
    writeGeoTiff(maskFile, { grid, bandNames: result.models.map((m) => `extrapolated_${m.name}`), bands: masks }, { metadata: { ...metadata, CONTENT: 'extrapolation mask: 1 = outside the convex hull or beyond the practical range' } });
  }
  const cvByName = new Map<string, CvSummary>();
  if (cvFile) {
    const cv = await crossValidate(input, options, subJob(jobCtx, 0.8, 1, 'cross-validation'));
    writeJsonAtomic(cvFile, {
      samples: samplesFile,
      crs: crs.name,
      neighbourhood: { nmax: options.nmax ?? 'all', nmin: options.nmin ?? 1, maxDistM: options.maxDistM ?? null },
      elements: cv.map((r) => ({ name: r.name, model: r.model.model, modelSpec: describeModel(r.model.model), summary: r.summary, points: r.points })),
    });
    for (const r of cv) cvByName.set(r.name, r.summary);
  }
  return {
    outputs: { prediction: out, ...(varFile ? { variance: varFile } : {}), ...(maskFile ? { extrapolationMask: maskFile } : {}), ...(cvFile ? { cv: cvFile } : {}) },
    grid: { cols: grid.cols, rows: grid.rows, cellSizeM: grid.cellSizeX, crs: crs.name },
    samples: table.rowCount,
    mergedDuplicates: result.mergedDuplicates,
    elements: result.models.map((m, i) => {
      const cv = cvByName.get(m.name);
      return { name: m.name, modelSpec: describeModel(m.model), fitSse: m.fit ? m.fit.sse : null, emptyCells: result.cellsWithoutNeighbours[m.name] ?? 0, extrapolation: extrapolation[i], ...(cv ? { cv } : {}) };
    }),
  };
}

/** The lines "geoanomaly krige" prints on stdout for a result (tests and scripts read them). */
export function krigeResultLines(r: KrigeWorkflowResult): string[] {
  const lines = r.elements.map((e) => `${e.name.padEnd(8)} ${e.modelSpec}${e.fitSse !== null ? ` (fitted, weighted SSE ${e.fitSse.toPrecision(4)})` : ' (fixed)'}`);
  lines.push(`wrote ${r.outputs.prediction}`);
  if (r.outputs.variance) lines.push(`wrote ${r.outputs.variance}`);
  if (r.outputs.extrapolationMask) lines.push(`wrote ${r.outputs.extrapolationMask}`);
  if (r.outputs.cv) {
    for (const e of r.elements) {
      const s = e.cv;
      if (s) lines.push(`cv ${e.name.padEnd(8)} n ${s.n} ME ${s.meanError.toPrecision(4)} RMSE ${s.rmse.toPrecision(4)} MSSE ${s.msse.toPrecision(4)}${s.scale === 'log' ? ' (log scale)' : ''}`);
    }
    lines.push(`wrote ${r.outputs.cv}`);
  }
  return lines;
}
