import type { Crs } from '../grid/crs.ts';
import { crsFromEpsg, crsFromWkt } from '../grid/crs.ts';
import { CrsError } from '../errors.ts';

/**
 * The CRS a binary vector format declares (GeoPackage's gpkg_spatial_ref_sys, FlatGeobuf's
 * header): an EPSG code when the authority is EPSG, else its WKT. Returned in the same form as
 * the GeoJSON/Shapefile readers' (crsFromEpsg / crsFromWkt of main/grid/crs.ts), so the layer
 * reprojects like any other. An authority code the CRS table cannot resolve falls back to the
 * WKT; when neither resolves, the error names the file and the flag that overrides it.
 */
export function crsFromDeclaration(file: string, declared: { readonly epsg: number | null; readonly wkt: string | null }): Crs {
  let epsgProblem: string | null = null;
  if (declared.epsg !== null) {
    try {
      return crsFromEpsg(declared.epsg);
    } catch (e) {
      epsgProblem = (e as Error).message;
    }
  }
  const wkt = declared.wkt?.trim();
  if (wkt && wkt.toLowerCase() !== 'undefined') {
    try {
      return crsFromWkt(wkt);
    } catch (e) {
      epsgProblem = epsgProblem ?? (e as Error).message;
    }
  }
  throw new CrsError(
    `${file}: the layer declares ${declared.epsg !== null ? `EPSG:${declared.epsg}` : 'a CRS'} that cannot be resolved (${epsgProblem ?? 'no definition'}). ` +
      'Give the layer\'s CRS with --crs EPSG:NNNN or a proj4 string.',
    { file, epsg: declared.epsg },
  );
}
