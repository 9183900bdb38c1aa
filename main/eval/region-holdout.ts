import type { Feature, Position } from 'geojson';
import type { GridSpec } from '../grid/grid-spec.ts';
import { cellCenterX, cellCenterY } from '../grid/grid-spec.ts';
import { EmptyInputError, InvalidOptionError, WorkbenchError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import { depositPlacements, quantileSorted } from './bootstrap.ts';

/**
 * Region hold-out at map level: the pure parts (which cells form each held-out region, which
 * sites may train, how the held-out deposits are scored on a full map). The orchestration
 * (train on the other regions, predict the whole grid) is main/workflows/holdout-run.ts.
 *
 * Why: grouped CV mixes every region into every fold, so it measures interpolation between
 * neighbouring deposits; a published Li district scored AUC 0.95 in grouped CV and 0.30 on a
 * held-out south-western region. Holding out a whole region measures the transfer a geologist
 * asks of a map.
 *
 * Rules (documented in docs/gk-dcn.md):
 * - a cell belongs to a region when its centre is inside the polygon (GDAL's default rasterise
 *   rule; tests compare with gdal_rasterize);
 * - a site GROUP (overlapping blocks, main/sites/site-blocks.ts) with any cell in the region is
 *   held out whole, so no training sample lies in the region and no held-out block leaks
 *   through an overlapping neighbour;
 * - held-out deposits are the centre cells of the held-out deposit blocks whose centre is in the
 *   region; every training cell is excluded from scoring, and so are the 8 augmentation cells
 *   around each held-out deposit (they are copies of the deposit's label, not background);
 * - the map AUC ranks the held-out deposit cells against every other scored cell of the map
 *   (`auc`) and against the region's own cells only (`aucInRegion`); its 95 % interval is a
 *   percentile bootstrap over the deposits (the independent units), so it stays in [0, 1].
 */

export class HoldoutRegionError extends WorkbenchError {}

export type HoldoutSpec = { readonly kind: 'region'; readonly path: string } | { readonly kind: 'blocks'; readonly blocks: number };

/** One held-out region as grid cells. */
export interface HoldoutRegion {
  readonly name: string;
  /** 1 = the cell is in the region. */
  readonly cells: Uint8Array;
}

/** Even-odd test of (x, y) against one polygon's rings (outer + holes). */
function inRings(rings: readonly Position[][], x: number, y: number): boolean {
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

/**
 * Cells whose centre lies inside any Polygon / MultiPolygon of `features` (coordinates in the
 * grid's CRS). Hand-written (a bounding-box-limited even-odd scan): no installed library
 * rasterises polygons, and this is a dozen lines checked against gdal_rasterize.
 */
export function regionCells(grid: GridSpec, features: readonly Feature[], file = 'region'): Uint8Array {
  const polys: Position[][][] = [];
  features.forEach((f) => {
    const g = f.geometry;
    if (g?.type === 'Polygon') polys.push(g.coordinates);
    else if (g?.type === 'MultiPolygon') polys.push(...g.coordinates);
  });
  if (polys.length === 0) {
    throw new HoldoutRegionError(`${file}: expected Polygon or MultiPolygon features for --holdout-region, found ${features.map((f) => f.geometry?.type).join(', ') || 'none'}. Draw the held-out area as a polygon, or use --holdout-blocks N.`, { file });
  }
  const out = new Uint8Array(grid.rows * grid.cols);
  for (const rings of polys) {
    let xmin = Infinity;
    let xmax = -Infinity;
    let ymin = Infinity;
    let ymax = -Infinity;
    for (const p of rings[0]) {
      xmin = Math.min(xmin, p[0]);
      xmax = Math.max(xmax, p[0]);
      ymin = Math.min(ymin, p[1]);
      ymax = Math.max(ymax, p[1]);
    }
    for (let r = 0; r < grid.rows; r++) {
      const y = cellCenterY(grid, r);
      if (y < ymin || y > ymax) continue;
      for (let c = 0; c < grid.cols; c++) {
        const x = cellCenterX(grid, c);
        if (x < xmin || x > xmax) continue;
        if (inRings(rings, x, y)) out[r * grid.cols + c] = 1;
      }
    }
  }
  return out;
}

/**
 * Factors n = a · b (a block columns, b block rows) with the blocks as square as the grid
 * allows: minimises |log((cols/a) / (rows/b))|. A prime n gives strips across the longer axis.
 */
export function blockLayout(grid: Pick<GridSpec, 'rows' | 'cols'>, n: number): { across: number; down: number } {
  if (!(Number.isInteger(n) && n >= 2)) throw new InvalidOptionError(`--holdout-blocks must be an integer ≥ 2, got ${n}`);
  let best = { across: n, down: 1, score: Infinity };
  for (let a = 1; a <= n; a++) {
    if (n % a !== 0) continue;
    const b = n / a;
    if (a > grid.cols || b > grid.rows) continue;
    const score = Math.abs(Math.log(grid.cols / a / (grid.rows / b)));
    if (score < best.score) best = { across: a, down: b, score };
  }
  if (!Number.isFinite(best.score)) throw new InvalidOptionError(`--holdout-blocks ${n}: the ${grid.rows}×${grid.cols} grid cannot be cut into ${n} blocks; use fewer`);
  return { across: best.across, down: best.down };
}

/** N spatial blocks of (nearly) equal size, numbered row by row from the top-left. */
export function spatialBlocks(grid: GridSpec, n: number): HoldoutRegion[] {
  const { across, down } = blockLayout(grid, n);
  const regions: HoldoutRegion[] = [];
  for (let b = 0; b < down; b++) {
    const r0 = Math.floor((b * grid.rows) / down);
    const r1 = Math.floor(((b + 1) * grid.rows) / down);
    for (let a = 0; a < across; a++) {
      const c0 = Math.floor((a * grid.cols) / across);
      const c1 = Math.floor(((a + 1) * grid.cols) / across);
      const cells = new Uint8Array(grid.rows * grid.cols);
      for (let r = r0; r < r1; r++) cells.fill(1, r * grid.cols + c0, r * grid.cols + c1);
      regions.push({ name: `block ${regions.length + 1} (rows ${r0}–${r1 - 1}, cols ${c0}–${c1 - 1})`, cells });
    }
  }
  return regions;
}

/** Which samples train and which deposits are scored for one held-out region. */
export interface HoldoutSplit {
  readonly region: string;
  /** Sample (= site cell) indices that train: every site of a group with no cell in the region. */
  readonly trainIdx: number[];
  /** Site ids held out (their samples never train). */
  readonly heldOutSiteIds: string[];
  /** Centre cells (row · cols + col) of the held-out deposit blocks inside the region. */
  readonly depositCells: number[];
  /** 1 = not scored: training cells and the augmentation cells around held-out deposits. */
  readonly exclude: Uint8Array;
  readonly regionCells: Uint8Array;
}

/**
 * The fields of a site set (main/sites/site-blocks.ts SiteSet) that a split reads. Declared here,
 * not imported: eval/ sits below sites/, and a SiteSet is one of these by its shape.
 */
export interface HoldoutSites {
  readonly grid: Pick<GridSpec, 'cols'>;
  readonly sites: readonly {
    readonly row: number;
    readonly col: number;
    readonly label: 0 | 1;
    readonly siteId: string;
    readonly groupId: string;
    readonly centre: boolean;
  }[];
}

export function holdoutSplit(sites: HoldoutSites, region: HoldoutRegion): HoldoutSplit {
  const { cols } = sites.grid;
  const cellOf = (i: number): number => sites.sites[i].row * cols + sites.sites[i].col;
  const heldGroups = new Set<string>();
  sites.sites.forEach((s, i) => {
    if (region.cells[cellOf(i)]) heldGroups.add(s.groupId);
  });
  const trainIdx: number[] = [];
  const held = new Set<string>();
  const depositCells: number[] = [];
  const exclude = new Uint8Array(region.cells.length);
  sites.sites.forEach((s, i) => {
    if (!heldGroups.has(s.groupId)) {
      trainIdx.push(i);
      exclude[cellOf(i)] = 1;
      return;
    }
    held.add(s.siteId);
    if (s.label === 1 && s.centre && region.cells[cellOf(i)]) depositCells.push(cellOf(i));
    else if (s.label === 1) exclude[cellOf(i)] = 1;
  });
  for (const c of depositCells) exclude[c] = 0;
  return { region: region.name, trainIdx, heldOutSiteIds: [...held], depositCells, exclude, regionCells: region.cells };
}

/** Checks that a split can be trained and scored; names the region and the fix. */
export function assertUsableSplit(split: HoldoutSplit, labels: ArrayLike<number>, flag: string): void {
  let pos = 0;
  for (const i of split.trainIdx) pos += labels[i] === 1 ? 1 : 0;
  const neg = split.trainIdx.length - pos;
  if (pos === 0 || neg === 0) {
    throw new HoldoutRegionError(
      `${flag}: holding out ${split.region} leaves ${pos} deposit and ${neg} non-deposit training sample(s); training needs both. Choose a smaller hold-out region (or more --holdout-blocks).`,
      { region: split.region, positives: pos, negatives: neg },
    );
  }
}

export interface HeldOutScore {
  readonly region: string;
  readonly deposits: number;
  readonly heldOutSites: number;
  readonly trainingSamples: number;
  /** Placements of the held-out deposits against the whole map's other scored cells. */
  readonly placements: Float64Array;
  /** The same against the region's own scored cells. */
  readonly placementsInRegion: Float64Array;
}

/** Scores one region's deposits on a full-map probability band (NaN = nodata, not scored). */
export function scoreHeldOut(map: ArrayLike<number>, split: HoldoutSplit): HeldOutScore {
  const base = { region: split.region, deposits: 0, heldOutSites: split.heldOutSiteIds.length, trainingSamples: split.trainIdx.length };
  if (split.depositCells.length === 0) return { ...base, placements: new Float64Array(0), placementsInRegion: new Float64Array(0) };
  const placements = depositPlacements(map, split.depositCells, split.exclude);
  const outside = Uint8Array.from(split.exclude, (e, i) => (e || !split.regionCells[i] ? 1 : 0));
  for (const c of split.depositCells) outside[c] = 0;
  const placementsInRegion = depositPlacements(map, split.depositCells, outside);
  return { ...base, deposits: placements.length, placements, placementsInRegion };
}

/** AUC (mean placement) and its 95 % percentile interval over a deposit bootstrap. */
export function aucWithInterval(placements: ArrayLike<number>, options: { readonly seed?: number; readonly replicates?: number } = {}): { auc: number; ci95: [number, number] } {
  const n = placements.length;
  if (n === 0) throw new EmptyInputError('hold-out', 'no held-out deposit could be scored (none inside the region, or all on nodata)', 'Choose a region that holds deposits');
  const replicates = options.replicates ?? 1000;
  let s = 0;
  for (let i = 0; i < n; i++) s += placements[i];
  const rng = new Rng(options.seed ?? 1);
  const reps = new Float64Array(replicates);
  for (let r = 0; r < replicates; r++) {
    let t = 0;
    for (let j = 0; j < n; j++) t += placements[rng.int(n)];
    reps[r] = t / n;
  }
  reps.sort();
  return { auc: s / n, ci95: [quantileSorted(reps, 0.025), quantileSorted(reps, 0.975)] };
}

function concat(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The per-model record of metrics.json's "holdout" (regions pooled: every deposit scored by the model that did not see its region). */
export interface HoldoutModelRecord {
  readonly auc: number | null;
  readonly ci95: [number, number] | null;
  readonly aucInRegion: number | null;
  readonly ci95InRegion: [number, number] | null;
  readonly deposits: number;
  readonly regions: { readonly region: string; readonly deposits: number; readonly heldOutSites: number; readonly trainingSamples: number; readonly auc: number | null; readonly aucInRegion: number | null }[];
}

export function holdoutRecord(scores: readonly HeldOutScore[], seed: number): HoldoutModelRecord {
  const all = concat(scores.map((s) => s.placements));
  const inRegion = concat(scores.map((s) => s.placementsInRegion));
  const mean = (p: Float64Array): number | null => (p.length > 0 ? p.reduce((a, b) => a + b, 0) / p.length : null);
  const whole = all.length > 0 ? aucWithInterval(all, { seed }) : null;
  const local = inRegion.length > 0 ? aucWithInterval(inRegion, { seed }) : null;
  return {
    auc: whole?.auc ?? null,
    ci95: whole?.ci95 ?? null,
    aucInRegion: local?.auc ?? null,
    ci95InRegion: local?.ci95 ?? null,
    deposits: all.length,
    regions: scores.map((s) => ({ region: s.region, deposits: s.deposits, heldOutSites: s.heldOutSites, trainingSamples: s.trainingSamples, auc: mean(s.placements), aucInRegion: mean(s.placementsInRegion) })),
  };
}

/** metrics.json's "holdout": the spec, per model the pooled map AUC (+ ci95), per region, and the grouped CV AUC beside it. */
export interface HoldoutMetrics {
  readonly method: string;
  readonly rules: string;
  readonly models: Record<string, HoldoutModelRecord & { readonly cvAuc: number | null }>;
}
