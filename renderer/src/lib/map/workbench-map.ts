import OlMap from 'ol/Map.js';
import View from 'ol/View.js';
import ImageLayer from 'ol/layer/Image.js';
import VectorLayer from 'ol/layer/Vector.js';
import ImageStatic from 'ol/source/ImageStatic.js';
import VectorSource from 'ol/source/Vector.js';
import GeoJSON from 'ol/format/GeoJSON.js';
import ScaleLine from 'ol/control/ScaleLine.js';
import Zoom from 'ol/control/Zoom.js';
import { Style, Fill, Stroke, Circle } from 'ol/style.js';
import { transform } from 'ol/proj.js';
import { createEmpty, extend, intersects, isEmpty, type Extent } from 'ol/extent.js';
import type BaseLayer from 'ol/layer/Base.js';
import type { BandData, CrsInfo, LayerSpec, RasterLayerSpec, VectorData, VectorLayerSpec } from '../../../../main/api/contract.ts';
import { computeStretch, renderBand, type Stretch } from '../color-ramp.ts';
import { projectionOf, registerCrs } from './projection.ts';

/** A raster layer's loaded band and the stretch it is drawn with. */
export interface LoadedRaster {
  readonly band: BandData;
  readonly stretch: Stretch;
}

export interface ReadoutValue {
  readonly layerId: string;
  readonly layerName: string;
  readonly band: string;
  /** NaN outside the grid or on nodata. */
  readonly value: number;
  readonly unit: string | null;
}

interface Entry {
  readonly olLayer: BaseLayer;
  /** What the OL layer was built from; rebuilt when it changes. */
  readonly key: string;
}

export function extentOfGrid(b: BandData): Extent {
  const g = b.grid;
  return [g.originX, g.originY - g.rows * g.cellSizeY, g.originX + g.cols * g.cellSizeX, g.originY];
}

export function rasterImageUrl(b: BandData, stretch: Stretch, spec: RasterLayerSpec): string {
  const canvas = document.createElement('canvas');
  canvas.width = b.grid.cols;
  canvas.height = b.grid.rows;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser cannot create a 2D canvas');
  ctx.putImageData(new ImageData(renderBand(b.values, stretch, spec.style.ramp), b.grid.cols, b.grid.rows), 0, 0);
  return canvas.toDataURL('image/png');
}

function vectorStyle(spec: VectorLayerSpec): Style {
  const s = spec.style;
  const stroke = new Stroke({ color: s.stroke, width: s.strokeWidthPx });
  const fill = new Fill({ color: s.fill });
  return new Style({ stroke, fill, image: new Circle({ radius: s.pointRadiusPx, fill, stroke: new Stroke({ color: s.stroke, width: 1 }) }) });
}

/**
 * The one map of the workbench. Built in plain TypeScript (the MapView component only mounts
 * it): a view in the project CRS, raster layers drawn from Float32 bands through a colour ramp
 * into an ImageStatic source (nearest-neighbour, so cells stay crisp), vector layers from
 * GeoJSON already reprojected to the project CRS by the backend, a scale line.
 */
export class WorkbenchMap {
  readonly map: OlMap;
  private projection: string;
  private readonly entries = new Map<string, Entry>();
  private rasters = new Map<string, LoadedRaster>();
  private specs: readonly LayerSpec[] = [];

  constructor(target: HTMLElement, crs: CrsInfo | null) {
    this.projection = String(projectionOf(crs));
    this.map = new OlMap({
      target,
      controls: [new Zoom(), new ScaleLine({ units: 'metric' })],
      view: new View({ projection: this.projection, center: [0, 0], resolution: 1000 }),
    });
  }

  get projectionCode(): string {
    return this.projection;
  }

  /** Switches the view to another CRS (a different project); layers are rebuilt by sync(). */
  setCrs(crs: CrsInfo | null): void {
    const code = String(projectionOf(crs));
    if (code === this.projection) return;
    this.projection = code;
    this.map.setView(new View({ projection: code, center: [0, 0], resolution: 1000 }));
    for (const e of this.entries.values()) this.map.removeLayer(e.olLayer);
    this.entries.clear();
  }

  /** Brings the OL layers in line with the project's layer list (first = bottom). */
  sync(specs: readonly LayerSpec[], rasters: ReadonlyMap<string, LoadedRaster>, vectors: ReadonlyMap<string, VectorData>): void {
    this.specs = specs;
    this.rasters = new Map(rasters);
    const wanted = new Set(specs.map((s) => s.id));
    for (const [id, e] of this.entries) {
      if (!wanted.has(id)) {
        this.map.removeLayer(e.olLayer);
        this.entries.delete(id);
      }
    }
    specs.forEach((spec, i) => {
      let key: string;
      let build: (() => BaseLayer) | null = null;
      if (spec.kind === 'raster') {
        const r = rasters.get(spec.id);
        if (!r) return;
        key = `${spec.band}|${spec.style.ramp}|${r.stretch.min}|${r.stretch.max}|${r.stretch.log}|${r.band.source}`;
        build = () => {
          const proj = r.band.grid.crs ? registerCrs(r.band.grid.crs) : this.projection;
          return new ImageLayer({
            source: new ImageStatic({ url: rasterImageUrl(r.band, r.stretch, spec), imageExtent: extentOfGrid(r.band), projection: proj, interpolate: false }),
          });
        };
      } else {
        const v = vectors.get(spec.id);
        if (!v) return;
        key = `${JSON.stringify(spec.style)}|${v.source}`;
        build = () => {
          const features = new GeoJSON().readFeatures(v.geojson, { dataProjection: this.projection, featureProjection: this.projection });
          return new VectorLayer({ source: new VectorSource({ features }), style: vectorStyle(spec) });
        };
      }
      let entry = this.entries.get(spec.id);
      if (!entry || entry.key !== key) {
        if (entry) this.map.removeLayer(entry.olLayer);
        entry = { olLayer: build(), key };
        this.entries.set(spec.id, entry);
        this.map.addLayer(entry.olLayer);
      }
      entry.olLayer.setVisible(spec.visible);
      entry.olLayer.setOpacity(spec.opacity);
      entry.olLayer.setZIndex(i);
    });
  }

