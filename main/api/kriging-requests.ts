import { extname } from 'node:path';
import { InvalidFileError, InvalidOptionError } from '../errors.ts';
import { checkUserFile, readUserFile } from '../util/user-file.ts';
import { parseCrs } from '../grid/crs.ts';
import { readSampleTable } from '../io/table.ts';
import { checkKrigeOptions, describeModel, parseVariogramSpec, prepareKriging, semivariance, validateModel } from '../kriging/index.ts';
import type { Params, VariogramPreview } from './contract.ts';

/** Points of the drawn model curve between 0 and the cutoff. */
const CURVE_POINTS = 120;

/**
 * The Kriging panel's preview: runs the very preparation step of `geoanomaly krige`
 * (prepareKriging: coincident samples averaged, optional log, experimental variogram, weighted
 * least-squares fit) for one column, so the plotted model is the one a kriging run would use.
 * It takes well under a second for a few thousand samples, so it runs in the request itself.
 */
export async function variogramPreview(p: Params<'krigeVariogram'>): Promise<VariogramPreview> {
  await checkUserFile(p.samples, 'table');
  const table = await readSampleTable(p.samples, { x: p.table.x, y: p.table.y, crs: parseCrs(p.table.crs) });
  const values = table.values[p.field];
  if (!values) throw new InvalidOptionError(`${p.samples} has no numeric column "${p.field}" (numeric columns: ${table.columns.join(', ')})`, { field: p.field });
  // The experimental points come from the fit krige would do; a fixed model (the user's edited
  // parameters) is drawn against the same points instead of the fitted one.
  const fitOptions = checkKrigeOptions({ model: p.model ?? 'auto', log: p.log === true });
  const fm = prepareKriging({ x: table.x, y: table.y, fields: [{ name: p.field, values }], source: p.samples }, fitOptions).fieldModels[0];
  const ev = fm.fit?.experimental;
  if (!ev) throw new InvalidOptionError(`no experimental variogram for "${p.field}"`);
  const fixed = p.variogram ? parseVariogramSpec(p.variogram) : null;
  if (fixed) validateModel(fixed, 'variogram');
  const model = fixed ?? fm.model;
  const keep = ev.np.map((n, i) => (n > 0 ? i : -1)).filter((i) => i >= 0);
  const curveDistM = Array.from({ length: CURVE_POINTS + 1 }, (_, i) => (ev.cutoffM * i) / CURVE_POINTS);
  return {
    field: p.field,
    log: fm.log,
    pointCount: fm.pointCount,
    distM: keep.map((i) => ev.distM[i]),
    gamma: keep.map((i) => ev.gamma[i]),
    np: keep.map((i) => ev.np[i]),
    cutoffM: ev.cutoffM,
    model: { type: model.type, nugget: model.nugget, psill: model.psill, rangeM: model.rangeM },
    spec: describeModel(model),
    fitted: fixed === null,
    sse: fixed === null ? fm.fit.sse : null,
    curveDistM,
    curveGamma: curveDistM.map((h) => semivariance(model, h)),
  };
}

/** A result file (metrics.json, roc.json, …), read whole (at most READ_LIMITS.json) off the event loop. */
export async function readJsonResult(path: string): Promise<unknown> {
  if (extname(path).toLowerCase() !== '.json') throw new InvalidOptionError(`readJsonResult reads .json result files only, got ${path}`, { path });
  const text = (await readUserFile(path, 'json')).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The parser's message quotes the file's first bytes; name the file, not its content.
    throw new InvalidFileError(path, 'not valid JSON', 'The job may have been interrupted; run it again');
  }
}
