import type { GridSpec } from '../grid/grid-spec.ts';
import { assertAligned } from '../grid/grid-spec.ts';
import { requireProjected, type Crs } from '../grid/crs.ts';
import { readGeoTiff } from '../io/geotiff-read.ts';
import { readVector } from '../io/vector.ts';
import type { JobContext } from '../jobs/job.ts';
import { InvalidOptionError } from '../errors.ts';
import { bandOnGridByIndex, type IndexAlignment } from '../sites/label-cells.ts';
import { isRasterPath } from '../sites/site-inputs.ts';
import { assertFaultsInGrid, segmentsFromFeatures } from './fault-lines.ts';
import { distanceFromFaultMask, distanceFromSegments } from './distance-to-faults.ts';

/**
 * Distance to faults on a reference grid from a file: fault polylines (GeoJSON / Shapefile,
 * reprojected into the grid's CRS; exact point-to-segment distances) or a fault raster
 * (non-zero finite cells are faults; exact Euclidean distance transform). The grid must be
 * projected (metres). A fault raster on another grid needs `alignByIndex` (explicit pairing).
 */
export interface FaultFileOptions {
  readonly alignByIndex?: IndexAlignment;
  readonly assumeCrs?: Crs;
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
    const r = await readGeoTiff(path);
    if (r.bands.length !== 1) throw new InvalidOptionError(`${path}: a fault raster needs one band, found ${r.bands.length}`);
    let band = r.bands[0];
    if (options.alignByIndex) band = bandOnGridByIndex(grid, r.grid, band, options.alignByIndex);
    else assertAligned(grid, r.grid, 'the reference grid', path);
    const mask = new Uint8Array(band.length);
    let count = 0;
    for (let i = 0; i < band.length; i++) {
      if (Number.isFinite(band[i]) && band[i] !== 0) {
        mask[i] = 1;
        count++;
      }
    }
    const distanceM = distanceFromFaultMask(grid, mask, ctx, path);
    return { distanceM, kind: 'raster', elements: count, elementsInGrid: count };
  }
  const layer = await readVector(path, { targetCrs: grid.crs, assumeCrs: options.assumeCrs });
  const segs = segmentsFromFeatures(layer.features, path);
  const inside = assertFaultsInGrid(segs, grid, path);
  const distanceM = distanceFromSegments(grid, segs, {}, ctx);
  return { distanceM, kind: 'lines', elements: segs.ax.length, elementsInGrid: inside };
}
