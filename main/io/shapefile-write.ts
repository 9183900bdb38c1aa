import { write as shpWrite } from '@mapbox/shp-write';
import type { Crs } from '../grid/crs.ts';
import { InvalidOptionError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { crsToPrjWkt } from '../grid/crs-wkt.ts';

/**
 * ESRI Shapefile writer for point layers (training sites): .shp/.shx/.dbf from
 * @mapbox/shp-write (geometry records and the dBase table), .prj from grid/crs-wkt.ts (shp-write's
 * own .prj always says WGS 84, which would misplace projected coordinates). Each of the four
 * files is written atomically; the .prj is checked before anything is written, so an
 * unsupported CRS leaves no partial set behind.
 */
export interface PointRecord {
  readonly x: number;
  readonly y: number;
  /** Attribute values: strings, numbers, booleans (dBase C, N, L fields). Names ≤ 10 characters. */
  readonly properties: Readonly<Record<string, string | number | boolean | null>>;
}

export interface ShapefileWritten {
  readonly files: readonly string[];
  readonly records: number;
}

function viewBytes(v: DataView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

export function writePointShapefile(shpPath: string, points: readonly PointRecord[], crs: Crs | null): Promise<ShapefileWritten> {
  if (!/\.shp$/i.test(shpPath)) throw new InvalidOptionError(`${shpPath}: a shapefile path must end in .shp`, { path: shpPath });
  if (points.length === 0) throw new InvalidOptionError(`${shpPath}: no points to write; a shapefile needs at least one record`, { path: shpPath });
  const long = [...new Set(points.flatMap((p) => Object.keys(p.properties)))].filter((k) => k.length > 10);
  if (long.length > 0) throw new InvalidOptionError(`${shpPath}: dBase field names hold at most 10 characters (${long.join(', ')})`, { fields: long });
  const prj = crs ? crsToPrjWkt(crs) : null;
  const base = shpPath.slice(0, -4);
  return new Promise((resolve, reject) => {
    shpWrite(
      points.map((p) => ({ ...p.properties })),
      'POINT',
      points.map((p) => [p.x, p.y]),
      (err, data) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        try {
          const files = [`${base}.shp`, `${base}.shx`, `${base}.dbf`];
          writeFileAtomic(files[0], viewBytes(data.shp as DataView));
          writeFileAtomic(files[1], viewBytes(data.shx as DataView));
          writeFileAtomic(files[2], viewBytes(data.dbf as DataView));
          if (prj) {
            writeFileAtomic(`${base}.prj`, prj);
            files.push(`${base}.prj`);
          }
          resolve({ files, records: points.length });
        } catch (e) {
          reject(e as Error);
        }
      },
    );
  });
}
