import type OlMap from 'ol/Map.js';
import type MapBrowserEvent from 'ol/MapBrowserEvent.js';
import Feature from 'ol/Feature.js';
import Point from 'ol/geom/Point.js';
import Polygon from 'ol/geom/Polygon.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import Translate from 'ol/interaction/Translate.js';
import { Style, Fill, Stroke, Circle } from 'ol/style.js';
import type { GridInfo, SiteCentre } from '../../../../main/api/contract.ts';
import { blockRing, type SiteMode } from '../sites.ts';

export interface SiteEditCallbacks {
  add(x: number, y: number, label: 0 | 1): void;
  move(id: string, x: number, y: number): void;
  remove(id: string): void;
  /** A click on a site in Pan or Move mode selects it (null: a click beside every site). */
  select(id: string | null): void;
}

const COLORS = { 1: { stroke: '#b91c1c', fill: 'rgba(239,68,68,0.25)', point: '#ef4444' }, 0: { stroke: '#1d4ed8', fill: 'rgba(59,130,246,0.2)', point: '#3b82f6' } } as const;

function styles(label: 0 | 1, auto: boolean): { point: Style; block: Style } {
  const c = COLORS[label];
  return {
    point: new Style({ image: new Circle({ radius: 5, fill: new Fill({ color: c.point }), stroke: new Stroke({ color: auto ? '#111827' : '#ffffff', width: 1.5 }) }), zIndex: 2 }),
    block: new Style({ stroke: new Stroke({ color: c.stroke, width: 1, lineDash: auto ? [3, 3] : undefined }), fill: new Fill({ color: c.fill }), zIndex: 1 }),
  };
}

/**
 * Colour of the selected site's ring: magenta, which no colour ramp (viridis, magma, turbo, greys,
 * RdYlBu), class colour or layer style uses (samples are amber, deposits yellow, faults red).
 */
export const SELECTED_COLOR = '#ff00ff';

/** The selected site: its class-coloured point inside a wide magenta ring, above the other sites. */
function selectedStyle(label: 0 | 1): Style {
  return new Style({ image: new Circle({ radius: 7, fill: new Fill({ color: COLORS[label].point }), stroke: new Stroke({ color: SELECTED_COLOR, width: 4 }) }), zIndex: 3 });
}

/**
 * The digitizing layer of the Sites panel on the workbench map: one point per site centre and
 * the outline of its block (3×3 cells), plus the interactions of the current mode (click to
 * add or delete, drag to move). It only reports edits; the Workbench store applies them (so
 * undo/redo and the counts see every change) and hands the new list back through setSites().
 */
export class SitesLayer {
  private readonly source = new VectorSource();
  private readonly layer = new VectorLayer({ source: this.source, zIndex: 10_000 });
  private readonly translate: Translate;
  private mode: SiteMode = 'pan';
  private readonly onClick = (e: MapBrowserEvent): void => this.click(e);

  constructor(private readonly map: OlMap, private readonly edits: SiteEditCallbacks) {
    map.addLayer(this.layer);
    this.translate = new Translate({ layers: [this.layer], hitTolerance: 6, filter: (f) => f.getGeometry() instanceof Point });
    this.translate.on('translateend', (e) => {
      for (const f of e.features.getArray()) {
        const g = f.getGeometry();
        if (g instanceof Point) {
          const [x, y] = g.getCoordinates();
          this.edits.move(String(f.getId()), x, y);
        }
      }
    });
    this.translate.setActive(false);
    map.addInteraction(this.translate);
    map.on('singleclick', this.onClick);
  }

  setMode(mode: SiteMode): void {
    this.mode = mode;
    this.translate.setActive(mode === 'move');
    const vp = this.map.getViewport() as HTMLElement | undefined;
    if (vp) vp.style.cursor = mode === 'add-positive' || mode === 'add-negative' ? 'crosshair' : mode === 'delete' ? 'not-allowed' : '';
  }

  /** Redraws every site and its block (grid null: points only, no blocks); `selectedId` gets the magenta ring. */
  setSites(sites: readonly SiteCentre[], grid: GridInfo | null, selectedId: string | null = null): void {
    this.source.clear();
    const features: Feature[] = [];
    for (const s of sites) {
      const st = styles(s.label, s.source !== 'user');
      const p = new Feature({ geometry: new Point([s.x, s.y]) });
      p.setId(s.id);
      p.setStyle(s.id === selectedId ? selectedStyle(s.label) : st.point);
      features.push(p);
      const ring = grid ? blockRing(grid, s.x, s.y) : null;
      if (ring) {
        const b = new Feature({ geometry: new Polygon([ring]) });
        b.setStyle(st.block);
        features.push(b);
      }
    }
    this.source.addFeatures(features);
  }

  private click(e: MapBrowserEvent): void {
    if (this.mode === 'add-positive' || this.mode === 'add-negative') {
      const [x, y] = e.coordinate;
      this.edits.add(x, y, this.mode === 'add-positive' ? 1 : 0);
    } else if (this.mode === 'delete') {
      const hit = this.siteAtPixel(e.pixel);
      if (hit) this.edits.remove(hit);
    } else {
      // Pan and Move: a click selects the site under the pointer (Delete then removes it).
      this.edits.select(this.siteAtPixel(e.pixel));
    }
  }

  /** Id of the site point within 6 px of `pixel`, or null. */
  private siteAtPixel(pixel: number[]): string | null {
    const hit = this.map.forEachFeatureAtPixel(pixel, (f) => (f.getGeometry() instanceof Point ? f : undefined), { layerFilter: (l) => l === this.layer, hitTolerance: 6 });
    return hit ? String(hit.getId()) : null;
  }

  dispose(): void {
    this.map.un('singleclick', this.onClick);
    this.map.removeInteraction(this.translate);
    this.map.removeLayer(this.layer);
  }
}
