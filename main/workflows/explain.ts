import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendPreference } from '../models/backend.ts';
import { DeformConv2D } from '../nn/layers/deform-conv-layer.ts';
import { readManifest, MANIFEST_FILE } from '../models/run-store.ts';
import { parseCrs } from '../grid/crs.ts';
import { makeStack, type RasterStack } from '../grid/raster.ts';
import { cellCenterX, cellCenterY, cellOf, inGrid } from '../grid/grid-spec.ts';
import { readStack } from '../io/geotiff-read.ts';
import { extractPatches } from '../sites/patches.ts';
import type { Site } from '../sites/site-blocks.ts';
import { DEDUPE_POLICIES, readSitesGeoJson, sitesReadNote, type DedupePolicy } from '../sites/sites-geojson.ts';
import { loadRun, type LoadedRun } from '../maps/run-models.ts';
import { matchBands, openStackSource } from '../maps/stack-source.ts';
import { explainRun } from '../maps/explain.ts';
import { attributeRun, ATTRIBUTION_METHODS, type AttributionMethod } from '../maps/attribution.ts';
import { gradCam } from '../maps/grad-cam.ts';
import { offsetField, samplingPoints } from '../maps/offset-field.ts';
import { spatialLayerNames } from '../maps/layer-chain.ts';
import { InvalidFileError, InvalidOptionError } from '../errors.ts';
import { throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { checkUserFile, checkUserFileOrFolder } from '../util/user-file.ts';
import { checkWorkflowPaths, required } from './option-table.ts';
import { EXPLAIN_OPTIONS, EXPLAIN_PATHS, type ExplainPoint, type ExplainWorkflowOptions } from './explain-options.ts';
import type { ExplainAttribution, ExplainRunResult, ExplainWorkflowResult, ModelSiteExplanation, SiteExplanation } from './explain-result.ts';

export { EXPLAIN_OPTIONS, EXPLAIN_PATHS, type ExplainPoint, type ExplainWorkflowOptions } from './explain-options.ts';
export type * from './explain-result.ts';

/**
 * "Explain a trained run", one function for both front doors:
 * - the whole run (no `at`): Grad-CAM and offset panels at the deposit sites, the map-wide
 *   explanation rasters and explain.json (main/maps/explain.ts explainRun), with per-element
 *   attribution on request (main/maps/attribution.ts): `geoanomaly explain` and the app's
 *   `explain` job;
 * - one cell (`at: { x, y }`): the same Grad-CAM and offsets for the window around the cell under
 *   the point, returned as data: the app's `explainSite` (a click in the Compare view).
 * The cell path extracts its window exactly as explainRun does (the run's transform statistics,
 * nodata filled with the band mean) and picks the same default layers, so the two agree to
 * float32 rounding (tests/maps/explain-requests.test.ts, tests/workflows/explain-workflow.test.ts).
 */
export async function explainWorkflow(o: ExplainWorkflowOptions, ctx: JobContext = {}): Promise<ExplainWorkflowResult> {
  if (o.at !== undefined) return { mode: 'site', site: await explainAt(o, o.at, ctx) };
  return explainWholeRun(o, ctx);
}

const CMD = 'explain';

function dedupeOf(v: string | undefined): DedupePolicy {
  const p = v ?? EXPLAIN_OPTIONS.dedupe.default;
  if (!(DEDUPE_POLICIES as readonly string[]).includes(p)) throw new InvalidOptionError(`geoanomaly ${CMD}: --dedupe must be "first" or "refuse", got "${p}"`);
  return p as DedupePolicy;
}

/** The flag value that keeps the first feature, as refusals quote it (main/cli/dedupe-option.ts's DEDUPE_FIRST_FLAG). */
const DEDUPE_FIRST_FLAG = '--dedupe first';

const modelList = (o: ExplainWorkflowOptions): string[] => (o.model ?? EXPLAIN_OPTIONS.model.default).split(',').map((s) => s.trim());

async function explainWholeRun(o: ExplainWorkflowOptions, ctx: JobContext): Promise<ExplainRunResult> {
  checkWorkflowPaths(EXPLAIN_OPTIONS, EXPLAIN_PATHS, o);
  const log = (m: string): void => ctx.log?.(m);
  const runDir = required(o.run, 'run', CMD);
  const stackPath = required(o.stack, 'stack', CMD);
  const sitesPath = required(o.sites, 'sites', CMD);
  const out = required(o.out, 'out', CMD);
  const method = o.attribution || undefined;
  // Checked before anything is computed (the command used to refuse it after the Grad-CAM panels were written).
  if (method !== undefined && !(ATTRIBUTION_METHODS as readonly string[]).includes(method)) {
    throw new InvalidOptionError(`geoanomaly ${CMD}: --attribution must be one of ${ATTRIBUTION_METHODS.join(', ')}, got "${method}"`);
  }
  const backend = await initBackend((o.backend ?? EXPLAIN_OPTIONS.backend.default) as BackendPreference);
  log(`backend: ${backend.detail}`);
  const run = await loadRun(runDir, modelList(o));
  const full = await readStack(stackPath);
  const idx = matchBands({ bandNames: full.bandNames, path: stackPath }, run.bandNames);
  const stack = makeStack(full.grid, [...run.bandNames], idx.map((i) => full.bands[i]), stackPath);
  const sites = await readSitesGeoJson(sitesPath, stack.grid, {
    assumeCrs: o.crs ? parseCrs(o.crs) : undefined,
    log: (m) => log(`${CMD}: ${m}`),
    // explain has no generic --layer (its --layer is a network layer): only --sites-layer.
    layer: o.sitesLayer || undefined,
    layerFlag: '--sites-layer',
    dedupe: dedupeOf(o.dedupe),
    dedupeFlag: DEDUPE_FIRST_FLAG,
  });
  const note = sitesReadNote(sitesPath, sites);
  if (note) log(`${CMD}: ${note}`);
  const onlyCam = o.gradcam === true;
  const onlyOff = o.offsets === true;
  const maps = o.noMaps !== true;
  const source = await openStackSource(stackPath);
  try {
    const r = await explainRun(
      run,
      stack,
      sites,
      source,
      out,
      { layer: o.layer || undefined, gradcam: onlyCam || !onlyOff, offsets: onlyOff || !onlyCam, classIndex: o.classIndex, maxSites: o.maxSites, maps },
      { signal: ctx.signal, progress: ctx.progress },
    );
    let attribution: ExplainAttribution | undefined;
    if (method !== undefined) {
      const a = await attributeRun(run, stack, sites, source, out, { method: method as AttributionMethod, steps: o.igSteps, classIndex: o.classIndex, maps }, { signal: ctx.signal, progress: ctx.progress });
      attribution = {
        method: a.method,
        models: Object.fromEntries(Object.entries(a.models).map(([name, m]) => [name, { ranking: m.ranking.map((b) => ({ band: b.band, meanAbs: b.meanAbs, mean: b.mean })) }])),
        files: [...a.files],
      };
    }
    const mapsFile = r.files.find((f) => f === join(out, 'explain-maps.tif'));
    return {
      mode: 'run',
      outputs: { dir: out, json: join(out, 'explain.json'), ...(mapsFile ? { maps: mapsFile } : {}) },
      files: [...r.files],
      sites: r.sites,
      ...(attribution ? { attribution } : {}),
    };
  } finally {
    await source.close();
  }
}

/** The lines "geoanomaly explain" prints on stdout for a result (the app's job log ends with them too). */
export function explainResultLines(r: ExplainWorkflowResult): string[] {
  if (r.mode === 'site') {
    const s = r.site;
    return [
      `cell row ${s.row}, col ${s.col} (${s.x}, ${s.y}) of ${s.stack}: ${s.window}×${s.window} window, class ${s.classIndex}${s.filledCells > 0 ? `, ${s.filledCells} nodata cell(s) filled` : ''}`,
      ...s.models.map((m) => `${m.name.padEnd(7)} Grad-CAM ${m.gradcam.layer}: peak ${m.gradcam.peak.toFixed(4)}, centre ${m.gradcam.centre.toFixed(4)}${m.offsets ? `; offsets ${m.offsets.layer}: mean ${m.offsets.meanOffsetCells.toFixed(4)} cells, mask ${m.offsets.meanMask.toFixed(4)}` : ''}`),
    ];
  }
  const lines = [...r.files];
  const a = r.attribution;
  if (a) {
    for (const [name, m] of Object.entries(a.models)) lines.push(`${name.padEnd(7)} ${a.method} band ranking: ${m.ranking.map((b) => `${b.band} ${b.meanAbs.toFixed(4)}`).join(', ')}`);
    lines.push(...a.files);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// One cell (the Compare view's click)

/** The element stack a run was trained on: its manifest's `stack` input (relative paths are the run folder's). */
export function runStackPath(runDir: string): string {
  const m = readManifest(runDir);
  const input = m.inputs.find((i) => i.role === 'stack');
  if (!input) throw new InvalidFileError(join(runDir, MANIFEST_FILE), 'the manifest names no stack input', 'Give the stack the run was trained on');
  return isAbsolute(input.path) ? input.path : resolve(runDir, input.path);
}

/** The training sites a run used (its manifest's `sites` input), or null. */
export function runSitesPath(runDir: string): string | null {
  const input = readManifest(runDir).inputs.find((i) => i.role === 'sites');
  if (!input) return null;
  return isAbsolute(input.path) ? input.path : resolve(runDir, input.path);
}

/**
 * Every click on the same run needs the same models and stack again, and one window through
 * 2–4 small models takes tens of milliseconds: the loaded run and stack are kept (one of each),
 * keyed by the files' modification times, the backend and the model selection.
 */
interface CachedRun {
  readonly key: string;
  readonly run: Promise<LoadedRun>;
}
interface CachedStack {
  readonly key: string;
  readonly stack: Promise<RasterStack>;
}

let cachedRun: CachedRun | null = null;
let cachedStack: CachedStack | null = null;

const stamp = (path: string): string => `${resolve(path)}@${existsSync(path) ? statSync(path).mtimeMs : -1}`;

function runFor(runDir: string, models: readonly string[], backend: string): Promise<LoadedRun> {
  const key = `${stamp(join(runDir, MANIFEST_FILE))}|${backend}|${models.join(',')}`;
  if (cachedRun?.key === key) return cachedRun.run;
  const old = cachedRun;
  const run = loadRun(runDir, models);
  cachedRun = { key, run };
  run.catch(() => {
    if (cachedRun?.run === run) cachedRun = null;
  });
  // Free the previous run's weights once the new one is in place.
  if (old) void old.run.then((r) => r.models.forEach((m) => m.dispose())).catch(() => undefined);
  return run;
}

/** The stack in the run's band order (the models' channel order), as the whole-run path builds it. */
function stackFor(stackPath: string, bandNames: readonly string[]): Promise<RasterStack> {
  const key = `${stamp(stackPath)}|${bandNames.join(',')}`;
  if (cachedStack?.key === key) return cachedStack.stack;
  const stack = (async () => {
    const full = await readStack(stackPath);
    const idx = matchBands({ bandNames: full.bandNames, path: stackPath }, bandNames);
    return makeStack(full.grid, [...bandNames], idx.map((i) => full.bands[i]), stackPath);
  })();
  cachedStack = { key, stack };
  stack.catch(() => {
    if (cachedStack?.stack === stack) cachedStack = null;
  });
  return stack;
}

/** Options that only the whole-run explanation uses: refused with `at` rather than ignored. */
const RUN_ONLY = ['sites', 'out', 'crs', 'sitesLayer', 'dedupe', 'gradcam', 'offsets', 'maxSites', 'attribution', 'igSteps', 'noMaps'] as const;

async function explainAt(o: ExplainWorkflowOptions, at: ExplainPoint, ctx: JobContext): Promise<SiteExplanation> {
  const given = RUN_ONLY.filter((k) => o[k] !== undefined);
  if (given.length > 0) {
    throw new InvalidOptionError(`explain at a point (x, y) explains one cell and writes nothing: ${given.map((k) => `--${EXPLAIN_OPTIONS[k].flag}`).join(', ')} apply to the whole run only; leave them out`, { options: given.join(',') });
  }
  if (!Number.isFinite(at.x) || !Number.isFinite(at.y)) throw new InvalidOptionError(`explainSite needs finite x and y, got ${at.x}, ${at.y}`);
  const classIndex = o.classIndex ?? EXPLAIN_OPTIONS.classIndex.default;
  if (classIndex !== 0 && classIndex !== 1) throw new InvalidOptionError(`explainSite: class must be 0 or 1, got ${classIndex}`);
  const runDir = required(o.run, 'run', CMD);
  await checkUserFile(join(runDir, MANIFEST_FILE), 'json');
  const backend = (o.backend ?? EXPLAIN_OPTIONS.backend.default) as BackendPreference;
  await initBackend(backend);
  const run = await runFor(runDir, modelList(o), backend);
  const stackPath = o.stack || runStackPath(runDir);
  await checkUserFileOrFolder(stackPath, 'raster', ['.tif', '.tiff']);
  const stack = await stackFor(stackPath, run.bandNames);
  const g = stack.grid;
  const { row, col } = cellOf(g, at.x, at.y);
  if (!inGrid(g, row, col)) {
    throw new InvalidOptionError(`(${at.x.toFixed(1)}, ${at.y.toFixed(1)}) lies outside the ${g.rows}×${g.cols} grid of ${stackPath}; click inside the stack the run was trained on`);
  }
  const k = run.window;
  const site: Site = { row, col, label: 1, siteId: 'clicked', groupId: 'clicked', source: 'user', centre: true };
  const patches = extractPatches(stack, { grid: g, sites: [site] }, { size: k, stats: run.stats, nodata: 'fill-mean' });
  const x = tf.tensor4d(patches.x, [1, k, k, run.bandNames.length]);
  const models: ModelSiteExplanation[] = [];
  const layer = o.layer || undefined;
  try {
    for (const [name, model] of run.models) {
      throwIfCancelled(ctx, CMD);
      const layers = spatialLayerNames(model);
      const deformable = model.layers.filter((l) => l instanceof DeformConv2D).map((l) => l.name);
      // The layer choice of main/maps/explain.ts pickLayer: the asked layer if the model has it, else the defaults.
      const camLayer = layer && layers.includes(layer) ? layer : layers[layers.length - 1];
      const offLayer = layer && deformable.includes(layer) ? layer : (deformable[0] ?? null);
      const r = gradCam(model, x, camLayer, classIndex);
      const gradcam = {
        layer: camLayer,
        size: k,
        values: Array.from(r.maps),
        raw: Array.from(r.raw),
        rawShape: r.layerShape,
        peak: Math.max(...r.maps),
        centre: r.maps[((k - 1) / 2) * k + (k - 1) / 2],
      };
      let offsets: ModelSiteExplanation['offsets'] = null;
      if (offLayer) {
        const f = offsetField(model, x, offLayer);
        const n = f.height * f.width;
        const taps = f.mask.length / n;
        const meanMaskPerCell = Array.from({ length: n }, (_, c) => {
          let m = 0;
          for (let t = 0; t < taps; t++) m += f.mask[c * taps + t];
          return m / taps;
        });
        let maskSum = 0;
        for (const v of f.mask) maskSum += v;
        offsets = {
          layer: offLayer,
          height: f.height,
          width: f.width,
          kernel: f.kernel,
          meanDx: Array.from(f.meanDx),
          meanDy: Array.from(f.meanDy),
          meanMagnitude: Array.from(f.meanMagnitude),
          meanMaskPerCell,
          centreTaps: samplingPoints(f, 0, Math.floor(f.height / 2), Math.floor(f.width / 2)),
          meanOffsetCells: f.meanMagnitude.reduce((a, v) => a + v, 0) / n,
          meanMask: maskSum / f.mask.length,
        };
      }
      models.push({ name, layers, deformableLayers: deformable, gradcam, offsets });
    }
  } finally {
    x.dispose();
  }
  return {
    runDir,
    stack: stackPath,
    row,
    col,
    x: cellCenterX(g, col),
    y: cellCenterY(g, row),
    window: k,
    cellSizeX: g.cellSizeX,
    cellSizeY: g.cellSizeY,
    classIndex,
    filledCells: patches.filled[0] ?? 0,
    models,
  };
}
