import OlMap from 'ol/Map.js';
import View from 'ol/View.js';
import ImageLayer from 'ol/layer/Image.js';
import VectorLayer from 'ol/layer/Vector.js';
import ImageStatic from 'ol/source/ImageStatic.js';
import VectorSource from 'ol/source/Vector.js';
import Feature from 'ol/Feature.js';
import Point from 'ol/geom/Point.js';
import Zoom from 'ol/control/Zoom.js';
import { Style, Stroke, RegularShape, Circle, Fill } from 'ol/style.js';
import type { FeatureLike } from 'ol/Feature.js';
import type { BandData, CrsInfo, RasterLayerSpec } from '../../../../main/api/contract.ts';
import type { Stretch } from '../color-ramp.ts';
import { extentOfGrid, rasterImageUrl } from './workbench-map.ts';
import { projectionOf, registerCrs } from './projection.ts';

export interface ComparePanel {
  readonly band: BandData;
  readonly stretch: Stretch;
  readonly spec: RasterLayerSpec;
}

const CURSOR_STYLE = new Style({ image: new RegularShape({ points: 4, radius: 9, radius2: 0, angle: Math.PI / 4, stroke: new Stroke({ color: '#111827', width: 2 }) }) });

/** A clickable point on the compare maps: a training site centre or a deposit. */
export interface ComparePoint {
  readonly x: number;
  readonly y: number;
  readonly kind: 'positive' | 'negative' | 'deposit';
  readonly label: string;
}

const POINT_STYLES: Record<ComparePoint['kind'] | 'selected', Style> = {
  positive: new Style({ image: new Circle({ radius: 4, fill: new Fill({ color: '#ef4444' }), stroke: new Stroke({ color: '#ffffff', width: 1.5 }) }) }),
  negative: new Style({ image: new Circle({ radius: 4, fill: new Fill({ color: '#3b82f6' }), stroke: new Stroke({ color: '#ffffff', width: 1.5 }) }) }),
  deposit: new Style({ image: new RegularShape({ points: 4, radius: 5, angle: Math.PI / 4, fill: new Fill({ color: '#facc15' }), stroke: new Stroke({ color: '#111827', width: 1 }) }) }),
  selected: new Style({ image: new Circle({ radius: 8, stroke: new Stroke({ color: '#f0f', width: 2.5 }) }), zIndex: 5 }),
};

/** Points and the selected-site ring: one source shared by the layers of every map. */
export class PointOverlay {
  readonly source = new VectorSource();
  private readonly selected = new Feature<Point>();

  constructor() {
    this.selected.setStyle(POINT_STYLES.selected);
  }

  layer(): VectorLayer<VectorSource> {
    return new VectorLayer({ source: this.source, zIndex: 20, style: (f: FeatureLike) => POINT_STYLES[(f.get('kind') as ComparePoint['kind']) ?? 'deposit'] });
  }

  setPoints(points: readonly ComparePoint[]): void {
    this.source.clear();
    this.source.addFeatures(points.map((p) => new Feature({ geometry: new Point([p.x, p.y]), kind: p.kind, label: p.label })));
    if (this.selected.getGeometry()) this.source.addFeature(this.selected);
  }

  setSelected(x: number | null, y: number | null): void {
    if (x === null || y === null) {
      if (this.source.hasFeature(this.selected)) this.source.removeFeature(this.selected);
      this.selected.setGeometry(undefined);
      return;
    }
    this.selected.setGeometry(new Point([x, y]));
    if (!this.source.hasFeature(this.selected)) this.source.addFeature(this.selected);
  }

  /** A click snaps to the nearest site or deposit within `tolerancePx`; elsewhere it is the clicked point. */
  static clickHandler(map: OlMap, layer: VectorLayer<VectorSource>, onClick: (x: number, y: number) => void, tolerancePx = 8): void {
    map.on('singleclick', (e) => {
      let best: { d: number; c: number[] } | null = null;
      map.forEachFeatureAtPixel(
        e.pixel,
        (f) => {
          const g = f.getGeometry();
          if (!(g instanceof Point) || f.get('kind') === undefined) return;
          const c = g.getCoordinates();
          const px = map.getPixelFromCoordinate(c);
          const d = Math.hypot(px[0] - e.pixel[0], px[1] - e.pixel[1]);
          if (!best || d < best.d) best = { d, c };
        },
        { hitTolerance: tolerancePx, layerFilter: (l) => l === layer },
      );
      const c = (best as { d: number; c: number[] } | null)?.c ?? e.coordinate;
      onClick(c[0], c[1]);
    });
  }
}

/**
 * Two or four maps for side-by-side comparison. They share one OpenLayers View, which is how
 * OpenLayers links pan and zoom exactly (no event ping-pong); the cursor of the map under the
 * mouse is mirrored as a cross on the others.
 */
export class CompareMaps {
  readonly view: View;
  readonly maps: OlMap[];
  private readonly cursors: VectorSource[];
  private readonly images: (ImageLayer<ImageStatic> | null)[];
  readonly points = new PointOverlay();

  constructor(targets: readonly HTMLElement[], crs: CrsInfo | null, onCursor: (x: number, y: number, from: number) => void, onClick?: (x: number, y: number) => void) {
    this.view = new View({ projection: projectionOf(crs), center: [0, 0], resolution: 1000 });
    this.cursors = targets.map(() => new VectorSource());
    this.images = targets.map(() => null);
    this.maps = targets.map((target, i) => {
      const overlay = this.points.layer();
      const m = new OlMap({ target, controls: [new Zoom()], view: this.view, layers: [new VectorLayer({ source: this.cursors[i], style: CURSOR_STYLE, zIndex: 10 }), overlay] });
      m.on('pointermove', (e) => onCursor(e.coordinate[0], e.coordinate[1], i));
      if (onClick) PointOverlay.clickHandler(m, overlay, onClick);
      return m;
    });
  }

  setPanel(i: number, p: ComparePanel | null): void {
    const m = this.maps[i];
    const old = this.images[i];
    if (old) m.removeLayer(old);
    this.images[i] = null;
    if (!p) return;
    const proj = p.band.grid.crs ? registerCrs(p.band.grid.crs) : this.view.getProjection();
    const layer = new ImageLayer({ source: new ImageStatic({ url: rasterImageUrl(p.band, p.stretch, p.spec), imageExtent: extentOfGrid(p.band), projection: proj, interpolate: false }) });
    this.images[i] = layer;
    m.addLayer(layer);
  }

  /** Shows the cursor cross on every map except the one the mouse is over. */
  setCursor(x: number, y: number, from: number): void {
    this.cursors.forEach((src, i) => {
      src.clear();
      if (i !== from) src.addFeature(new Feature({ geometry: new Point([x, y]) }));
    });
  }

  fit(band: BandData): void {
    this.view.fit(extentOfGrid(band), { size: this.maps[0].getSize(), padding: [10, 10, 10, 10] });
  }

  dispose(): void {
    for (const m of this.maps) m.setTarget(undefined);
  }
}
