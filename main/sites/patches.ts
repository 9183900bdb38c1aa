/**
 * Patch extraction: the tensor-ready training set every model consumes.
 *
 *   extractPatches(stack, sites, options) → PatchDataset
 *
 * Inputs
 *  - stack: RasterStack of element bands (raw values; the transform is applied here).
 *  - sites: SiteSet on the stack's grid (GridMismatchError otherwise), e.g. from buildSites()
 *    or readSitesGeoJson().
 *  - options (all optional):
 *      size       odd window side k, default 9 (the paper's 9 × 9 patches)
 *      transform  'none' | 'log10' | 'standardize' | 'log10-standardize' (default) | 'clr' | 'clr-standardize'
 *                 (see band-transform.ts; standardisation uses whole-grid statistics)
 *      floor      floor before logs: 'half-min-positive' (default, per band) or a number
 *      stats      TransformStats to reuse instead of fitting them on this stack
 *      knowledge  geological-knowledge rasters (RasterStack with one band, or Float32Array on
 *                 the grid), e.g. the fault weight map; w is read at each sample's OWN centre cell
 *      knowledgeNames  names for Float32Array knowledge layers (default w1, w2, …)
 *      nodata     'error' (default): a patch touching NaN throws; 'fill-mean': NaN becomes the
 *                 band's whole-grid mean (0 after standardisation) and is counted in `filled`
 *      shiftRadius  r ≥ 1: also cut the 'shift' augmentation windows (the paper's sliding window,
 *                 widened): every cell within r cells (Chebyshev) of a site's block that is not
 *                 itself a sample cell of any site becomes an extra window centre, labelled as
 *                 that site and parented to the nearest sample of the block. Windows touching
 *                 nodata are skipped with 'error', filled with 'fill-mean'. Default 0 (none).
 *
 * Output (PatchDataset)
 *  - x: Float32Array of shape [n, k, k, C], NHWC (TensorFlow.js's default layout): element
 *    x[((i·k + py)·k + px)·C + b] is band b at grid cell (row_i − h + py, col_i − h + px), h = (k−1)/2
 *  - shape [n, k, k, C]; labels: Int32Array (1 deposit / 0 negative); siteIds, groupIds: string[]
 *  - weights: Float32Array [n × nKnowledge], row-major: weights[i·nKnowledge + j] is knowledge
 *    layer j at sample i's centre cell
 *  - clipped: boolean[] — true when the window left the grid and was padded by reflection
 *    (numpy 'reflect' / PyTorch ReflectionPad: the edge cell is the mirror, not repeated)
 *  - rows, cols: Int32Array centre cell of each sample; bandNames; knowledgeNames
 *  - stats: the TransformStats used (to transform the prediction grid identically)
 *  - filled: Int32Array, NaN cells replaced per sample (all 0 with nodata 'error')
 *  - shift: with shiftRadius, { x [m, k, k, C], parent (sample index), weights [m × nKnowledge],
 *    rows, cols }; null otherwise. Never part of the samples: training uses them only for fit
 *    sets that hold the parent (main/models/augment.ts), so they cannot leak across folds.
 *
 * The case study's reference code reads w for sample i at map cell (4 + i // W, 4 + i % W),
 * i.e. as if the samples were all cells of the map in raster order; here w comes from the
 * sample's own cell (tested on a grid where the two differ).
 */
import type { RasterStack } from '../grid/raster.ts';
import { InvalidOptionError, EmptyInputError } from '../errors.ts';
import { assertSitesOnGrid, type SiteSet } from './site-blocks.ts';
import { applyTransform, transformStack, type BandTransform, type TransformStats } from './band-transform.ts';

export interface PatchOptions {
  /** @default 9 */
  readonly size?: number;
  /** @default 'log10-standardize' */
  readonly transform?: BandTransform;
  /** @default 'half-min-positive' */
  readonly floor?: 'half-min-positive' | number;
  readonly stats?: TransformStats;
  readonly knowledge?: readonly (RasterStack | Float32Array)[];
  readonly knowledgeNames?: readonly string[];
  /** 'skip': samples whose window touches nodata are left out (listed in `skipped`). @default 'error' */
  readonly nodata?: 'error' | 'fill-mean' | 'skip';
  /** Cells around each site block cut as 'shift' augmentation windows. @default 0 */
  readonly shiftRadius?: number;
}

