import type { GridSpec } from '../grid/grid-spec.ts';
import { InvalidOptionError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import { distanceToMarkedCells } from '../faults/distance-to-faults.ts';
import { blocksAround, type Site } from './site-blocks.ts';
import { TooFewNegativeCandidatesError } from './site-errors.ts';

/**
 * Automatic negative sites, following the paper's rules: far from every known deposit and from
 * the (favourable) faults, as many blocks as there are deposit blocks, spread over the area.
 *
 * A cell is a candidate centre when its whole block lies inside the grid on valid cells that are
 * not positive sites, its distance to the nearest deposit cell is ≥ minDepositDistM and its
 * distance to the nearest fault is ≥ minFaultDistM. Centres are then drawn with Mitchell's
 * best-candidate sampling (Mitchell 1991, "Spectrally optimal sampling for distribution ray
 * tracing"; the usual seeded approximation of Poisson-disk sampling): each new centre is the
 * best of `candidatesPerDraw` seeded uniform draws, the one farthest from every deposit and
 * every centre already chosen. Blocks never overlap each other. Same inputs + seed → same sites.
 */

export interface AutoNegativeOptions {
  /** Deposit cells (row·cols + col). */
  readonly depositCells: readonly number[];
  /** Positive sites (cells a negative block must not touch). */
  readonly positives: readonly Site[];
  /** Number of negative blocks. @default the number of deposit cells (blocks) */
  readonly count?: number;
  /** @default 1 */
  readonly seed?: number;
  /** Minimum distance from a negative centre to any deposit cell, metres. @default 10 cells */
  readonly minDepositDistM?: number;
  /** Distance to the nearest fault per cell (metres); without it no fault rule applies. */
  readonly faultDistanceM?: ArrayLike<number>;
  /** Minimum distance from a negative centre to any fault, metres. @default 5 cells when faultDistanceM is given */
  readonly minFaultDistM?: number;
  /** @default 1 (3 × 3 blocks) */
  readonly blockRadius?: number;
  /** Cells that may not hold a site (1 = excluded), e.g. nodata of the stack. */
  readonly excluded?: Uint8Array;
  /** Draws per chosen centre in best-candidate sampling. @default 32 */
  readonly candidatesPerDraw?: number;
}

interface CheckedOptions {
  count: number;
  seed: number;
  minDepositDistM: number;
  minFaultDistM: number;
  blockRadius: number;
  candidatesPerDraw: number;
}

function checkOptions(grid: GridSpec, o: AutoNegativeOptions): CheckedOptions {
  const cell = Math.max(grid.cellSizeX, grid.cellSizeY);
  const c: CheckedOptions = {
    count: o.count ?? new Set(o.depositCells).size,
    seed: o.seed ?? 1,
    minDepositDistM: o.minDepositDistM ?? 10 * cell,
    minFaultDistM: o.faultDistanceM ? (o.minFaultDistM ?? 5 * cell) : 0,
    blockRadius: o.blockRadius ?? 1,
    candidatesPerDraw: o.candidatesPerDraw ?? 32,
  };
  if (!(Number.isInteger(c.count) && c.count >= 1)) throw new InvalidOptionError(`negative count must be an integer ≥ 1, got ${c.count}`);
  if (!Number.isInteger(c.seed)) throw new InvalidOptionError(`seed must be an integer, got ${c.seed}`);
  if (!(c.minDepositDistM >= 0)) throw new InvalidOptionError(`minimum deposit distance must be ≥ 0 m, got ${c.minDepositDistM}`);
  if (!(c.minFaultDistM >= 0)) throw new InvalidOptionError(`minimum fault distance must be ≥ 0 m, got ${c.minFaultDistM}`);
  if (!(Number.isInteger(c.blockRadius) && c.blockRadius >= 0)) throw new InvalidOptionError(`blockRadius must be an integer ≥ 0, got ${c.blockRadius}`);
  if (!(Number.isInteger(c.candidatesPerDraw) && c.candidatesPerDraw >= 1)) throw new InvalidOptionError(`candidatesPerDraw must be an integer ≥ 1, got ${c.candidatesPerDraw}`);
  if (o.depositCells.length === 0) throw new InvalidOptionError('automatic negatives need at least one deposit cell to stay away from');
  if (o.faultDistanceM && o.faultDistanceM.length !== grid.rows * grid.cols) {
    throw new InvalidOptionError(`fault distance raster has ${o.faultDistanceM.length} cells; the grid needs ${grid.rows * grid.cols}`);
  }
  return c;
}

export interface AutoNegativeResult {
  readonly sites: Site[];
  /** Chosen centre cells. */
  readonly centres: number[];
  /** Admissible centre cells before selection. */
  readonly candidateCount: number;
  readonly options: CheckedOptions;
}

export function autoNegatives(grid: GridSpec, options: AutoNegativeOptions): AutoNegativeResult {
  const o = checkOptions(grid, options);
  const { rows, cols } = grid;
  const n = rows * cols;
  const R = o.blockRadius;
  const depMask = new Uint8Array(n);
  for (const c of options.depositCells) depMask[c] = 1;
  const depDist = distanceToMarkedCells(grid, depMask);
  const blocked = new Uint8Array(n);
  for (const s of options.positives) blocked[s.row * cols + s.col] = 1;
  if (options.excluded) for (let i = 0; i < n; i++) if (options.excluded[i]) blocked[i] = 1;

  const pool: number[] = [];
  for (let r = R; r < rows - R; r++) {
    for (let c = R; c < cols - R; c++) {
      const i = r * cols + c;
      if (depDist[i] < o.minDepositDistM) continue;
      if (options.faultDistanceM) {
        const f = options.faultDistanceM[i];
        if (!(f >= o.minFaultDistM)) continue;
      }
      let ok = true;
      for (let dr = -R; dr <= R && ok; dr++) for (let dc = -R; dc <= R && ok; dc++) if (blocked[(r + dr) * cols + c + dc]) ok = false;
      if (ok) pool.push(i);
    }
  }
  const candidateCount = pool.length;
  const tooFew = (placed: number): TooFewNegativeCandidatesError =>
    new TooFewNegativeCandidatesError(
      `only ${candidateCount} cell(s) of the ${rows}×${cols} grid qualify as negative centres ` +
        `(≥ ${o.minDepositDistM} m from every deposit${options.faultDistanceM ? `, ≥ ${o.minFaultDistM} m from every fault` : ''}, ` +
        `whole ${2 * R + 1}×${2 * R + 1} block inside the grid on valid cells), and ${placed} non-overlapping block(s) could be placed; ` +
        `${o.count} are needed (one per positive block). Lower --min-deposit-dist / --min-fault-dist, or give the negatives yourself.`,
      { candidates: candidateCount, placed, needed: o.count, minDepositDistM: o.minDepositDistM, minFaultDistM: o.minFaultDistM },
    );
  if (candidateCount < o.count) throw tooFew(0);

  // Swap-remove pool with positions, so removing a chosen block's neighbourhood is O(block).
  const pos = new Map<number, number>();
  pool.forEach((cell, k) => pos.set(cell, k));
  const remove = (cell: number): void => {
    const k = pos.get(cell);
    if (k === undefined) return;
    const last = pool[pool.length - 1];
    pool[k] = last;
    pos.set(last, k);
    pool.pop();
    pos.delete(cell);
  };
  const rng = new Rng(o.seed);
  const anchorsR: number[] = [];
  const anchorsC: number[] = [];
  for (const c of new Set(options.depositCells)) {
    anchorsR.push(Math.floor(c / cols));
    anchorsC.push(c % cols);
  }
  const sx = grid.cellSizeX;
  const sy = grid.cellSizeY;
  const centres: number[] = [];
  while (centres.length < o.count) {
    if (pool.length === 0) throw tooFew(centres.length);
    let best = -1;
    let bestScore = -1;
    for (let t = 0; t < o.candidatesPerDraw; t++) {
      const cell = pool[rng.int(pool.length)];
      const r = Math.floor(cell / cols);
      const c = cell % cols;
      let score = Infinity;
      for (let a = 0; a < anchorsR.length; a++) {
        const d = ((r - anchorsR[a]) * sy) ** 2 + ((c - anchorsC[a]) * sx) ** 2;
        if (d < score) score = d;
      }
      if (score > bestScore) {
        bestScore = score;
        best = cell;
      }
    }
    centres.push(best);
    const r = Math.floor(best / cols);
    const c = best % cols;
    anchorsR.push(r);
    anchorsC.push(c);
    // No later block may overlap this one: remove centres within 2R (Chebyshev).
    for (let dr = -2 * R; dr <= 2 * R; dr++) {
      for (let dc = -2 * R; dc <= 2 * R; dc++) {
        const rr = r + dr;
        const cc = c + dc;
        if (rr >= 0 && cc >= 0 && rr < rows && cc < cols) remove(rr * cols + cc);
      }
    }
  }
  const sites = blocksAround(grid, centres, { label: 0, source: 'auto', blockRadius: R });
  return { sites, centres, candidateCount, options: o };
}
