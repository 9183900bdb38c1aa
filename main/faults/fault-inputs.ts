import type { GridSpec } from '../grid/grid-spec.ts';
import { assertAligned } from '../grid/grid-spec.ts';
import { requireProjected, type Crs } from '../grid/crs.ts';
import { readGeoTiff } from '../io/geotiff-read.ts';
import { readVector } from '../io/vector.ts';
import type { CrsFix } from '../grid/reproject.ts';
import type { JobContext } from '../jobs/job.ts';
import { InvalidOptionError } from '../errors.ts';
import { bandOnGridByIndex, type IndexAlignment } from '../grid/index-alignment.ts';
import { isRasterPath } from '../grid/raster-path.ts';
import { assertFaultsInGrid, segmentsFromFeatures } from './fault-lines.ts';
import { NoFaultsInGridError } from './fault-errors.ts';
import { distanceFromFaultMask, distanceFromSegments } from './distance-to-faults.ts';

/**
 * Distance to faults on a reference grid from a file: fault polylines (GeoJSON / Shapefile,
 * reprojected into the grid's CRS; exact point-to-segment distances) or a fault raster
 * (non-zero finite cells are faults, or with `threshold` cells ≥ it, for continuous rasters such as
 * a fault-density or lineament-strength map; exact Euclidean distance transform). The grid must be
 * projected (metres). A fault raster on another grid needs `alignByIndex` (explicit pairing).
 */
export interface FaultFileOptions {
  readonly alignByIndex?: IndexAlignment;
  readonly assumeCrs?: Crs;
  /** The command's flag that sets assumeCrs, named in CRS errors (null: the command has none). @default { flag: '--crs' } */
  readonly crsFix?: CrsFix;
  /**
   * Keep only line features whose property equals the value (compared as text), e.g.
   * { key: 'favourable', value: 'true' } for ore-controlling faults. Vector input only.
   */
  readonly where?: { readonly key: string; readonly value: string };
  /** Layer of a multi-layer vector file (GeoPackage), and the flag quoted in errors. */
  readonly layer?: string;
  readonly layerFlag?: string;
  /**
   * Raster input only: cells with a value ≥ this are faults (a continuous raster would otherwise
   * make every non-zero cell a fault). @default undefined (every non-zero finite cell)
   */
  readonly threshold?: number;
}

/** Parses "KEY=VALUE" for FaultFileOptions.where. */
export function parseWhere(text: string): { key: string; value: string } {
  const i = text.indexOf('=');
  if (i <= 0) throw new InvalidOptionError(`--fault-where expects KEY=VALUE (e.g. favourable=true), got "${text}"`);
  return { key: text.slice(0, i).trim(), value: text.slice(i + 1).trim() };
}

export interface FaultDistance {
  readonly distanceM: Float64Array;
  readonly kind: 'lines' | 'raster';
  /** Segments (lines) or fault cells (raster). */
  readonly elements: number;
  readonly elementsInGrid: number;
}

export async function faultDistanceFromFile(path: string, grid: GridSpec, options: FaultFileOptions = {}, ctx?: JobContext): Promise<FaultDistance> {
  requireProjected(grid.crs, 'the reference grid');
  if (isRasterPath(path)) {
    if (options.where) throw new InvalidOptionError(`${path}: a property filter (--fault-where) needs a vector fault layer, not a raster`);
    const r = await readGeoTiff(path);
    if (r.bands.length !== 1) throw new InvalidOptionError(`${path}: a fault raster needs one band, found ${r.bands.length}`);
    let band = r.bands[0];
    if (options.alignByIndex) band = bandOnGridByIndex(grid, r.grid, band, options.alignByIndex);
    else assertAligned(grid, r.grid, 'the reference grid', path);
    const mask = new Uint8Array(band.length);
    let count = 0;
    const t = options.threshold;
    if (t !== undefined && !Number.isFinite(t)) throw new InvalidOptionError(`--fault-threshold must be a finite number, got ${t}`);
    for (let i = 0; i < band.length; i++) {
      if (Number.isFinite(band[i]) && (t === undefined ? band[i] !== 0 : band[i] >= t)) {
        mask[i] = 1;
        count++;
      }
    }
    const distanceM = distanceFromFaultMask(grid, mask, ctx, path);
    return { distanceM, kind: 'raster', elements: count, elementsInGrid: count };
  }
  if (options.threshold !== undefined) throw new InvalidOptionError(`${path}: --fault-threshold applies to a fault raster, not to fault lines`);
  const layer = await readVector(path, { targetCrs: grid.crs, assumeCrs: options.assumeCrs, grid, log: ctx?.log, crsFix: options.crsFix, layer: options.layer, layerFlag: options.layerFlag });
  let features = layer.features;
  const where = options.where;
  if (where) {
    features = features.filter((f) => String(f.properties?.[where.key]) === where.value);
    if (features.length === 0) {
      throw new NoFaultsInGridError(
        `${path}: none of its ${layer.features.length} features has ${where.key} = ${where.value}; check the property name and value`,
        { file: path, where, features: layer.features.length },
      );
    }
  }
  const segs = segmentsFromFeatures(features, path);
  const inside = assertFaultsInGrid(segs, grid, path);
  const distanceM = distanceFromSegments(grid, segs, {}, ctx);
  return { distanceM, kind: 'lines', elements: segs.ax.length, elementsInGrid: inside };
}
