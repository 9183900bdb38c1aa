import OlMap from 'ol/Map.js';
import View from 'ol/View.js';
import ImageLayer from 'ol/layer/Image.js';
import VectorLayer from 'ol/layer/Vector.js';
import ImageStatic from 'ol/source/ImageStatic.js';
import VectorSource from 'ol/source/Vector.js';
import Feature from 'ol/Feature.js';
import Point from 'ol/geom/Point.js';
import Zoom from 'ol/control/Zoom.js';
import { Style, Stroke, RegularShape } from 'ol/style.js';
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

  constructor(targets: readonly HTMLElement[], crs: CrsInfo | null, onCursor: (x: number, y: number, from: number) => void) {
    this.view = new View({ projection: projectionOf(crs), center: [0, 0], resolution: 1000 });
    this.cursors = targets.map(() => new VectorSource());
    this.images = targets.map(() => null);
    this.maps = targets.map((target, i) => {
      const m = new OlMap({ target, controls: [new Zoom()], view: this.view, layers: [new VectorLayer({ source: this.cursors[i], style: CURSOR_STYLE, zIndex: 10 })] });
      m.on('pointermove', (e) => onCursor(e.coordinate[0], e.coordinate[1], i));
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
