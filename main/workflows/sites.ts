import { InvalidOptionError } from '../errors.ts';
import { readGeoTiff } from '../io/geotiff-read.ts';
import { parseCrs } from '../grid/crs.ts';
import { throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { faultDistanceFromFile, parseWhere } from '../faults/fault-inputs.ts';
import { parseIndexAlignment } from '../sites/label-cells.ts';
import { readSiteCells } from '../sites/site-inputs.ts';
import { buildSites, type NegativeSpec } from '../sites/build-sites.ts';
import { sitesFileFormat, writeSitesFile } from '../sites/sites-file.ts';
import { siteCellsOnNodata } from '../sites/training-area.ts';
import { checkWorkflowPaths, required } from './option-table.ts';
import { dedupePolicy, layerChoice } from './faults.ts';
import { SITES_OPTIONS, SITES_PATHS, type SitesWorkflowOptions } from './sites-options.ts';
import type { SiteLabelInput, SitesWorkflowResult } from './sites-result.ts';

export { SITES_OPTIONS, SITES_PATHS, type SitesWorkflowOptions } from './sites-options.ts';
export type { SiteClassCount, SiteLabelInput, SitesWorkflowResult } from './sites-result.ts';

const CMD = 'sites';

function int(v: number | undefined, flag: string): number | undefined {
  if (v !== undefined && !Number.isInteger(v)) throw new InvalidOptionError(`geoanomaly sites: --${flag} must be an integer, got ${v}`);
  return v;
}

/**
 * Positive and negative training sites on a reference grid: each deposit cell and its
 * neighbours (a block sharing one siteId) are positives; negatives are chosen automatically
 * (seeded, away from deposits and faults), read from a file, or none. Writes the sites file
 * (GeoJSON, GeoPackage or Shapefile); notes and the nodata warning go to `ctx.log`. Cancel
 * (ctx.signal) is honoured during the fault distance and before the file is written.
 */
export async function sitesWorkflow(o: SitesWorkflowOptions, ctx: JobContext = {}): Promise<SitesWorkflowResult> {
  checkWorkflowPaths(SITES_OPTIONS, SITES_PATHS, o);
  const depositsPath = required(o.deposits, 'deposits', CMD);
  const gridPath = required(o.grid, 'grid', CMD);
  const out = required(o.out, 'out', CMD);
  const format = sitesFileFormat(out); // a wrong extension is refused before any work
  const align = o.alignByIndex || undefined;
  const alignByIndex = align ? parseIndexAlignment(align) : undefined;
  const outside = o.dropOutside ? 'drop' : 'error';
  const dedupe = dedupePolicy(o.dedupe, CMD);
  const asPoints = o.labelsAsPoints === true;
  if (asPoints && align) throw new InvalidOptionError('geoanomaly sites: --labels-as-points places label cells by their coordinates; it cannot be combined with --align-by-index');
  const count = int(o.count, 'count');
  const seed = int(o.seed ?? SITES_OPTIONS.seed.default, 'seed') as number;
  const blockRadius = int(o.blockRadius ?? SITES_OPTIONS.blockRadius.default, 'block-radius') as number;
  const log = (m: string): void => ctx.log?.(`sites: ${m}`);

  const ref = await readGeoTiff(gridPath);
  const grid = ref.grid;
  const excluded = new Uint8Array(grid.rows * grid.cols);
  ref.bands[0].forEach((v, i) => (excluded[i] = Number.isNaN(v) ? 1 : 0));
  const assumeCrs = o.crs ? parseCrs(o.crs) : undefined;

  // Deposits and file negatives are read, checked and logged the same way (the role names them).
  const readLabels = async (role: 'deposit' | 'negative', file: string, value: number, layer: ReturnType<typeof layerChoice>) => {
    const r = await readSiteCells(file, grid, { role, value, alignByIndex, outside, dedupe, asPoints, assumeCrs, log, ...layer });
    if (r.alignment && !r.alignment.aligned) log(`${file} paired by index (${align}) although ${r.alignment.problems.join('; ')}`);
    if (r.dropped.length > 0) log(`dropped ${r.dropped.length} ${role}(s) outside the grid`);
    if (r.duplicatesDropped) log(`--dedupe first: dropped ${r.duplicatesDropped} ${role} feature(s) in cells already holding a ${role}`);
    const input: SiteLabelInput = { file, cells: r.cells.length, droppedOutside: r.dropped.length, duplicatesDropped: r.duplicatesDropped ?? 0, merged: r.merged };
    return { cells: r.cells, merged: r.merged, input };
  };
  const dep = await readLabels('deposit', depositsPath, o.depositValue ?? SITES_OPTIONS.depositValue.default, layerChoice(o.depositsLayer, o.layer, 'deposits'));
  if (dep.merged > 0) log(`${dep.merged} deposit point(s) share a cell with another point of the same feature; each cell counts once`);
  const deposits = dep.input;

  const negArg = o.negatives ?? SITES_OPTIONS.negatives.default;
  let negatives: NegativeSpec;
  let negativesFile: SiteLabelInput | undefined;
  if (negArg === 'none') negatives = { kind: 'none' };
  else if (negArg === 'auto') {
    const faultsPath = o.faults || undefined;
    const where = o.faultWhere ? parseWhere(o.faultWhere) : undefined;
    const faultDistanceM = faultsPath
      ? (await faultDistanceFromFile(faultsPath, grid, { alignByIndex, where, assumeCrs, ...layerChoice(o.faultsLayer, o.layer, 'faults') }, { signal: ctx.signal, progress: ctx.progress, log })).distanceM
      : undefined;
    negatives = { kind: 'auto', count, seed, minDepositDistM: o.minDepositDist, minFaultDistM: o.minFaultDist, faultDistanceM, excluded };
  } else {
    const neg = await readLabels('negative', negArg, o.negativeValue ?? SITES_OPTIONS.negativeValue.default, layerChoice(o.negativesLayer, o.layer, 'negatives'));
    negatives = { kind: 'user', cells: neg.cells };
    negativesFile = neg.input;
  }
  const { set, summary } = buildSites(grid, { depositCells: dep.cells, negatives, blockRadius });
  // A cancel that came while the negatives were chosen stops here, before the file is written.
  throwIfCancelled(ctx, 'sites');
  const written = await writeSitesFile(out, set);
  const onNodata = siteCellsOnNodata(set, ref);
  if (onNodata.cells > 0) {
    log(
      `warning: ${onNodata.cells} block cell(s) of ${onNodata.blocks.length} block(s) fall on nodata of ${gridPath} [first: ${onNodata.first.join(', ')}]; ` +
        'train refuses patches holding nodata unless you pass --nodata fill-mean (band mean) or --nodata skip (drop those sites)',
    );
  }
  return {
    outputs: { sites: out, files: [...written.files] },
    format,
    grid: { file: gridPath, rows: grid.rows, cols: grid.cols, cellSizeM: grid.cellSizeX, crs: grid.crs?.name ?? null },
    positives: { cells: summary.positives, blocks: summary.positiveBlocks },
    negatives: { cells: summary.negatives, blocks: summary.negativeBlocks },
    depositCells: summary.depositCells,
    negativeSource: negatives.kind,
    ...(summary.negativeCandidates !== undefined ? { negativeCandidates: summary.negativeCandidates } : {}),
    partialBlocks: { ...summary.partialBlocks },
    deposits,
    ...(negativesFile ? { negativesFile } : {}),
    onNodata: { cells: onNodata.cells, blocks: onNodata.blocks.length, first: onNodata.first },
  };
}

/** The lines "geoanomaly sites" prints on stdout for a result (tests and scripts read them). */
export function sitesResultLines(r: SitesWorkflowResult): string[] {
  const lines = [
    `sites: ${r.positives.cells} positives in ${r.positives.blocks} blocks (${r.depositCells} deposit cells), ` +
      `${r.negatives.cells} negatives in ${r.negatives.blocks} blocks` +
      (r.negativeCandidates !== undefined ? ` (chosen among ${r.negativeCandidates} admissible centres)` : ''),
  ];
  const partial = Object.entries(r.partialBlocks);
  if (partial.length > 0) lines.push(`partial blocks (clipped or shared): ${partial.map(([id, c]) => `${id}: ${c}`).join(', ')}`);
  lines.push(`wrote ${r.outputs.files.join(', ')}`);
  return lines;
}
