import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import type { FeatureCollection, Point } from 'geojson';
import { InvalidOptionError } from '../errors.ts';
import { readGeoTiffInfo, readStack } from '../io/geotiff-read.ts';
import { writeSiteCentres, type SiteCentre, type SitesWritten } from '../sites/site-centres.ts';
import { writePointShapefile } from '../io/shapefile-write.ts';
import { writeGeoPackage } from '../io/geopackage-write.ts';
import { SITES_GPKG_LAYER } from '../sites/sites-file.ts';

/**
 * Digitized sites to a file: GeoJSON (the sites format of main/sites/sites-geojson.ts, the one
 * `train` reads), a GeoPackage (layer "sites") or an ESRI Shapefile with the same points and
 * attributes (label, siteId, groupId, source, centre, row, col) and the grid's CRS. All go
 * through the same block expansion and conflict checks (writeSiteCentres), so the files hold
 * the same cells.
 */
export type SitesFormat = 'geojson' | 'shapefile' | 'geopackage';

export function sitesFormatOf(path: string): SitesFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.geojson' || ext === '.json') return 'geojson';
  if (ext === '.shp') return 'shapefile';
  if (ext === '.gpkg') return 'geopackage';
  throw new InvalidOptionError(`${path}: sites are exported as .geojson, .gpkg (GeoPackage) or .shp (ESRI Shapefile), not "${ext || 'no extension'}"`, { path });
}

export async function exportSites(path: string, gridSource: string, sites: readonly SiteCentre[], blockRadius = 1): Promise<SitesWritten & { format: SitesFormat; files: string[] }> {
  const format = sitesFormatOf(path);
  if (sites.length === 0) throw new InvalidOptionError('there are no sites to export; digitize or select sites first', {});
  if (format === 'geojson') {
    const w = await writeSiteCentres(path, gridSource, sites, blockRadius);
    return { ...w, format, files: [path] };
  }
  const tmp = mkdtempSync(join(tmpdir(), 'ga-sites-'));
  try {
    const w = await writeSiteCentres(join(tmp, 'sites.geojson'), gridSource, sites, blockRadius);
    const fc = JSON.parse(readFileSync(join(tmp, 'sites.geojson'), 'utf8')) as FeatureCollection<Point>;
    const grid = statSync(gridSource).isDirectory() ? (await readStack(gridSource)).grid : (await readGeoTiffInfo(gridSource)).grid;
    if (format === 'geopackage') {
      await writeGeoPackage(path, [{ name: SITES_GPKG_LAYER, features: fc.features, crs: grid.crs }]);
      return { ...w, path, format, files: [path] };
    }
    const written = await writePointShapefile(
      path,
      fc.features.map((f) => ({ x: f.geometry.coordinates[0], y: f.geometry.coordinates[1], properties: f.properties as Record<string, string | number | boolean> })),
      grid.crs,
    );
    return { ...w, path, format, files: [...written.files] };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