export interface ShiftWindows {
  readonly x: Float32Array;
  readonly parent: Int32Array;
  readonly weights: Float32Array;
  readonly rows: Int32Array;
  readonly cols: Int32Array;
}

export interface PatchDataset {
  readonly x: Float32Array;
  readonly shape: [number, number, number, number];
  readonly size: number;
  readonly labels: Int32Array;
  readonly siteIds: string[];
  readonly groupIds: string[];
  readonly weights: Float32Array;
  readonly nKnowledge: number;
  readonly knowledgeNames: string[];
  readonly clipped: boolean[];
  readonly rows: Int32Array;
  readonly cols: Int32Array;
  readonly bandNames: string[];
  readonly stats: TransformStats;
  readonly filled: Int32Array;
  readonly shift: ShiftWindows | null;
  /** nodata 'skip': "siteId (row r, col c)" of every sample left out; empty otherwise. */
  readonly skipped: string[];
}

/** numpy 'reflect' index: …, 2, 1 | 0, 1, …, n−1 | n−2, n−3, … (period 2n − 2). */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n - 2;
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

export function extractPatches(stack: RasterStack, sites: SiteSet, options: PatchOptions = {}): PatchDataset {
  const k = options.size ?? 9;
  if (!(Number.isInteger(k) && k >= 1 && k % 2 === 1)) throw new InvalidOptionError(`patch size must be an odd integer ≥ 1, got ${k}`);
  const nodata = options.nodata ?? 'error';
  if (nodata !== 'error' && nodata !== 'fill-mean' && nodata !== 'skip') throw new InvalidOptionError(`nodata must be "error", "fill-mean" or "skip", got "${String(nodata)}"`);
  const grid = stack.grid;
  assertSitesOnGrid(sites, grid, stack.source ?? 'the stack');
  const list = sites.sites;
  if (list.length === 0) throw new EmptyInputError('sites', 'there is no site to cut patches for', 'Create or load training sites first');
  const { rows, cols } = grid;
  const ncell = rows * cols;

  let bands: Float32Array[];
  let stats: TransformStats;
  if (options.stats) {
    stats = options.stats;
    bands = applyTransform(stack, stats);
  } else {
    ({ bands, stats } = transformStack(stack, { transform: options.transform, floor: options.floor }));
  }

  const know = options.knowledge ?? [];
  const knowBands = know.map((kl, j) => {
    const b = kl instanceof Float32Array ? kl : kl.bands[0];
    if (!(kl instanceof Float32Array)) {
      if (kl.bands.length !== 1) throw new InvalidOptionError(`knowledge layer ${kl.source ?? j + 1} must have one band, has ${kl.bands.length}`);
      assertSitesOnGrid({ grid: kl.grid, sites: [] }, grid, kl.source ?? `knowledge layer ${j + 1}`);
    }
    if (b.length !== ncell) throw new InvalidOptionError(`knowledge layer ${j + 1} has ${b.length} cells; the ${rows}×${cols} grid needs ${ncell}`);
    return b;
  });
  const knowledgeNames = know.map((kl, j) => options.knowledgeNames?.[j] ?? (kl instanceof Float32Array ? `w${j + 1}` : (kl.bandNames[0] ?? `w${j + 1}`)));

  // Fill value per band for 'fill-mean': the whole-grid mean of the transformed band.
  const fill = bands.map((b) => {
    let s = 0;
    let n = 0;
    for (let i = 0; i < b.length; i++) if (!Number.isNaN(b[i])) {
      s += b[i];
      n++;
    }
    return n > 0 ? s / n : 0;
  });

  const n = list.length;
  const C = bands.length;
  const h = (k - 1) / 2;
  const x = new Float32Array(n * k * k * C);
  const labels = new Int32Array(n);
  const rowsOut = new Int32Array(n);
  const colsOut = new Int32Array(n);
  const weights = new Float32Array(n * knowBands.length);
  const clipped: boolean[] = [];
  const filled = new Int32Array(n);
  const nanSites: string[] = [];
  /** Cuts the window centred on (row, col) into out[i]; returns whether it was clipped and its NaN count. */
  const cut = (out: Float32Array, i: number, row: number, col: number): { clip: boolean; nanCount: number } => {
    let clip = false;
    let nanCount = 0;
    for (let py = 0; py < k; py++) {
      const rr = row - h + py;
      const r = rr < 0 || rr >= rows ? ((clip = true), reflectIndex(rr, rows)) : rr;
      for (let px = 0; px < k; px++) {
        const cc = col - h + px;
        const c = cc < 0 || cc >= cols ? ((clip = true), reflectIndex(cc, cols)) : cc;
        const cell = r * cols + c;
        const base = ((i * k + py) * k + px) * C;
        for (let b = 0; b < C; b++) {
          const v = bands[b][cell];
          if (Number.isNaN(v)) {
            nanCount++;
            out[base + b] = fill[b];
          } else out[base + b] = v;
        }
      }
    }
    return { clip, nanCount };
  };
  list.forEach((s, i) => {
    labels[i] = s.label;
    rowsOut[i] = s.row;
    colsOut[i] = s.col;
    const { clip, nanCount } = cut(x, i, s.row, s.col);
    clipped.push(clip);
    filled[i] = nanCount;
    if (nanCount > 0 && nodata === 'error') nanSites.push(`${s.siteId} (row ${s.row}, col ${s.col}): ${nanCount}`);
    knowBands.forEach((kb, j) => {
      const w = kb[s.row * cols + s.col];
      if (!Number.isFinite(w)) {
        throw new InvalidOptionError(
          `knowledge layer "${knowledgeNames[j]}" has no value (NaN) at site ${s.siteId} (row ${s.row}, col ${s.col}); every site needs a weight`,
          { site: s.siteId, row: s.row, col: s.col, layer: knowledgeNames[j] },
        );
      }
      weights[i * knowBands.length + j] = w;
    });
  });
  if (nanSites.length > 0) {
    throw new EmptyInputError(
      stack.source ?? 'stack',
      `${nanSites.length} patch(es) contain nodata values (band-cells per site: ${nanSites.slice(0, 5).join('; ')})`,
      'Move those sites, fill the gaps (kriging), or train with --nodata fill-mean (fill them with the band mean) or --nodata skip (drop those sites)',
      { sites: nanSites.length },
    );
  }
  const shiftRadius = options.shiftRadius ?? 0;
  if (!(Number.isInteger(shiftRadius) && shiftRadius >= 0)) throw new InvalidOptionError(`shift radius must be an integer ≥ 0, got ${shiftRadius}`);
  let shift: ShiftWindows | null = null;
  if (shiftRadius > 0) {
    // Centres: cells near a block, off every site's own cells (those are samples already), each
    // taken once (the first site in order that reaches it, so two nearby sites do not both claim it).
    const taken = new Uint8Array(ncell);
    list.forEach((s) => (taken[s.row * cols + s.col] = 1));
    const bySite = new Map<string, number[]>();
    list.forEach((s, i) => {
      let g = bySite.get(s.siteId);
      if (!g) bySite.set(s.siteId, (g = []));
      g.push(i);
    });
    const centres: { row: number; col: number; parent: number }[] = [];
    for (const members of bySite.values()) {
      for (const i of members) {
        for (let dy = -shiftRadius; dy <= shiftRadius; dy++) {
          for (let dx = -shiftRadius; dx <= shiftRadius; dx++) {
            const r = list[i].row + dy;
            const c = list[i].col + dx;
            if (r < 0 || r >= rows || c < 0 || c >= cols || taken[r * cols + c]) continue;
            taken[r * cols + c] = 1;
            // Parent: the block's sample nearest to the centre (ties: the first in order).
            let parent = members[0];
            let bestD = Infinity;
            for (const j of members) {
              const d = Math.max(Math.abs(list[j].row - r), Math.abs(list[j].col - c));
              if (d < bestD) [bestD, parent] = [d, j];
            }
            centres.push({ row: r, col: c, parent });
          }
        }
      }
    }
    const per = k * k * C;
    const buf = new Float32Array(centres.length * per);
    const kept: { row: number; col: number; parent: number }[] = [];
    for (const ctr of centres) {
      const j = kept.length;
      const { nanCount } = cut(buf, j, ctr.row, ctr.col);
      const wOk = knowBands.every((kb) => Number.isFinite(kb[ctr.row * cols + ctr.col]));
      if ((nanCount > 0 && nodata !== 'fill-mean') || !wOk) continue;
      kept.push(ctr);
    }
    const nK = knowBands.length;
    shift = {
      x: buf.slice(0, kept.length * per),
      parent: Int32Array.from(kept, (c) => c.parent),
      weights: Float32Array.from({ length: kept.length * nK }, (_, e) => knowBands[e % nK][kept[Math.floor(e / nK)].row * cols + kept[Math.floor(e / nK)].col]),
      rows: Int32Array.from(kept, (c) => c.row),
      cols: Int32Array.from(kept, (c) => c.col),
    };
  }
  const all: PatchDataset = {
    shift,
    skipped: [],
    x,
    shape: [n, k, k, C],
    size: k,
    labels,
    siteIds: list.map((s) => s.siteId),
    groupIds: list.map((s) => s.groupId),
    weights,
    nKnowledge: knowBands.length,
    knowledgeNames,
    clipped,
    rows: rowsOut,
    cols: colsOut,
    bandNames: [...stack.bandNames],
    stats,
    filled,
  };
  if (nodata !== 'skip') return all;
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (filled[i] === 0) keep.push(i);
  if (keep.length === 0) {
    throw new EmptyInputError(stack.source ?? 'stack', `every one of the ${n} patches touches nodata, so --nodata skip leaves nothing`, 'Use --nodata fill-mean or fill the gaps (kriging)');
  }
  return selectSamples(all, keep);
}

