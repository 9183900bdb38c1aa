import { existsSync, statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { InvalidOptionError, InvalidFileError } from '../../errors.ts';
import { parseCrs } from '../../grid/crs.ts';
import { readGeoTiffInfo, readStack } from '../../io/geotiff-read.ts';
import type { RasterStack } from '../../grid/raster.ts';
import { rasterDisplayName, type RasterNaming } from '../../util/display-names.ts';
import type { RasterLayerSpec, VectorLayerSpec, VectorStyle } from '../contract.ts';
import { NotAvailableError, checkRaster, checkTable, checkVector, crsInfo, type HandlerOptions, type HandlersOf } from './common.ts';

/** Layers: importing rasters, vectors and sample tables, and reading what the map draws. */

const ROLE_STYLES: Record<VectorLayerSpec['role'], VectorStyle> = {
  samples: { stroke: '#1f2937', fill: '#f59e0b', pointRadiusPx: 3, strokeWidthPx: 1 },
  faults: { stroke: '#dc2626', fill: 'rgba(220,38,38,0.2)', pointRadiusPx: 3, strokeWidthPx: 2 },
  deposits: { stroke: '#111827', fill: '#facc15', pointRadiusPx: 6, strokeWidthPx: 1.5 },
  sites: { stroke: '#065f46', fill: '#34d399', pointRadiusPx: 5, strokeWidthPx: 1.5 },
  other: { stroke: '#1d4ed8', fill: 'rgba(29,78,216,0.25)', pointRadiusPx: 4, strokeWidthPx: 1.5 },
};

function guessRole(path: string): VectorLayerSpec['role'] {
  const n = basename(path).toLowerCase();
  if (/fault|lineament/.test(n)) return 'faults';
  if (/deposit|occurrence|mine/.test(n)) return 'deposits';
  if (/site|label|train/.test(n)) return 'sites';
  if (/sample|geochem|survey/.test(n)) return 'samples';
  return 'other';
}

let layerSeq = 0;
function layerId(name: string): string {
  layerSeq += 1;
  return `${name.replace(/[^A-Za-z0-9_-]+/g, '_')}-${Date.now().toString(36)}-${layerSeq}`;
}

/** What the layer requests and the demo project (main/api/handlers/project.ts) build layers from. */
export interface LayerSources {
  /** The stack at `source`, from a small cache of recently used stacks (keyed by path and mtime). */
  readonly getStack: (source: string) => Promise<RasterStack>;
  readonly rasterLayer: (path: string) => Promise<RasterLayerSpec>;
  readonly vectorLayer: (path: string, role?: VectorLayerSpec['role']) => Promise<VectorLayerSpec>;
}

export function createLayerSources(): LayerSources {
  // A few recently used stacks stay in memory: switching bands must not re-read the file.
  const stackCache = new Map<string, { mtimeMs: number; stack: Promise<RasterStack> }>();
  const getStack = async (source: string): Promise<RasterStack> => {
    const path = resolve(source);
    await checkRaster(path);
    const mtimeMs = existsSync(path) ? statSync(path).mtimeMs : -1;
    const hit = stackCache.get(path);
    if (hit && hit.mtimeMs === mtimeMs) return hit.stack;
    const stack = readStack(path);
    stack.catch(() => stackCache.delete(path));
    stackCache.set(path, { mtimeMs, stack });
    while (stackCache.size > 4) stackCache.delete(stackCache.keys().next().value as string);
    return stack;
  };

  const rasterLayer = async (path: string): Promise<RasterLayerSpec> => {
    let bandNames: string[];
    let naming: Pick<RasterNaming, 'units' | 'metadata'> = {};
    if ((await checkRaster(path)).isDirectory) {
      bandNames = (await getStack(path)).bandNames;
    } else {
      const info = await readGeoTiffInfo(path);
      bandNames = info.bandNames;
      // The band units and krige's metadata: a kriged stack imported by hand is named
      // "Kriged Au, Cu (ppb, ppm)" as when the krige job adds it (issue 18).
      naming = { units: info.bandUnits, metadata: info.metadata };
    }
    const name = basename(path, extname(path));
    // Only where it says more than the file name (a plain file keeps its name; callers may rename).
    const readable = rasterDisplayName({ path, bandNames, ...naming });
    return {
      kind: 'raster',
      id: layerId(name),
      name,
      ...(readable !== name ? { displayName: readable } : {}),
      source: path,
      visible: true,
      opacity: 1,
      bandNames,
      band: bandNames[0],
      style: { ramp: 'viridis', stretch: 'percentile', percentiles: [2, 98] },
    };
  };

  const vectorLayer = async (path: string, role?: VectorLayerSpec['role']): Promise<VectorLayerSpec> => {
    const { readVector } = await import('../../io/vector.ts');
    await checkVector(path);
    await readVector(path);
    const r = role ?? guessRole(path);
    const name = basename(path, extname(path));
    return { kind: 'vector', id: layerId(name), name, source: path, visible: true, opacity: 1, role: r, style: ROLE_STYLES[r] };
  };

  return { getStack, rasterLayer, vectorLayer };
}

export function createLayerHandlers(options: HandlerOptions, sources: LayerSources): HandlersOf<'previewTable' | 'importLayer' | 'getRasterBand' | 'getVectorData' | 'pickPaths'> {
  const { getStack, rasterLayer, vectorLayer } = sources;
  return {
    async previewTable(p) {
      const { readTableCells } = await import('../../io/table.ts');
      await checkTable(p.path);
      const { header, rows } = await readTableCells(p.path);
      const find = (re: RegExp): string | null => header.find((h) => re.test(h)) ?? null;
      return {
        path: p.path,
        columns: header,
        rows: rows.slice(0, 5).map((r) => (r as unknown[]).map((c) => String(c ?? ''))),
        guessX: find(/^(x|east(ing)?|utm_?e|lon(gitude)?)$/i),
        guessY: find(/^(y|north(ing)?|utm_?n|lat(itude)?)$/i),
      };
    },
    async importLayer(p) {
      if (!existsSync(p.path)) throw new InvalidFileError(p.path, 'file not found', 'Check the path');
      if (p.kind === 'raster') return rasterLayer(p.path);
      if (p.kind === 'vector') return vectorLayer(p.path, p.role);
      const { readSampleTable } = await import('../../io/table.ts');
      await checkTable(p.path);
      const table = await readSampleTable(p.path, { x: p.table.x, y: p.table.y, crs: parseCrs(p.table.crs) });
      const name = basename(p.path, extname(p.path));
      const layer: VectorLayerSpec = {
        kind: 'vector',
        id: layerId(name),
        name: `${name} (${table.rowCount} samples)`,
        source: p.path,
        visible: true,
        opacity: 1,
        role: 'samples',
        style: ROLE_STYLES.samples,
        table: p.table,
      };
      return layer;
    },
    async getRasterBand(p) {
      const stack = await getStack(p.source);
      const i = stack.bandNames.indexOf(p.band);
      if (i < 0) throw new InvalidOptionError(`${p.source} has no band "${p.band}" (bands: ${stack.bandNames.join(', ')})`, { source: p.source, band: p.band });
      const g = stack.grid;
      return {
        source: p.source,
        band: p.band,
        grid: { originX: g.originX, originY: g.originY, cellSizeX: g.cellSizeX, cellSizeY: g.cellSizeY, rows: g.rows, cols: g.cols, crs: crsInfo(g.crs) },
        values: stack.bands[i],
        unit: stack.units?.[i] ?? null,
      };
    },
    async getVectorData(p) {
      const targetCrs = p.targetCrs ? parseCrs(p.targetCrs) : undefined;
      if (p.table) {
        const { readSampleTable } = await import('../../io/table.ts');
        await checkTable(p.source);
        const t = await readSampleTable(p.source, { x: p.table.x, y: p.table.y, crs: parseCrs(p.table.crs), targetCrs });
        const features = Array.from({ length: t.rowCount }, (_, i) => ({
          type: 'Feature' as const,
          geometry: { type: 'Point' as const, coordinates: [t.x[i], t.y[i]] },
          properties: Object.fromEntries([
            ...Object.entries(t.attributes).map(([k, v]) => [k, v[i]]),
            ...t.columns.map((c) => [c, Number.isFinite(t.values[c][i]) ? t.values[c][i] : null]),
          ]),
        }));
        return { source: p.source, crs: crsInfo(t.crs), geojson: { type: 'FeatureCollection', features } };
      }
      const { readVector } = await import('../../io/vector.ts');
      await checkVector(p.source);
      let reprojected: string | null = null;
      const v = await readVector(p.source, { targetCrs, log: (m) => (reprojected = m) });
      return { source: p.source, crs: crsInfo(v.crs), geojson: { type: 'FeatureCollection', features: v.features }, reprojected };
    },
    async pickPaths(p) {
      if (!options.pickPaths) {
        throw new NotAvailableError('The browser host has no native file dialog: type the path of the file on the machine running "geoanomaly serve".', { host: options.host });
      }
      return options.pickPaths(p);
    },
  };
}
