import { extname } from 'node:path';

/** Whether an input path names a raster (GeoTIFF) rather than a vector layer: faults/ and sites/ accept either. */
export function isRasterPath(path: string): boolean {
  return /^\.tiff?$/i.test(extname(path));
}
