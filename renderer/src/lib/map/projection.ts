import proj4 from 'proj4';
import { register } from 'ol/proj/proj4.js';
import { get as getProjection, type ProjectionLike } from 'ol/proj.js';
import type { CrsInfo } from '../../../../main/api/contract.ts';

/**
 * Registers a CRS with OpenLayers through proj4 and returns the code OpenLayers knows it by
 * (EPSG:N when there is a code, else a stable name derived from the definition). Projections
 * OpenLayers ships (EPSG:3857, EPSG:4326) need no definition.
 */
export function registerCrs(crs: CrsInfo): string {
  const code = crs.epsg !== null ? `EPSG:${crs.epsg}` : `CUSTOM:${hashString(crs.proj4)}`;
  if (getProjection(code)) return code;
  if (!crs.proj4) throw new Error(`${crs.name} has no proj4 definition, so it cannot be shown on the map; declare the CRS as a proj4 string`);
  proj4.defs(code, crs.proj4);
  register(proj4);
  return code;
}

export function projectionOf(crs: CrsInfo | null): ProjectionLike {
  return crs ? registerCrs(crs) : 'EPSG:3857';
}

function hashString(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h.toString(16);
}
