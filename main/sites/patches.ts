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
  /** @default 'error' */
  readonly nodata?: 'error' | 'fill-mean';
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
  if (nodata !== 'error' && nodata !== 'fill-mean') throw new InvalidOptionError(`nodata must be "error" or "fill-mean", got "${String(nodata)}"`);
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
  list.forEach((s, i) => {
    labels[i] = s.label;
    rowsOut[i] = s.row;
    colsOut[i] = s.col;
    let clip = false;
    let nanCount = 0;
    for (let py = 0; py < k; py++) {
      const rr = s.row - h + py;
      const r = rr < 0 || rr >= rows ? ((clip = true), reflectIndex(rr, rows)) : rr;
      for (let px = 0; px < k; px++) {
        const cc = s.col - h + px;
        const c = cc < 0 || cc >= cols ? ((clip = true), reflectIndex(cc, cols)) : cc;
        const cell = r * cols + c;
        const base = ((i * k + py) * k + px) * C;
        for (let b = 0; b < C; b++) {
          const v = bands[b][cell];
          if (Number.isNaN(v)) {
            nanCount++;
            x[base + b] = fill[b];
          } else x[base + b] = v;
        }
      }
    }
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
  return {
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
}
