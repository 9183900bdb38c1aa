import { dirname, resolve } from 'node:path';
import type { Command } from '../command.ts';
import { optionalNumber, optionalString, requireString } from '../command.ts';
import { CrsError, InvalidOptionError } from '../../errors.ts';
import { parseCrs, requireProjected, sameCrs } from '../../grid/crs.ts';
import { assertGridSize } from '../../kriging/grid-size-limit.ts';
import { assertPlausibleCoordinates, boundsOfPositions, reprojectPoints } from '../../grid/reproject.ts';
import { gridFromExtent, type GridSpec } from '../../grid/grid-spec.ts';
import { readGeoTiffInfo } from '../../io/geotiff-read.ts';
import { writeGeoTiff } from '../../io/geotiff-write.ts';
import { readSampleTable } from '../../io/table.ts';
import { writeJsonAtomic } from '../../util/atomic-write.ts';
import { subJob } from '../../jobs/job.ts';
import { krigeGrid } from '../../kriging/krige-grid.ts';
import { crossValidate } from '../../kriging/cross-validation.ts';
import type { KrigeOptions } from '../../kriging/krige-options.ts';
import { describeModel, parseVariogramSpec } from '../../kriging/variogram-model.ts';
import { checkKrigingExtrapolation, extrapolationSummary, formatWarning, practicalRangeM } from '../../eval/trust-checks.ts';

/** Above this many samples, kriging without --nmax uses a neighbourhood instead of all points. */
const GLOBAL_LIMIT = 2000;
const DEFAULT_NMAX = 32;

function parseExtent(text: string): { xmin: number; ymin: number; xmax: number; ymax: number } {
  const v = text.split(',').map((s) => Number(s.trim()));
  if (v.length !== 4 || v.some((n) => !Number.isFinite(n)) || v[0] >= v[2] || v[1] >= v[3]) {
    throw new InvalidOptionError(`geoanomaly krige: --extent must be xmin,ymin,xmax,ymax with xmin < xmax and ymin < ymax, got "${text}"`);
  }
  return { xmin: v[0], ymin: v[1], xmax: v[2], ymax: v[3] };
}

function positiveInt(args: Parameters<Command['run']>[0], name: string): number | undefined {
  const v = optionalNumber(args, name, 'krige');
  if (v === undefined) return undefined;
  if (!(Number.isInteger(v) && v >= 1)) throw new InvalidOptionError(`geoanomaly krige: --${name} must be a whole number ≥ 1, got ${v}`);
  return v;
}

