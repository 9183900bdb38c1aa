import type { LayerSpec, ProjectDocument, VectorData, WorkbenchApi } from '../../../../main/api/contract.ts';
import { computeStretch } from '../color-ramp.ts';
import type { LoadedRaster } from '../map/workbench-map.ts';
import { errorText, type StatusStore } from './status.svelte.ts';

/**
 * The loaded data of the project's layers (band values, GeoJSON in the project CRS) and each
 * layer's load error. The maps replace, never mutate, so `$state.raw` change tracking holds.
 */
export class LayerDataStore {
  rasters = $state.raw<ReadonlyMap<string, LoadedRaster>>(new Map());
  vectors = $state.raw<ReadonlyMap<string, VectorData>>(new Map());
  layerErrors = $state.raw<Readonly<Record<string, string>>>({});

  constructor(
    private readonly api: WorkbenchApi,
    private readonly status: StatusStore,
  ) {}

  clear(): void {
    this.rasters = new Map();
    this.vectors = new Map();
    this.layerErrors = {};
  }

  /** Fetches a layer's data from the backend; a failure is kept as the layer's error, not thrown. */
  async load(spec: LayerSpec, doc: ProjectDocument | null): Promise<void> {
    await this.status.busy(async () => {
      try {
        if (spec.kind === 'raster') {
          const band = await this.api.request('getRasterBand', { source: spec.source, band: spec.band });
          const stretch = computeStretch(band.values, spec.style);
          this.rasters = new Map(this.rasters).set(spec.id, { band, stretch });
        } else {
          const crs = doc?.crs;
          const targetCrs = crs ? (crs.epsg !== null ? `EPSG:${crs.epsg}` : crs.proj4) : undefined;
          const data = await this.api.request('getVectorData', { source: spec.source, table: spec.table, targetCrs });
          this.vectors = new Map(this.vectors).set(spec.id, data);
          if (data.reprojected) this.status.addLog('info', data.reprojected);
        }
        const { [spec.id]: _gone, ...rest } = this.layerErrors;
        this.layerErrors = rest;
      } catch (e) {
        this.layerErrors = { ...this.layerErrors, [spec.id]: errorText(e) };
      }
    });
  }
}

/** Whether a layer edit changes the data drawn (source, band or stretch), so it must be fetched again. */
export function needsReload(before: LayerSpec | undefined, after: LayerSpec): boolean {
  if (!before) return true;
  if (before.source !== after.source) return true;
  if (before.kind === 'raster' && after.kind === 'raster') {
    return before.band !== after.band || before.style.stretch !== after.style.stretch || before.style.percentiles.join() !== after.style.percentiles.join();
  }
  return false;
}