  /** Fits the view to all loaded layers (at most 1 map unit per… whatever fits), no animation. */
  fitAll(): void {
    const ext = createEmpty();
    for (const id of this.entries.keys()) {
      const e = this.layerExtent(id);
      if (e) extend(ext, e);
    }
    for (const id of this.rasters.keys()) {
      const e = this.specs.some((s) => s.id === id) ? this.layerExtent(id) : null;
      if (e) extend(ext, e);
    }
    if (!isEmpty(ext)) this.map.getView().fit(ext, { padding: [20, 20, 20, 20] });
  }

  /** A loaded layer's extent in the view CRS, or null when it has none (not loaded, empty). */
  layerExtent(id: string): Extent | null {
    const r = this.rasters.get(id);
    if (r) {
      const e = extentOfGrid(r.band);
      const src = r.band.grid.crs ? registerCrs(r.band.grid.crs) : this.projection;
      const a = transform([e[0], e[1]], src, this.projection);
      const b = transform([e[2], e[3]], src, this.projection);
      return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1])];
    }
    const entry = this.entries.get(id);
    if (entry?.olLayer instanceof VectorLayer) {
      const se = (entry.olLayer.getSource() as VectorSource | null)?.getExtent();
      if (se && !isEmpty(se)) return [...se];
    }
    return null;
  }

  /**
   * Zooms to a layer when none of it lies in the current view (a newly imported layer the user
   * would otherwise not see); returns whether it zoomed.
   */
  zoomToLayerIfOutside(id: string): boolean {
    const e = this.layerExtent(id);
    const size = this.map.getSize();
    if (!e || !size) return false;
    if (intersects(e, this.map.getView().calculateExtent(size))) return false;
    this.map.getView().fit(e, { padding: [20, 20, 20, 20] });
    return true;
  }

  /** Zooms to a layer's extent (the layer panel's "Zoom to layer"). */
  zoomToLayer(id: string): void {
    const e = this.layerExtent(id);
    if (e) this.map.getView().fit(e, { padding: [20, 20, 20, 20] });
  }

  centerOn(x: number, y: number): void {
    this.map.getView().setCenter([x, y]);
  }

  /** The value of every visible raster layer's band at a map coordinate (view CRS). */
  valuesAt(x: number, y: number): ReadoutValue[] {
    const out: ReadoutValue[] = [];
    for (let i = this.specs.length - 1; i >= 0; i--) {
      const spec = this.specs[i];
      if (spec.kind !== 'raster' || !spec.visible) continue;
      const r = this.rasters.get(spec.id);
      if (!r) continue;
      const g = r.band.grid;
      const [rx, ry] = g.crs ? transform([x, y], this.projection, registerCrs(g.crs)) : [x, y];
      const col = Math.floor((rx - g.originX) / g.cellSizeX);
      const row = Math.floor((g.originY - ry) / g.cellSizeY);
      const inside = row >= 0 && col >= 0 && row < g.rows && col < g.cols;
      out.push({ layerId: spec.id, layerName: spec.name, band: spec.band, value: inside ? r.band.values[row * g.cols + col] : NaN, unit: r.band.unit });
    }
    return out;
  }

  /**
   * The map as PNG bytes: every layer canvas composited with its opacity and transform (the
   * OpenLayers export-map recipe), so what is exported is exactly what is shown.
   */
  async exportPng(): Promise<Blob> {
    const size = this.map.getSize();
    if (!size) throw new Error('the map is not displayed');
    const out = document.createElement('canvas');
    out.width = size[0];
    out.height = size[1];
    const ctx = out.getContext('2d');
    if (!ctx) throw new Error('this browser cannot create a 2D canvas');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, out.width, out.height);
    const viewport = this.map.getViewport() as HTMLElement | undefined;
    if (!viewport) throw new Error('the map is not displayed');
    for (const canvas of viewport.querySelectorAll<HTMLCanvasElement>('.ol-layer canvas')) {
      if (canvas.width === 0) continue;
      const parent = canvas.parentElement;
      ctx.globalAlpha = parent?.style.opacity ? Number(parent.style.opacity) : 1;
      const m = /^matrix\(([^)]*)\)$/.exec(canvas.style.transform);
      const t = m ? m[1].split(',').map(Number) : [1, 0, 0, 1, 0, 0];
      ctx.setTransform(t[0], t[1], t[2], t[3], t[4], t[5]);
      ctx.drawImage(canvas, 0, 0);
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = 1;
    return new Promise((resolve, reject) => out.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'));
  }

  dispose(): void {
    this.map.setTarget(undefined);
  }
}

export function stretchFor(band: BandData, spec: RasterLayerSpec): Stretch {
  return computeStretch(band.values, spec.style);
}