/** The samples `keep` (ascending indices) of a patch set; shift windows of dropped parents go too. */
export function selectSamples(p: PatchDataset, keep: readonly number[]): PatchDataset {
  const [, k, , C] = p.shape;
  const per = k * k * C;
  const nK = p.nKnowledge;
  const newIndex = new Int32Array(p.labels.length).fill(-1);
  keep.forEach((i, j) => (newIndex[i] = j));
  const x = new Float32Array(keep.length * per);
  const weights = new Float32Array(keep.length * nK);
  keep.forEach((i, j) => {
    x.set(p.x.subarray(i * per, (i + 1) * per), j * per);
    weights.set(p.weights.subarray(i * nK, (i + 1) * nK), j * nK);
  });
  let shift = p.shift;
  if (shift) {
    const e = Array.from(shift.parent.keys()).filter((w) => newIndex[shift!.parent[w]] >= 0);
    const s = shift;
    shift = {
      x: Float32Array.from({ length: e.length * per }, (_, v) => s.x[e[Math.floor(v / per)] * per + (v % per)]),
      parent: Int32Array.from(e, (w) => newIndex[s.parent[w]]),
      weights: Float32Array.from({ length: e.length * nK }, (_, v) => s.weights[e[Math.floor(v / nK)] * nK + (v % nK)]),
      rows: Int32Array.from(e, (w) => s.rows[w]),
      cols: Int32Array.from(e, (w) => s.cols[w]),
    };
  }
  const kept = new Set(keep);
  const skipped = Array.from(p.labels.keys()).filter((i) => !kept.has(i)).map((i) => `${p.siteIds[i]} (row ${p.rows[i]}, col ${p.cols[i]})`);
  return {
    ...p,
    x,
    shape: [keep.length, k, k, C],
    labels: Int32Array.from(keep, (i) => p.labels[i]),
    siteIds: keep.map((i) => p.siteIds[i]),
    groupIds: keep.map((i) => p.groupIds[i]),
    weights,
    clipped: keep.map((i) => p.clipped[i]),
    rows: Int32Array.from(keep, (i) => p.rows[i]),
    cols: Int32Array.from(keep, (i) => p.cols[i]),
    filled: Int32Array.from(keep, (i) => p.filled[i]),
    shift,
    skipped: [...p.skipped, ...skipped],
  };
}
