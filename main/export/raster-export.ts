import { readStack } from '../io/geotiff-read.ts';
import { writeGeoTiff } from '../io/geotiff-write.ts';
import { InvalidOptionError } from '../errors.ts';
import { UnknownLayerError } from './export-errors.ts';

/**
 * A raster layer (a multiband GeoTIFF or a folder of single-band GeoTIFFs) to one GeoTIFF:
 * all bands or the chosen ones, in the chosen order, through the workbench's GeoTIFF writer
 * (band names as GDAL descriptions, nodata −9999, EPSG code; atomic).
 */
export interface RasterExportResult {
  readonly path: string;
  readonly bandNames: readonly string[];
  readonly rows: number;
  readonly cols: number;
}

export async function exportRaster(source: string, out: string, bands?: readonly string[]): Promise<RasterExportResult> {
  if (!/\.tiff?$/i.test(out)) throw new InvalidOptionError(`${out}: a GeoTIFF export path must end in .tif or .tiff`, { path: out });
  const stack = await readStack(source);
  const wanted = bands && bands.length > 0 ? [...bands] : [...stack.bandNames];
  const missing = wanted.filter((b) => !stack.bandNames.includes(b));
  if (missing.length > 0) {
    throw new UnknownLayerError(`${source} has no band(s) ${missing.map((b) => `"${b}"`).join(', ')} (bands: ${stack.bandNames.join(', ')})`, { source, missing });
  }
  const idx = wanted.map((b) => stack.bandNames.indexOf(b));
  writeGeoTiff(out, { grid: stack.grid, bandNames: wanted, bands: idx.map((i) => stack.bands[i]) });
  return { path: out, bandNames: wanted, rows: stack.grid.rows, cols: stack.grid.cols };
}
