/**
 * Names a person reads for layers, runs and layout subtitles: "GK-DCN probability (run 3,
 * 5-fold)", "Kriged Au, Cu (ppb, ppm)", "Training run 3: CNN, GK-DCN (5-fold × 2)". The
 * timestamped file or folder name (`train-2026-12-03T07-11-41-113Z.run`) stays the layer's id and
 * source; these names are only what is shown. Pure functions (no fs), so the backend, the layout,
 * the report and the renderer name things the same way. It lives in util/ (the lowest layer of
 * LAYERS in eslint.config.js) rather than project/, because export/ (the layout subtitle, the
 * report title) sits below project/ and may import only lower layers.
 */

/** `<stem>-<ISO stamp with : and . replaced by ->` as written by the app (renderer runOutputPath). */
const STAMP = /-(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z/;

export interface SplitName {
  /** The name without the stamp and the extension(s): "train", "krige", "fault-distance". */
  readonly stem: string;
  /** "2026-12-03 07:11" (UTC), or null when the name has no stamp. */
  readonly stamp: string | null;
}

/** Splits "train-2026-12-03T07-11-41-113Z.run-probability.tif" into its stem and time. */
export function splitStampedName(fileName: string): SplitName {
  const base = fileName.replace(/^.*[\\/]/, '');
  const m = STAMP.exec(base);
  if (!m) return { stem: base.replace(/\.[A-Za-z0-9]+$/, ''), stamp: null };
  return { stem: base.slice(0, m.index), stamp: `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}` };
}

/** Model kinds as written in papers: gk-dcn → GK-DCN, logreg → LogReg, rf → RF. */
export function modelLabel(kind: string): string {
  const special: Readonly<Record<string, string>> = { logreg: 'LogReg', index: 'Index', pc: 'PC' };
  return special[kind] ?? kind.toUpperCase();
}

/** What a training run adds to a name: "run 3, 5-fold" (each part only when known). */
export interface RunContext {
  /** 1-based number of the run among the project's (or folder's) training runs. */
  readonly runNumber?: number;
  readonly folds?: number;
  readonly repeats?: number;
}

function runPart(run: RunContext | undefined): string {
  if (!run) return '';
  const parts = [run.runNumber !== undefined ? `run ${run.runNumber}` : '', run.folds !== undefined ? `${run.folds}-fold` : ''].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/**
 * A band of a prediction or model-output raster: p_gk-dcn → "GK-DCN probability (run 3, 5-fold)",
 * sd_cnn → "CNN uncertainty (sd)", diff_gk-dcn_cnn → "GK-DCN − CNN difference"; other bands keep
 * their name, with their unit when known ("Au (ppm)").
 */
export function bandDisplayName(band: string, run?: RunContext, unit?: string | null): string {
  const p = /^p_(.+)$/.exec(band);
  if (p) return `${modelLabel(p[1])} probability${runPart(run)}`;
  const sd = /^sd_(.+)$/.exec(band);
  if (sd) return `${modelLabel(sd[1])} uncertainty (sd)${runPart(run)}`;
  const d = /^diff_(.+?)_(.+)$/.exec(band);
  if (d) return `${modelLabel(d[1])} − ${modelLabel(d[2])} difference${runPart(run)}`;
  if (band === 'window_mask') return 'Window mask (cells with a full patch)';
  return unit ? `${band} (${unit})` : band;
}

/** " (ppb, ppm)": units in the order of the fields, "–" for one not known, nothing when none is. */
function unitList(fields: readonly string[], units: readonly (string | null | undefined)[] = []): string {
  const known = fields.map((_, i) => units[i] ?? null);
  return known.some((u) => u) ? ` (${known.map((u) => u ?? '–').join(', ')})` : '';
}

/** A kriging output: "Kriged Au, Cu (ppb, ppm)"; units in the order of the fields, left out when none is known. */
export function krigeDisplayName(fields: readonly string[], units: readonly (string | null | undefined)[] = []): string {
  return `Kriged ${fields.join(', ')}${unitList(fields, units)}`;
}

/** "ppm" → "ppm²", "g/t" → "(g/t)²": the unit of a variance. */
export function squaredUnit(unit: string): string {
  return /^[A-Za-zµ%]+$/.test(unit) ? `${unit}²` : `(${unit})²`;
}

/** "1 band", "3 bands" (issue 18: "(1 bands)" read wrong). */
export function bandCount(n: number): string {
  return `${n} ${n === 1 ? 'band' : 'bands'}`;
}

/** A training run: "Training run 3: CNN, GK-DCN (5-fold × 2)". */
export function runDisplayName(models: readonly string[], run: RunContext = {}): string {
  const n = run.runNumber !== undefined ? ` ${run.runNumber}` : '';
  const cv = run.folds !== undefined ? ` (${run.folds}-fold${run.repeats !== undefined && run.repeats > 1 ? ` × ${run.repeats}` : ''})` : '';
  return `Training run${n}: ${models.map(modelLabel).join(', ')}${cv}`;
}

const STEM_NAMES: Readonly<Record<string, string>> = {
  'fault-distance': 'Fault distance',
  'fault-weight': 'Fault weight',
  rpca: 'Robust PCA',
  sites: 'Training sites',
  evaluate: 'Evaluation',
  'layout-sites': 'Layout sites',
};

export interface RasterNaming {
  /** File or folder path (or name) of the layer. */
  readonly path: string;
  readonly bandNames: readonly string[];
  /** Units per band, where the source records them (GeoTIFF band unit type, main/io/geotiff-read.ts). */
  readonly units?: readonly (string | null | undefined)[];
  readonly run?: RunContext;
  /**
   * Dataset-level metadata of the file: `krige` writes KRIGING on all its outputs and CONTENT on
   * the variance and the extrapolation mask, so a kriged stack is named for its fields whatever
   * the file is called (imported by hand, renamed).
   */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * The readable name of a raster layer: a prediction (every band p_/sd_/diff_/window_mask) is
 * named for its models ("GK-DCN probability (run 3, 5-fold)" for one model, "Probability: CNN,
 * GK-DCN (run 3, 5-fold)" for several); a kriging output ("krige-<stamp>.tif", or any file whose
 * metadata says `krige` wrote it) for its fields and units, its variance ("Kriging variance Au, Cu
 * (ppb², ppm²)") and extrapolation mask apart;
 * another stamped output for its stem and time ("Fault distance, 2026-12-03 07:11"); any other
 * file keeps its name.
 */
export function rasterDisplayName(r: RasterNaming): string {
  const { stem, stamp } = splitStampedName(r.path);
  const models = r.bandNames.flatMap((b) => /^p_(.+)$/.exec(b)?.[1] ?? []);
  const predictionBands = r.bandNames.every((b) => /^(p|sd|diff)_/.test(b) || b === 'window_mask');
  if (models.length > 0 && predictionBands) {
    return models.length === 1 ? bandDisplayName(`p_${models[0]}`, r.run) : `Probability: ${models.map(modelLabel).join(', ')}${runPart(r.run)}`;
  }
  const content = r.metadata?.CONTENT ?? '';
  const kriged = r.metadata?.KRIGING !== undefined || stem === 'krige' || /^krige[-_]/.test(stem);
  // The app writes the variance beside the prediction as krige-<stamp>-variance.tif.
  const base = r.path.replace(/^.*[\\/]/, '');
  const m = STAMP.exec(base);
  const afterStamp = m ? base.slice(m.index + m[0].length) : '';
  if (kriged && (/^kriging variance/.test(content) || /^-variance\./.test(afterStamp))) {
    const log = /log scale/.test(content) ? ', log scale' : '';
    return `Kriging variance ${r.bandNames.join(', ')}${log}${unitList(r.bandNames, r.units)}`;
  }
  if (kriged && /^extrapolation mask/.test(content)) return `Kriging extrapolation mask: ${r.bandNames.map((b) => b.replace(/^extrapolated_/, '')).join(', ')}`;
  if (kriged) {
    const fields = r.bandNames.map((b, i) => ({ b, u: r.units?.[i] })).filter(({ b }) => !/^(variance|sd|cv)_/.test(b));
    return krigeDisplayName(fields.map((f) => f.b), fields.map((f) => f.u));
  }
  if (stamp) {
    const nice = STEM_NAMES[stem] ?? stem.charAt(0).toUpperCase() + stem.slice(1).replace(/-/g, ' ');
    return `${nice}, ${stamp}`;
  }
  return stem;
}

/** The fields of a recorded run that naming reads (main/api/contract.ts RunRecord). */
export interface NamedRunInput {
  readonly kind: string;
  readonly request: { readonly options: Readonly<Record<string, unknown>> };
  readonly displayName?: string;
}

const MODEL_GROUPS: Readonly<Record<string, readonly string[]>> = { all: ['cnn', 'dcn', 'gk-cnn', 'gk-dcn'], baselines: ['index', 'pc', 'logreg', 'rf'] };
const listOf = (v: unknown): string[] => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : []);
const numberOf = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
};

/** The models a train request names (`--model`, groups expanded; the train command's default `all`). */
function trainModels(o: Readonly<Record<string, unknown>>): string[] {
  return (listOf(o.model).length ? listOf(o.model) : ['all']).flatMap((m) => MODEL_GROUPS[m] ?? [m]);
}

/** The CV of a train request: its folds and repeats, the train command's defaults (--folds 5, --repeats 3) when not given. */
function trainRunContext(o: Readonly<Record<string, unknown>>, runNumber?: number): RunContext {
  return { ...(runNumber !== undefined ? { runNumber } : {}), folds: numberOf(o.folds) ?? 5, repeats: numberOf(o.repeats) ?? 3 };
}

/**
 * The readable name of a train request before it is recorded (the Jobs panel's title while it
 * runs): "Training run: CNN, GK-DCN (5-fold × 2)". It gets its number when it is recorded.
 */
export function pendingTrainRunName(options: Readonly<Record<string, unknown>>): string {
  return runDisplayName(trainModels(options), trainRunContext(options));
}

/**
 * The project's runs with readable names where they have none: training runs numbered in the
 * order they were recorded ("Training run 2: CNN, GK-DCN (5-fold × 2)", folds and repeats from
 * the request, the train command's defaults when not given), kriging runs by their fields
 * ("Kriged Au, Cu"); a name the user gave is kept.
 */
export function withRunDisplayNames<R extends NamedRunInput>(runs: readonly R[]): R[] {
  let trainRuns = 0;
  return runs.map((r) => {
    if (r.kind === 'train') trainRuns += 1;
    if (r.displayName) return r;
    const o = r.request.options;
    if (r.kind === 'train') return { ...r, displayName: runDisplayName(trainModels(o), trainRunContext(o, trainRuns)) };
    if (r.kind === 'krige' && listOf(o.fields).length > 0) return { ...r, displayName: krigeDisplayName(listOf(o.fields)) };
    return r;
  });
}

/** A recorded training run as names read it: its readable name and what it adds to its maps' names. */
export interface RecordedTrainRun {
  /** "Training run 3: CNN, GK-DCN (5-fold × 2)", or the name the user gave the run. */
  readonly displayName: string;
  /** "run 3, 5-fold": for its probability layers ("GK-DCN probability (run 3, 5-fold)"). */
  readonly context: RunContext;
}

/**
 * The project's training run that wrote `runDir` (its request's `out`), numbered as
 * withRunDisplayNames numbers it, or null when the project recorded no such run (a run folder
 * opened from elsewhere keeps the names its files give).
 */
export function recordedTrainRun(runs: readonly NamedRunInput[], runDir: string): RecordedTrainRun | null {
  const named = withRunDisplayNames(runs.filter((r) => r.kind === 'train'));
  const i = named.findIndex((r) => r.request.options.out === runDir);
  if (i < 0) return null;
  // withRunDisplayNames names every training run (numbered 1… in this order) and keeps a given name.
  return { displayName: named[i].displayName as string, context: trainRunContext(named[i].request.options, i + 1) };
}