export const krigeCommand: Command = {
  name: 'krige',
  summary: 'ordinary kriging of sample points onto a grid (one band per element)',
  usage:
    '--samples FILE --x COL --y COL --crs EPSG:N --fields A,B|all (--cell METRES [--extent xmin,ymin,xmax,ymax] | --like GRID.tif) ' +
    '[--model auto|sph|exp|gau | --variogram MODEL:NUGGET:PSILL:RANGE] [--nmax N] [--maxdist M] [--log] --out STACK.tif [--variance VAR.tif] [--cv CV.json] [--extrapolation-mask MASK.tif]',
  details: [
    'Fits a variogram per element (weighted least squares, gstat fit.method 7) unless --variogram fixes one',
    'in gstat\'s parameterisation: "sph:0.05:0.59:897" = nugget 0.05, partial sill 0.59, range 897 m; for exp',
    'and gau RANGE is gstat\'s a (practical range / 3, resp. / √3). A fixed model applies to every element.',
    `Without --nmax: global kriging up to ${GLOBAL_LIMIT} samples, a ${DEFAULT_NMAX}-point neighbourhood above.`,
    'With --log, elements are kriged as log(value) and predictions back-transformed (lognormal kriging);',
    'the --variance stack and the --cv errors are then on the log scale.',
    'Without --extent or --like the grid covers the samples\' bounding box, snapped outward to whole cells.',
    'Example: geoanomaly krige --samples demo/samples.csv --x x --y y --crs EPSG:32645 --fields all \\',
    '           --cell 1000 --log --out grids.tif --variance grids-var.tif --cv cv.json',
  ].join('\n'),
  paths: { outputs: { out: 'file', variance: 'file', cv: 'file' }, inputs: ['samples', 'like'] },
  options: {
    samples: { type: 'string', description: 'sample table (CSV, TSV or XLSX)', valueName: 'FILE' },
    x: { type: 'string', description: 'x (easting) column', valueName: 'COL' },
    y: { type: 'string', description: 'y (northing) column', valueName: 'COL' },
    crs: { type: 'string', description: 'CRS of x/y (EPSG:N or proj4): projected in metres, or any CRS (e.g. EPSG:4326 lon/lat) with --like, whose grid CRS the samples are then reprojected to (logged)', valueName: 'CRS' },
    fields: { type: 'string', description: 'comma-separated element columns, or "all"', valueName: 'A,B|all' },
    cell: { type: 'string', description: 'cell size in metres', valueName: 'METRES' },
    extent: { type: 'string', description: 'grid extent in CRS units', valueName: 'xmin,ymin,xmax,ymax' },
    like: { type: 'string', description: 'take the grid (extent, cells, CRS) from this GeoTIFF', valueName: 'GRID.tif' },
    model: { type: 'string', description: 'variogram model to fit: auto (best of sph/exp/gau), sph, exp, gau', valueName: 'MODEL', default: 'auto' },
    variogram: { type: 'string', description: 'fixed model MODEL:NUGGET:PSILL:RANGE[:ANGLE:RATIO] instead of fitting', valueName: 'SPEC' },
    cutoff: { type: 'string', description: 'variogram cutoff in metres (default: diagonal/3)', valueName: 'METRES' },
    'lag-width': { type: 'string', description: 'variogram lag width in metres (default: cutoff/15)', valueName: 'METRES' },
    nmax: { type: 'string', description: 'nearest samples per prediction', valueName: 'N' },
    nmin: { type: 'string', description: 'fewer samples within --maxdist leaves the cell empty', valueName: 'N', default: '1' },
    maxdist: { type: 'string', description: 'search radius in metres', valueName: 'M' },
    log: { type: 'boolean', description: 'krige log(value), back-transform predictions' },
    out: { type: 'string', description: 'output prediction stack (GeoTIFF, one band per element)', valueName: 'STACK.tif' },
    variance: { type: 'string', description: 'also write the kriging variance stack', valueName: 'VAR.tif' },
    cv: { type: 'string', description: 'also write leave-one-out cross-validation (summary + per-point errors)', valueName: 'CV.json' },
    'extrapolation-mask': {
      type: 'string',
      description: "also write where the grid is extrapolation, one band per element: 1 = the cell centre lies outside the samples' convex hull or farther than the variogram's practical range from every sample, 0 = inside (a warning names the share)",
      valueName: 'MASK.tif',
    },
    threads: { type: 'string', description: 'worker threads (default: all cores)', valueName: 'N' },
    queue: { type: 'string', description: 'krige the row blocks as units on a Redis queue (redis://[:PASSWORD@]HOST:PORT[/DB] or rediss://) served by "geoanomaly worker" on machines sharing the output folder; same bits as without', valueName: 'URL' },
  },
  async run(args, io) {
    const cmd = 'krige';
    const samplesFile = requireString(args, 'samples', cmd);
    const xCol = requireString(args, 'x', cmd);
    const yCol = requireString(args, 'y', cmd);
    const declaredCrs = parseCrs(requireString(args, 'crs', cmd));
    const fieldsArg = requireString(args, 'fields', cmd);
    const out = requireString(args, 'out', cmd);
    const like = optionalString(args, 'like');
    const extentArg = optionalString(args, 'extent');
    const cell = optionalNumber(args, 'cell', cmd);
    if (like && (extentArg || cell !== undefined)) throw new InvalidOptionError('geoanomaly krige: give either --like or --cell/--extent, not both');
    if (!like && !(cell !== undefined && cell > 0)) throw new InvalidOptionError('geoanomaly krige: --cell METRES (> 0) is required unless --like GRID.tif gives the grid');
    const modelArg = optionalString(args, 'model') ?? 'auto';
    if (!['auto', 'sph', 'exp', 'gau'].includes(modelArg)) throw new InvalidOptionError(`geoanomaly krige: --model must be auto, sph, exp or gau, got "${modelArg}"`);
    const variogramArg = optionalString(args, 'variogram');
    const variogram = variogramArg ? parseVariogramSpec(variogramArg) : undefined;

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
      const r = reprojectPoints(samplesFile, Array.from(table.x), Array.from(table.y), declaredCrs, likeInfo.grid.crs, (m) => io.err(`krige: ${m}`));
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
      let extent = extentArg ? parseExtent(extentArg) : null;
      if (!extent) {
        let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
        for (let i = 0; i < sx.length; i++) {
          xmin = Math.min(xmin, sx[i]); xmax = Math.max(xmax, sx[i]);
          ymin = Math.min(ymin, sy[i]); ymax = Math.max(ymax, sy[i]);
        }
        // Snap outward to whole cells so sample-bounding-box grids line up between runs.
        extent = {
          xmin: Math.floor(xmin / cell!) * cell!, ymin: Math.floor(ymin / cell!) * cell!,
          xmax: Math.ceil(xmax / cell!) * cell!, ymax: Math.ceil(ymax / cell!) * cell!,
        };
        if (extent.xmax === extent.xmin) extent = { ...extent, xmax: extent.xmin + cell! };
        if (extent.ymax === extent.ymin) extent = { ...extent, ymax: extent.ymin + cell! };
      }
      grid = gridFromExtent(extent, cell!, crs);
      assertGridSize(grid); // before the variograms: a too-small --cell fails at once, by name
    }

    let nmax = positiveInt(args, 'nmax');
    if (nmax === undefined && table.rowCount > GLOBAL_LIMIT) {
      nmax = DEFAULT_NMAX;
      io.err(`note: ${table.rowCount} samples and no --nmax: kriging with the ${DEFAULT_NMAX} nearest samples per cell`);
    }
    const cutoffM = optionalNumber(args, 'cutoff', cmd);
    const widthM = optionalNumber(args, 'lag-width', cmd);
    const options: KrigeOptions = {
      model: modelArg as KrigeOptions['model'],
      variogram,
      variogramOptions: { cutoffM, widthM },
      nmax,
      nmin: positiveInt(args, 'nmin'),
      maxDistM: optionalNumber(args, 'maxdist', cmd),
      log: args.values.log === true,
      threads: positiveInt(args, 'threads'),
    };
    const input = { x: sx, y: sy, fields: wanted.map((name) => ({ name, values: table.values[name] })), source: samplesFile };
    const cvFile = optionalString(args, 'cv');
    const ctx = { signal: io.signal, progress: io.progress };
    io.err(`kriging ${wanted.length} element(s) from ${table.rowCount} samples onto ${grid.cols}×${grid.rows} cells of ${grid.cellSizeX} m`);
    const queue = optionalString(args, 'queue');
    const krigeCtx = cvFile ? subJob(ctx, 0, 0.8) : ctx;
    // --queue: the same blocks as units on the queue (main/queue/krige-units.ts); lazily imported.
    const result = queue
      ? await (await import('../../queue/krige-units.ts')).krigeGridViaQueue(input, grid, options, { url: queue, workDir: dirname(resolve(out)), log: io.err }, krigeCtx)
      : await krigeGrid(input, grid, options, krigeCtx);
    const metadata: Record<string, string> = { KRIGING: `ordinary kriging${options.log ? ' of log(value), lognormal back-transform' : ''}` };
    for (const m of result.models) {
      metadata[`VARIOGRAM_${m.name}`] = describeModel(m.model);
      io.out(`${m.name.padEnd(8)} ${describeModel(m.model)}${m.fit ? ` (fitted, weighted SSE ${m.fit.sse.toPrecision(4)})` : ' (fixed)'}`);
      for (const w of m.fit?.warnings ?? []) io.err(`warning: ${m.name}: ${w}`);
      const empty = result.cellsWithoutNeighbours[m.name];
      if (empty > 0) io.err(`warning: ${m.name}: ${empty} cell(s) left empty: fewer than --nmin samples within --maxdist`);
    }
    if (result.mergedDuplicates > 0) io.err(`note: ${result.mergedDuplicates} coincident sample(s) merged by averaging`);
    // Trust check: cells outside the samples' hull or beyond the variogram range are the local
    // mean, not data (main/eval/trust-checks.ts); warned per element, optionally written as a mask.
    const masks: Float32Array[] = [];
    for (const m of result.models) {
      const values = input.fields.find((f) => f.name === m.name)!.values;
      const keep = Array.from(values.keys()).filter((i) => Number.isFinite(values[i]));
      const farM = practicalRangeM(m.model);
      const ex = extrapolationSummary(grid, keep.map((i) => input.x[i]), keep.map((i) => input.y[i]), farM);
      metadata[`EXTRAPOLATED_${m.name}`] = `${ex.outsideHull} of ${ex.cells} cells outside the samples' convex hull, ${ex.beyondRange} farther than ${farM.toFixed(0)} m from any sample`;
      for (const w of checkKrigingExtrapolation(ex, farM, m.name)) io.err(formatWarning(w));
      masks.push(Float32Array.from(ex.mask));
    }
    writeGeoTiff(out, result.prediction, { metadata });
    io.out(`wrote ${out}`);
    const varFile = optionalString(args, 'variance');
    if (varFile) {
      writeGeoTiff(varFile, result.variance, { metadata: { ...metadata, CONTENT: `kriging variance${options.log ? ' (log scale)' : ''}` } });
      io.out(`wrote ${varFile}`);
    }
    const maskFile = optionalString(args, 'extrapolation-mask');
    if (maskFile) {
      writeGeoTiff(maskFile, { grid, bandNames: result.models.map((m) => `extrapolated_${m.name}`), bands: masks }, { metadata: { ...metadata, CONTENT: 'extrapolation mask: 1 = outside the convex hull or beyond the practical range' } });
      io.out(`wrote ${maskFile}`);
    }
    if (cvFile) {
      const cv = await crossValidate(input, options, subJob(ctx, 0.8, 1, 'cross-validation'));
      writeJsonAtomic(cvFile, {
        samples: samplesFile,
        crs: crs.name,
        neighbourhood: { nmax: options.nmax ?? 'all', nmin: options.nmin ?? 1, maxDistM: options.maxDistM ?? null },
        elements: cv.map((r) => ({
          name: r.name,
          model: r.model.model,
          modelSpec: describeModel(r.model.model),
          summary: r.summary,
          points: r.points,
        })),
      });
      for (const r of cv) {
        const s = r.summary;
        io.out(`cv ${r.name.padEnd(8)} n ${s.n} ME ${s.meanError.toPrecision(4)} RMSE ${s.rmse.toPrecision(4)} MSSE ${s.msse.toPrecision(4)}${s.scale === 'log' ? ' (log scale)' : ''}`);
      }
      io.out(`wrote ${cvFile}`);
    }
    return 0;
  },
};
