import { execFileSync } from 'node:child_process';

export interface GdalBand {
  band: number;
  description?: string;
  type: string;
  noDataValue?: number;
  minimum?: number;
  maximum?: number;
  mean?: number;
  stdDev?: number;
  metadata?: Record<string, Record<string, string>>;
}

export interface GdalInfo {
  size: [number, number];
  geoTransform: number[];
  coordinateSystem?: { wkt: string };
  stac?: { 'proj:epsg'?: number };
  bands: GdalBand[];
}

/** `gdalinfo -json -stats` (Debian gdal-bin): the independent reader every written GeoTIFF is checked with. */
export function gdalinfo(path: string): GdalInfo {
  const out = execFileSync('gdalinfo', ['-json', '-stats', '--config', 'GDAL_PAM_ENABLED', 'NO', path], { encoding: 'utf8' });
  return JSON.parse(out) as GdalInfo;
}

/** EPSG code GDAL reads from the file's CRS. */
export function gdalEpsg(info: GdalInfo): number | null {
  if (info.stac?.['proj:epsg']) return info.stac['proj:epsg'];
  const m = /ID\["EPSG",(\d+)\]\]\s*$/.exec(info.coordinateSystem?.wkt ?? '');
  return m ? Number(m[1]) : null;
}

/** Full-precision statistics (the band's STATISTICS_* metadata; the top-level fields are rounded). */
export function gdalStats(b: GdalBand): { min: number; max: number; mean: number; std: number; validPercent: number } {
  const md = b.metadata?.[''] ?? {};
  return {
    min: Number(md.STATISTICS_MINIMUM),
    max: Number(md.STATISTICS_MAXIMUM),
    mean: Number(md.STATISTICS_MEAN),
    std: Number(md.STATISTICS_STDDEV),
    validPercent: Number(md.STATISTICS_VALID_PERCENT),
  };
}
