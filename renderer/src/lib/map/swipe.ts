import OlMap from 'ol/Map.js';
import View from 'ol/View.js';
import ImageLayer from 'ol/layer/Image.js';
import ImageStatic from 'ol/source/ImageStatic.js';
import Zoom from 'ol/control/Zoom.js';
import { getRenderPixel } from 'ol/render.js';
import type RenderEvent from 'ol/render/Event.js';
import type { CrsInfo } from '../../../../main/api/contract.ts';
import type { ComparePanel } from './compare-maps.ts';
import { PointOverlay } from './compare-maps.ts';
import { extentOfGrid, rasterImageUrl } from './workbench-map.ts';
import { projectionOf, registerCrs } from './projection.ts';

/**
 * One map with two rasters overlaid and a vertical divider: left of it the first raster, right
 * of it the second (OpenLayers' "layer swipe" example: the top layer's canvas is clipped to the
 * right of the divider in its prerender event and restored in postrender).
 */
export class SwipeMap {
  readonly view: View;
  readonly map: OlMap;
  readonly points = new PointOverlay();
  private readonly layers: [ImageLayer<ImageStatic> | null, ImageLayer<ImageStatic> | null] = [null, null];
  /** Divider position as a share of the map width, 0 … 1. */
  private fraction = 0.5;

  constructor(target: HTMLElement, crs: CrsInfo | null, onCursor: (x: number, y: number) => void, onClick?: (x: number, y: number) => void) {
    this.view = new View({ projection: projectionOf(crs), center: [0, 0], resolution: 1000 });
    const overlay = this.points.layer();
    this.map = new OlMap({ target, controls: [new Zoom()], view: this.view, layers: [overlay] });
    this.map.on('pointermove', (e) => onCursor(e.coordinate[0], e.coordinate[1]));
    if (onClick) PointOverlay.clickHandler(this.map, overlay, onClick);
  }

  /** side 0 = left of the divider (drawn below), 1 = right of it (drawn on top, clipped). */
  setPanel(side: 0 | 1, p: ComparePanel | null): void {
    const old = this.layers[side];
    if (old) this.map.removeLayer(old);
    this.layers[side] = null;
    if (!p) return;
    const proj = p.band.grid.crs ? registerCrs(p.band.grid.crs) : this.view.getProjection();
    // Different class names give each raster its own canvas, so clipping one never clips the other.
    const layer = new ImageLayer({
      className: `swipe-${side}`,
      zIndex: side,
      source: new ImageStatic({ url: rasterImageUrl(p.band, p.stretch, p.spec), imageExtent: extentOfGrid(p.band), projection: proj, interpolate: false }),
    });
    if (side === 1) {
      layer.on('prerender', (e) => this.clip(e));
      layer.on('postrender', (e) => (e.context as CanvasRenderingContext2D | undefined)?.restore());
    }
    this.layers[side] = layer;
    this.map.addLayer(layer);
  }

  private clip(e: RenderEvent): void {
    const ctx = e.context as CanvasRenderingContext2D | undefined;
    const size = this.map.getSize();
    if (!ctx || !size) return;
    const x = size[0] * this.fraction;
    const tl = getRenderPixel(e, [x, 0]);
    const tr = getRenderPixel(e, [size[0], 0]);
    const bl = getRenderPixel(e, [x, size[1]]);
    const br = getRenderPixel(e, size);
    ctx.save();
    ctx.beginPath();
    ctx.moveTo(tl[0], tl[1]);
    ctx.lineTo(bl[0], bl[1]);
    ctx.lineTo(br[0], br[1]);
    ctx.lineTo(tr[0], tr[1]);
    ctx.closePath();
    ctx.clip();
  }

  /** Moves the divider (0 … 100 % of the width from the left) and redraws. */
  setPercent(percent: number): void {
    this.fraction = Math.min(1, Math.max(0, percent / 100));
    this.map.render();
  }

  fit(panel: ComparePanel): void {
    this.view.fit(extentOfGrid(panel.band), { size: this.map.getSize(), padding: [10, 10, 10, 10] });
  }

  dispose(): void {
    this.map.setTarget(undefined);
  }
}
