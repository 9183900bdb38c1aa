import type { GridSpec } from '../grid/grid-spec.ts';
import { InvalidOptionError } from '../errors.ts';
import { blocksAround, countLabels, mergeSites, type SiteSet } from './site-blocks.ts';
import { autoNegatives, type AutoNegativeOptions } from './negative-sites.ts';

/**
 * Positive and negative training sites in one call: 3 × 3 (blockRadius) blocks around every
 * deposit cell; negatives either none, user-chosen centre cells (augmented likewise, source
 * 'user'), or chosen automatically (source 'auto', see negative-sites.ts).
 */

export type NegativeSpec =
  | { readonly kind: 'none' }
  | { readonly kind: 'user'; readonly cells: readonly number[] }
  | ({ readonly kind: 'auto' } & Omit<AutoNegativeOptions, 'depositCells' | 'positives' | 'blockRadius'>);

export interface BuildSitesOptions {
  readonly depositCells: readonly number[];
  readonly negatives: NegativeSpec;
  /** @default 1 (3 × 3 blocks) */
  readonly blockRadius?: number;
}

export interface SitesSummary {
  readonly depositCells: number;
  readonly positives: number;
  readonly positiveBlocks: number;
  readonly negatives: number;
  readonly negativeBlocks: number;
  /** Blocks with fewer than (2r + 1)² cells, by siteId: clipped by the edge or shared with a neighbour. */
  readonly partialBlocks: Record<string, number>;
  /** For automatic negatives: admissible centre cells before selection. */
  readonly negativeCandidates?: number;
}

export function buildSites(grid: GridSpec, options: BuildSitesOptions): { set: SiteSet; summary: SitesSummary } {
  const r = options.blockRadius ?? 1;
  if (options.depositCells.length === 0) throw new InvalidOptionError('training sites need at least one deposit cell');
  const positives = blocksAround(grid, options.depositCells, { label: 1, source: 'deposit', blockRadius: r });
  let negatives = [] as typeof positives;
  let negativeCandidates: number | undefined;
  const neg = options.negatives;
  if (neg.kind === 'user') {
    negatives = blocksAround(grid, neg.cells, { label: 0, source: 'user', blockRadius: r });
  } else if (neg.kind === 'auto') {
    const { kind: _kind, ...rest } = neg;
    const res = autoNegatives(grid, { ...rest, depositCells: options.depositCells, positives, blockRadius: r });
    negatives = res.sites;
    negativeCandidates = res.candidateCount;
  }
  const set = mergeSites(grid, positives, negatives);
  const full = (2 * r + 1) ** 2;
  const perBlock = new Map<string, number>();
  for (const s of set.sites) perBlock.set(s.siteId, (perBlock.get(s.siteId) ?? 0) + 1);
  const partialBlocks: Record<string, number> = {};
  for (const [id, c] of perBlock) if (c < full) partialBlocks[id] = c;
  const counts = countLabels(set.sites);
  return {
    set,
    summary: {
      depositCells: new Set(options.depositCells).size,
      positives: counts.positives,
      positiveBlocks: counts.positiveBlocks,
      negatives: counts.negatives,
      negativeBlocks: counts.negativeBlocks,
      partialBlocks,
      ...(negativeCandidates !== undefined ? { negativeCandidates } : {}),
    },
  };
}
