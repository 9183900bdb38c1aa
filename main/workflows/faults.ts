import { InvalidOptionError } from '../errors.ts';
import { readGeoTiff } from '../io/geotiff-read.ts';
import { writeGeoTiff } from '../io/geotiff-write.ts';
import { writeJsonAtomic } from '../util/atomic-write.ts';
import { parseCrs } from '../grid/crs.ts';
import { throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { faultDistanceFromFile, parseWhere } from '../faults/fault-inputs.ts';
import { faultBuffers } from '../faults/distance-to-faults.ts';
import { defaultRingWidth, fitDensityPowerLaw, type PowerLawFit, type RingDistance } from '../faults/power-law.ts';
import { ringWeights, weightMap, type WeightNormalisation } from '../faults/weight-map.ts';
import { parseIndexAlignment } from '../sites/label-cells.ts';
import { readSiteCells } from '../sites/site-inputs.ts';
import { DEDUPE_POLICIES, type DedupePolicy } from '../sites/sites-geojson.ts';
import { checkPowerLaw, formatWarning } from '../eval/trust-checks.ts';
import { checkWorkflowPaths, required } from './option-table.ts';
import { FAULTS_DEFAULT_MAX_RING, FAULTS_OPTIONS, FAULTS_PATHS, type FaultsWorkflowOptions } from './faults-options.ts';
import type { FaultsWorkflowResult } from './faults-result.ts';

export { FAULTS_OPTIONS, FAULTS_PATHS, type FaultsWorkflowOptions } from './faults-options.ts';
export type { FaultsPowerLaw, FaultRing, FaultsWorkflowResult } from './faults-result.ts';

const CMD = 'faults';

function parseWidths(text: string): number[] {
  const widths = text.split(',').map((s) => Number(s.trim()));
  if (widths.length === 0 || widths.some((w) => !(Number.isFinite(w) && w >= 0))) {
    throw new InvalidOptionError(`--buffers expects comma-separated widths in metres (e.g. 1000,2000), got "${text}"`);
  }
  return widths;
}

/** --dedupe, checked with the message main/cli/dedupe-option.ts gives. */
export function dedupePolicy(v: string | undefined, cmd: string): DedupePolicy {
  const p = v ?? 'refuse';
  if (!(DEDUPE_POLICIES as readonly string[]).includes(p)) throw new InvalidOptionError(`geoanomaly ${cmd}: --dedupe must be "first" or "refuse", got "${p}"`);
  return p as DedupePolicy;
}

/** The layer of one input: its own --INPUT-layer, else --layer (main/cli/layer-options.ts layerFor). */
export function layerChoice(own: string | undefined, generic: string | undefined, input: string): { layer?: string; layerFlag: string } {
  return { layer: own ?? generic, layerFlag: `--${input}-layer` };
}

/**
 * Distance to faults on a reference grid, the deposit density–distance power law m(d) = N·d^k
 * fitted over distance rings (or a given --k), and what they give: the distance and weight
 * maps, fault buffers and the JSON report. Notes and trust warnings go to `ctx.log`; cancel
 * (ctx.signal) is honoured during the distance computation and before any file is written.
 */
export async function faultsWorkflow(o: FaultsWorkflowOptions, ctx: JobContext = {}): Promise<FaultsWorkflowResult> {
  checkWorkflowPaths(FAULTS_OPTIONS, FAULTS_PATHS, o);
  const faultsPath = required(o.faults, 'faults', CMD);
  const gridPath = required(o.grid, 'grid', CMD);
  const depositsPath = o.deposits || undefined;
  const givenK = o.k;
  if (!depositsPath && givenK === undefined) throw new InvalidOptionError('geoanomaly faults: give --deposits to fit the power law, or --k to use a known exponent');
  const distanceOut = o.distance || undefined;
  const weightOut = o.weight || undefined;
  const reportOut = o.report || undefined;
  const buffersOut = o.buffersOut || undefined;
  if (!distanceOut && !weightOut && !reportOut && !buffersOut) throw new InvalidOptionError('geoanomaly faults: nothing to write; give --distance, --weight, --report and/or --buffers-out');
  const align = o.alignByIndex || undefined;
  const alignByIndex = align ? parseIndexAlignment(align) : undefined;
  const normalisation = o.normalisation ?? FAULTS_OPTIONS.normalisation.default;
  if (normalisation !== 'max' && normalisation !== 'minmax') throw new InvalidOptionError(`geoanomaly faults: --normalisation must be "max" or "minmax", got "${normalisation}"`);
  const ringDistanceArg = o.ringDistance ?? FAULTS_OPTIONS.ringDistance.default;
  if (ringDistanceArg !== 'outer' && ringDistanceArg !== 'mid') throw new InvalidOptionError(`geoanomaly faults: --ring-distance must be "outer" or "mid", got "${ringDistanceArg}"`);
  const ringDistance: RingDistance = ringDistanceArg;
  const dedupe = dedupePolicy(o.dedupe, CMD);
  // The buffer widths are checked before the distances are computed (a typo fails at once).
  const widths = buffersOut ? parseWidths(required(o.buffers, 'buffers', CMD)) : [];
  const log = (m: string): void => ctx.log?.(`faults: ${m}`);

  const ref = await readGeoTiff(gridPath);
  const grid = ref.grid;
  const excluded = new Uint8Array(grid.rows * grid.cols);
  ref.bands[0].forEach((v, i) => (excluded[i] = Number.isNaN(v) ? 1 : 0));
  const assumeCrs = o.crs ? parseCrs(o.crs) : undefined;
  const fd = await faultDistanceFromFile(
    faultsPath,
    grid,
    { alignByIndex, assumeCrs, where: o.faultWhere ? parseWhere(o.faultWhere) : undefined, threshold: o.faultThreshold, ...layerChoice(o.faultsLayer, o.layer, 'faults') },
    { signal: ctx.signal, progress: ctx.progress, log },
  );
  const distance = Float32Array.from(fd.distanceM, (d, i) => (excluded[i] ? NaN : d));

  const ringWidthM = o.ring ?? defaultRingWidth(grid);
  let fit: PowerLawFit | null = null;
  let deposits: FaultsWorkflowResult['deposits'] = null;
  if (depositsPath) {
    const dep = await readSiteCells(depositsPath, grid, {
      role: 'deposit',
      value: o.depositValue ?? FAULTS_OPTIONS.depositValue.default,
      alignByIndex,
      outside: o.dropOutside ? 'drop' : 'error',
      ...layerChoice(o.depositsLayer, o.layer, 'deposits'),
      dedupe,
      assumeCrs,
      log,
    });
    if (dep.duplicatesDropped) log(`--dedupe first: dropped ${dep.duplicatesDropped} deposit feature(s) in cells already holding a deposit`);
    if (dep.alignment && !dep.alignment.aligned) log(`${depositsPath} paired by index (${align}) although ${dep.alignment.problems.join('; ')}`);
    if (dep.dropped.length > 0) log(`dropped ${dep.dropped.length} deposit(s) outside the grid`);
    deposits = { file: depositsPath, cells: dep.cells.length, droppedOutside: dep.dropped.length, duplicatesDropped: dep.duplicatesDropped ?? 0 };
    fit = fitDensityPowerLaw(grid, distance, dep.cells, { ringWidthM, maxRing: o.maxRing, minRing: o.minRing, ringDistance, excluded });
  }
  // Only a fitted law is checked: a given --k is the user's choice.
  const warnings = fit && givenK === undefined ? checkPowerLaw(fit) : [];
  for (const w of warnings) ctx.log?.(formatWarning(w));
  const k = givenK ?? (fit as PowerLawFit).k;
  const maxRing = o.maxRing ?? fit?.maxRing ?? FAULTS_DEFAULT_MAX_RING;
  const weightOpts = { k, ringWidthM, maxRing, normalisation: normalisation as WeightNormalisation, ringDistance };
  const weights = Array.from(ringWeights(weightOpts)).slice(1);

  // A cancel that came during the fit stops here, before the first file is written.
  throwIfCancelled(ctx, 'faults');
  if (distanceOut) writeGeoTiff(distanceOut, { grid, bandNames: ['fault_distance_m'], bands: [distance] });
  if (weightOut) writeGeoTiff(weightOut, { grid, bandNames: ['fault_weight'], bands: [weightMap(distance, weightOpts)] });
  if (buffersOut) {
    const masks = faultBuffers(distance, widths);
    writeGeoTiff(buffersOut, {
      grid,
      bandNames: widths.map((w) => `buffer_${w}m`),
      bands: masks.map((m) => Float32Array.from(m, (v, i) => (excluded[i] ? NaN : v))),
    });
  }
  const faults = { file: faultsPath, kind: fd.kind, elements: fd.elements, elementsInGrid: fd.elementsInGrid };
  if (reportOut) {
    writeJsonAtomic(reportOut, {
      ...(fit ?? { N: null, k, r2: null, rings: [] }),
      warnings,
      weight: { ...weightOpts, ringWeights: weights },
      faults,
      grid: gridPath,
      deposits: depositsPath ?? null,
    });
  }
  return {
    outputs: { ...(distanceOut ? { distance: distanceOut } : {}), ...(weightOut ? { weight: weightOut } : {}), ...(buffersOut ? { buffers: buffersOut } : {}), ...(reportOut ? { report: reportOut } : {}) },
    faults,
    grid: { file: gridPath, rows: grid.rows, cols: grid.cols, cellSizeM: grid.cellSizeX, crs: grid.crs?.name ?? null },
    deposits,
    fit: fit
      ? {
          N: fit.N,
          k: fit.k,
          r2: fit.r2,
          ringWidthM: fit.ringWidthM,
          ringDistance: fit.ringDistance,
          maxRing: fit.maxRing,
          depositCells: fit.depositCells,
          excludedDeposits: fit.excludedDeposits,
          rings: fit.rings.map((r) => ({ ...r })),
        }
      : null,
    weight: { ...weightOpts, normalisation, givenK: givenK !== undefined, ringWeights: weights },
    bufferWidthsM: widths,
    warnings: warnings.map((w) => ({ ...w })),
  };
}

/** The lines "geoanomaly faults" prints on stdout for a result (tests and scripts read them). */
export function faultsResultLines(r: FaultsWorkflowResult): string[] {
  const lines = [`faults: ${r.faults.elements} ${r.faults.kind === 'lines' ? 'segments' : 'fault cells'} (${r.faults.elementsInGrid} in the grid)`];
  const f = r.fit;
  if (f) lines.push(`power law: m(d) = ${f.N.toPrecision(4)}·d^${f.k.toFixed(4)}  (R² = ${f.r2.toFixed(4)}, ${f.depositCells} deposit cells, ${f.rings.filter((x) => x.usedInFit).length} rings fitted)`);
  for (const path of [r.outputs.distance, r.outputs.weight, r.outputs.buffers, r.outputs.report]) if (path) lines.push(`wrote ${path}`);
  return lines;
}
