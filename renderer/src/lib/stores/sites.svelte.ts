import type { GridInfo, RasterLayerSpec, SiteCentre } from '../../../../main/api/contract.ts';
import { cellAt, nextSiteId, snapToCell, type SiteMode } from '../sites.ts';

/**
 * The training sites being digitized: the list, the map's click mode, the grid they snap to
 * and the one selected site (keyboard Delete). Edits go through `onChange`, which the façade
 * wires to the undo history, so every add/move/remove is one undo step.
 */
export class SitesStore {
  sites = $state.raw<readonly SiteCentre[]>([]);
  /** What a click on the map does. */
  siteMode = $state<SiteMode>('pan');
  /** Id of the raster layer whose grid the sites snap to and whose blocks are drawn. */
  siteGridLayerId = $state<string | null>(null);
  /** The site last placed or clicked in Pan/Move mode (drawn with a magenta ring; keyboard Delete removes it); null = none. */
  selectedSiteId = $state<string | null>(null);

  constructor(
    /** The project's raster layers and their loaded grids (from the project and layer stores). */
    private readonly rasterLayers: () => readonly RasterLayerSpec[],
    private readonly gridOf: (layerId: string) => GridInfo | null,
    /** Records the current sites for undo, before an edit replaces them. */
    private readonly beforeEdit: () => boolean,
    private readonly warn: (message: string) => void,
  ) {}

  /** The raster layer the sites snap to: the chosen one, else the first raster of the project. */
  get siteGridLayer(): RasterLayerSpec | null {
    const rasters = this.rasterLayers();
    return rasters.find((l) => l.id === this.siteGridLayerId) ?? rasters[0] ?? null;
  }

  get siteGrid(): GridInfo | null {
    const l = this.siteGridLayer;
    return l ? this.gridOf(l.id) : null;
  }

  /** Where a site at (x, y) would go, or why it cannot. */
  siteCell(x: number, y: number, ignoreId?: string): { x: number; y: number } | string {
    const g = this.siteGrid;
    if (!g) return 'add a raster layer first: sites are cells of its grid';
    const p = snapToCell(g, x, y);
    if (!p) return `(${x.toFixed(0)}, ${y.toFixed(0)}) is outside the grid of ${this.siteGridLayer?.name}`;
    const c = cellAt(g, p.x, p.y);
    const taken = this.sites.find((s) => s.id !== ignoreId && cellAt(g, s.x, s.y)?.row === c?.row && cellAt(g, s.x, s.y)?.col === c?.col);
    if (taken) return `cell (row ${c?.row}, col ${c?.col}) already holds site ${taken.id}; one cell holds one site`;
    return p;
  }

  /** The site whose cell contains (x, y), or null. */
  siteAt(x: number, y: number): SiteCentre | null {
    const g = this.siteGrid;
    const c = g ? cellAt(g, x, y) : null;
    if (!g || !c) return null;
    return this.sites.find((s) => { const d = cellAt(g, s.x, s.y); return d?.row === c.row && d?.col === c.col; }) ?? null;
  }

  addSite(x: number, y: number, label: 0 | 1): void {
    const p = this.siteCell(x, y);
    if (typeof p === 'string') return this.warn(`Site not added: ${p}`);
    const id = nextSiteId(this.sites);
    this.setSites([...this.sites, { id, x: p.x, y: p.y, label, source: 'user' }]);
    this.selectedSiteId = id;
  }

  moveSite(id: string, x: number, y: number): void {
    const p = this.siteCell(x, y, id);
    if (typeof p === 'string') {
      this.warn(`Site not moved: ${p}`);
      this.sites = [...this.sites]; // redraw it where it was
      return;
    }
    this.setSites(this.sites.map((s) => (s.id === id ? { ...s, x: p.x, y: p.y } : s)));
  }

  removeSite(id: string): void {
    if (!this.sites.some((s) => s.id === id)) return;
    this.setSites(this.sites.filter((s) => s.id !== id));
    if (this.selectedSiteId === id) this.selectedSiteId = null;
  }

  /** Replaces the digitized sites, recording the previous set for undo. */
  setSites(next: readonly SiteCentre[]): void {
    if (!this.beforeEdit()) return;
    this.sites = next;
  }

  /** Puts back sites without an undo step (undo/redo, project open). */
  restore(sites: readonly SiteCentre[]): void {
    this.sites = sites;
    if (this.selectedSiteId !== null && !sites.some((s) => s.id === this.selectedSiteId)) this.selectedSiteId = null;
  }

  reset(): void {
    this.sites = [];
    this.siteGridLayerId = null;
    this.selectedSiteId = null;
  }
}
