// shpjs ships no type declarations; these cover the low-level parsers the vector reader uses.
declare module 'shpjs' {
  import type { FeatureCollection, Geometry } from 'geojson';
  export function parseShp(shp: ArrayBuffer | ArrayBufferView | DataView, prj?: string | false): Geometry[];
  export function parseDbf(dbf: ArrayBuffer | ArrayBufferView | DataView, cpg?: string): Record<string, unknown>[];
  export function combine(parts: [Geometry[], Record<string, unknown>[] | undefined]): FeatureCollection;
  export default function getShapefile(base: string | ArrayBuffer | ArrayBufferView): Promise<FeatureCollection | FeatureCollection[]>;
}
