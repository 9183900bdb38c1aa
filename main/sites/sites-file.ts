import { extname } from 'node:path';
import { InvalidOptionError } from '../errors.ts';
import { writeGeoPackage } from '../io/geopackage-write.ts';
import { writePointShapefile } from '../io/shapefile-write.ts';
import type { SiteSet } from './site-blocks.ts';
import { sitesToGeoJson, writeSitesGeoJson } from './sites-geojson.ts';

/**
 * A sites file in the format its extension names: GeoJSON (.geojson/.json, the sites format of
 * sites-geojson.ts), GeoPackage (.gpkg, one layer "sites") or ESRI Shapefile (.shp with .dbf,
 * .shx and .prj). All three hold the same points and attributes (label, siteId, groupId, source,
 * centre, row, col) in the grid's CRS, and every command that reads sites reads all three.
 */
export type SitesFileFormat = 'geojson' | 'geopackage' | 'shapefile';

/** The layer name a sites GeoPackage holds (what --sites-layer would name). */
export const SITES_GPKG_LAYER = 'sites';

export function sitesFileFormat(path: string, flag = '--out'): SitesFileFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.geojson' || ext === '.json') return 'geojson';
  if (ext === '.gpkg') return 'geopackage';
  if (ext === '.shp') return 'shapefile';
  throw new InvalidOptionError(
    `${path}: sites are written as GeoJSON (.geojson), GeoPackage (.gpkg) or ESRI Shapefile (.shp), not "${ext || 'no extension'}". Give ${flag} a path with one of those extensions.`,
    { path },
  );
}

/** Writes the sites atomically (each file of a shapefile) and returns the files written. */
export async function writeSitesFile(path: string, set: SiteSet): Promise<{ format: SitesFileFormat; files: string[] }> {
  const format = sitesFileFormat(path);
  if (format === 'geojson') {
    writeSitesGeoJson(path, set);
    return { format, files: [path] };
  }
  const fc = sitesToGeoJson(set);
  if (format === 'geopackage') {
    await writeGeoPackage(path, [{ name: SITES_GPKG_LAYER, features: fc.features, crs: set.grid.crs }]);
    return { format, files: [path] };
  }
  const written = await writePointShapefile(
    path,
    fc.features.map((f) => ({ x: f.geometry.coordinates[0], y: f.geometry.coordinates[1], properties: f.properties as Record<string, string | number | boolean> })),
    set.grid.crs,
  );
  return { format, files: [...written.files] };
}
