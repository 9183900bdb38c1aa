import type { RasterStack } from '../grid/raster.ts';
import { InvalidOptionError } from '../errors.ts';
import { readStudyMask, maskStack, type StudyMask } from '../eval/study-mask.ts';
import { reflectIndex } from './patches.ts';
import type { SiteSet } from './site-blocks.ts';

/**
 * What `train` does with a study-area mask and with nodata before cutting patches.
 *
 * - `--mask`: the stack's cells outside the mask become nodata (so the whole-grid transform
 *   statistics use the study area only), and site cells outside the mask are dropped (a cell
 *   outside the study area is nodata: it cannot be a training sample).
 * - `--nodata refuse` stops when a patch holds nodata (the error names the sites and the flags);
 *   `fill-mean` fills those values with the band's study-area mean (0 after standardisation,
 *   exactly what prediction does with nodata inside a window); `skip` drops every site whose
 *   patch holds nodata. A site whose own cell is nodata is dropped under fill-mean and skip (it
 *   would be nodata on the map). Default: fill-mean with --mask (the mask's edge always cuts
 *   some patches), refuse without.
 */

export type NodataPolicy = 'fill-mean' | 'skip' | 'refuse';
export const NODATA_POLICIES: readonly NodataPolicy[] = ['fill-mean', 'skip', 'refuse'];

export function checkNodataPolicy(v: string | undefined, hasMask: boolean): NodataPolicy {
  const p = v ?? (hasMask ? 'fill-mean' : 'refuse');
  if (!(NODATA_POLICIES as readonly string[]).includes(p)) {
    throw new InvalidOptionError(`geoanomaly train: --nodata must be one of ${NODATA_POLICIES.join(', ')}, got "${p}"`);
  }
  return p as NodataPolicy;
}

/** Whether the k × k window around (row, col) (reflect-padded like patches) holds a NaN in any band. */
export function windowHasNodata(stack: RasterStack, row: number, col: number, k: number): boolean {
  const { rows, cols } = stack.grid;
  const h = (k - 1) / 2;
  for (let dy = -h; dy <= h; dy++) {
    const r = reflectIndex(row + dy, rows);
    for (let dx = -h; dx <= h; dx++) {
      const c = reflectIndex(col + dx, cols);
      for (const b of stack.bands) if (Number.isNaN(b[r * cols + c])) return true;
    }
  }
  return false;
}

export interface TrainingArea {
  readonly stack: RasterStack;
  readonly sites: SiteSet;
  readonly mask: StudyMask | null;
  readonly nodata: NodataPolicy;
  /** Site cells dropped: outside the mask, on a nodata cell, or (skip) with nodata in their patch. */
  readonly dropped: { readonly outsideMask: number; readonly nodataCentre: number; readonly nodataPatch: number };
}

export async function trainingArea(
  stack: RasterStack,
  sites: SiteSet,
  options: { readonly mask?: string; readonly nodata?: string; readonly patchSize: number },
): Promise<TrainingArea> {
  const mask = options.mask ? await readStudyMask(options.mask, stack.grid) : null;
  const nodata = checkNodataPolicy(options.nodata, mask !== null);
  const masked = mask ? maskStack(stack, mask) : stack;
  const { cols } = stack.grid;
  const dropped = { outsideMask: 0, nodataCentre: 0, nodataPatch: 0 };
  const kept = sites.sites.filter((s) => {
    const cell = s.row * cols + s.col;
    if (mask && !mask.cells[cell]) {
      dropped.outsideMask++;
      return false;
    }
    if (nodata === 'refuse') return true;
    if (masked.bands.some((b) => Number.isNaN(b[cell]))) {
      dropped.nodataCentre++;
      return false;
    }
    if (nodata === 'skip' && windowHasNodata(masked, s.row, s.col, options.patchSize)) {
      dropped.nodataPatch++;
      return false;
    }
    return true;
  });
  return { stack: masked, sites: { grid: sites.grid, sites: kept }, mask, nodata, dropped };
}

/** Log lines of what the mask and the nodata policy did (the CLI prints them on stderr). */
export function describeTrainingArea(a: TrainingArea): string[] {
  const out: string[] = [];
  if (a.mask) out.push(`study-area mask ${a.mask.path}: ${a.mask.inside} of ${a.mask.cells.length} cells inside; cells outside are nodata`);
  const d = a.dropped;
  if (d.outsideMask > 0) out.push(`${d.outsideMask} site cell(s) outside the study-area mask dropped`);
  if (d.nodataCentre > 0) out.push(`${d.nodataCentre} site cell(s) on nodata dropped (--nodata ${a.nodata})`);
  if (d.nodataPatch > 0) out.push(`${d.nodataPatch} site cell(s) whose patch holds nodata dropped (--nodata skip)`);
  return out;
}

/**
 * Site cells of `set` on nodata of any band of `stack` (the reference grid `sites` reads): the
 * `sites` command warns with them, since train refuses such patches unless --nodata says otherwise.
 */
export function siteCellsOnNodata(set: SiteSet, stack: RasterStack): { cells: number; blocks: string[]; first: string[] } {
  const { cols } = stack.grid;
  const hits = set.sites.filter((s) => stack.bands.some((b) => Number.isNaN(b[s.row * cols + s.col])));
  return { cells: hits.length, blocks: [...new Set(hits.map((s) => s.siteId))], first: hits.slice(0, 5).map((s) => `${s.siteId} (row ${s.row}, col ${s.col})`) };
}
