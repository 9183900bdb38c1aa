import type { GridSpec } from '../grid/grid-spec.ts';
import { compareGrids } from '../grid/grid-spec.ts';
import { GridMismatchError, InvalidOptionError } from '../errors.ts';
import { SiteConflictError } from './site-errors.ts';

/**
 * Training sites: labelled cells of one grid, grouped in blocks.
 *
 * The GK-DCN paper augments each deposit (and each negative) cell with its 8 neighbours: a
 * 3 × 3 block of nine sites sharing one `siteId`. Blocks are clipped by the grid edge; where
 * two blocks of the same label overlap, a shared cell is kept once and goes to the block whose
 * centre is nearest (ties: the earlier block). Overlapping blocks also share a `groupId`
 * (connected components of overlapping blocks), so by-site cross-validation can keep them in
 * one fold: two neighbouring deposits otherwise leak into each other's test fold.
 */

export type SiteSource = 'deposit' | 'auto' | 'user';

export interface Site {
  readonly row: number;
  readonly col: number;
  readonly label: 0 | 1;
  /** Shared by the cells of one block. */
  readonly siteId: string;
  /** Shared by blocks that overlap (equal to siteId for an isolated block). */
  readonly groupId: string;
  readonly source: SiteSource;
  /** True for the block's centre cell (the deposit / chosen cell itself). */
  readonly centre: boolean;
}

export interface SiteSet {
  readonly grid: GridSpec;
  readonly sites: Site[];
}

export interface BlockOptions {
  readonly label: 0 | 1;
  readonly source: SiteSource;
  /** siteId = prefix + block number (1-based). @default 'D' for deposits, 'A' auto, 'U' user */
  readonly idPrefix?: string;
  /** Block half-width in cells: 1 gives the paper's 3 × 3 blocks, 0 single cells. @default 1 */
  readonly blockRadius?: number;
}

const DEFAULT_PREFIX: Record<SiteSource, string> = { deposit: 'D', auto: 'A', user: 'U' };

/** Blocks of sites around centre cells (row·cols + col), clipped to the grid, de-duplicated. */
export function blocksAround(grid: GridSpec, centres: readonly number[], options: BlockOptions): Site[] {
  const radius = options.blockRadius ?? 1;
  if (!(Number.isInteger(radius) && radius >= 0)) throw new InvalidOptionError(`blockRadius must be an integer ≥ 0, got ${radius}`);
  const prefix = options.idPrefix ?? DEFAULT_PREFIX[options.source];
  const uniq = [...new Set(centres)];
  const { rows, cols } = grid;
  // owner[cell] = block index owning the cell, chosen by nearest centre.
  const owner = new Map<number, number>();
  const dist2 = (cell: number, b: number): number => {
    const dr = Math.floor(cell / cols) - Math.floor(uniq[b] / cols);
    const dc = (cell % cols) - (uniq[b] % cols);
    return dr * dr + dc * dc;
  };
  // Union–find over blocks whose squares overlap.
  const parent = uniq.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  uniq.forEach((centre, b) => {
    const r0 = Math.floor(centre / cols);
    const c0 = centre % cols;
    for (let r = r0 - radius; r <= r0 + radius; r++) {
      for (let c = c0 - radius; c <= c0 + radius; c++) {
        if (r < 0 || c < 0 || r >= rows || c >= cols) continue;
        const cell = r * cols + c;
        const prev = owner.get(cell);
        if (prev === undefined) owner.set(cell, b);
        else {
          const a = find(prev);
          const bb = find(b);
          if (a !== bb) parent[Math.max(a, bb)] = Math.min(a, bb);
          if (dist2(cell, b) < dist2(cell, prev)) owner.set(cell, b);
        }
      }
    }
  });
  const ids = uniq.map((_, b) => `${prefix}${b + 1}`);
  const sites: Site[] = [];
  // Output in block order, then row-major within the block, for stable files and tensors.
  const byBlock: number[][] = uniq.map(() => []);
  for (const [cell, b] of owner) byBlock[b].push(cell);
  byBlock.forEach((cells, b) => {
    cells.sort((p, q) => p - q);
    for (const cell of cells) {
      sites.push({
        row: Math.floor(cell / cols),
        col: cell % cols,
        label: options.label,
        siteId: ids[b],
        groupId: ids[find(b)],
        source: options.source,
        centre: cell === uniq[b],
      });
    }
  });
  return sites;
}

/**
 * Joins positive and negative sites into one set; a cell claimed twice is a SiteConflictError
 * naming the cells (a negative block must not touch a positive one).
 */
export function mergeSites(grid: GridSpec, ...lists: readonly Site[][]): SiteSet {
  const seen = new Map<number, Site>();
  const conflicts: string[] = [];
  const all: Site[] = [];
  for (const list of lists) {
    for (const s of list) {
      const cell = s.row * grid.cols + s.col;
      const prev = seen.get(cell);
      if (prev) {
        conflicts.push(`(row ${s.row}, col ${s.col}): ${prev.siteId} label ${prev.label} and ${s.siteId} label ${s.label}`);
        continue;
      }
      seen.set(cell, s);
      all.push(s);
    }
  }
  if (conflicts.length > 0) {
    throw new SiteConflictError(
      `${conflicts.length} cell(s) are claimed by two sites [${conflicts.slice(0, 5).join('; ')}]. ` +
        `Move the user negatives away from the deposits, or edit the sites.`,
      { conflicts: conflicts.length, sample: conflicts.slice(0, 5) },
    );
  }
  return { grid, sites: all };
}

/** Throws GridMismatchError unless the sites were placed on `grid`. */
export function assertSitesOnGrid(sites: SiteSet, grid: GridSpec, gridName: string): void {
  const r = compareGrids(grid, sites.grid);
  if (!r.aligned) {
    throw new GridMismatchError(`the sites were placed on another grid than ${gridName}: ${r.problems.join('; ')}. Place the sites on ${gridName}'s grid.`, { ...r });
  }
}

export function countLabels(sites: readonly Site[]): { positives: number; negatives: number; positiveBlocks: number; negativeBlocks: number } {
  const pos = new Set<string>();
  const neg = new Set<string>();
  let p = 0;
  let n = 0;
  for (const s of sites) {
    if (s.label === 1) {
      p++;
      pos.add(s.siteId);
    } else {
      n++;
      neg.add(s.siteId);
    }
  }
  return { positives: p, negatives: n, positiveBlocks: pos.size, negativeBlocks: neg.size };
}
