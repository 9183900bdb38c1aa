import type {
  AppInfo,
  RunRecord,
  GridInfo,
  RasterLayerSpec,
  ImportRequest,
  LayerSpec,
  MenuAction,
  ProjectDocument,
  RecentProject,
  SiteCentre,
  VectorData,
  WorkbenchApi,
} from '../../../main/api/contract.ts';
import { computeStretch } from './color-ramp.ts';
import type { LoadedRaster } from './map/workbench-map.ts';
import { JobTracker } from './jobs.svelte.ts';
import { cellAt, nextSiteId, snapToCell, type SiteMode } from './sites.ts';
import type { ExportTarget } from './export-actions.ts';
import { sessionAutosave } from './study-autosave.ts';
import type { StudyState } from '../../../main/project/study-types.ts';
import { DIGITIZED_SITES_ID, runRecord, sitesPathFor, withRun, withSiteSet } from './project-records.ts';

/** Coalesces bursts of edits (a dragged slider) before the backend's own autosave debounce. */
const AUTOSAVE_DELAY_MS = 500;
const MAX_UNDO = 100;

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
}

/** What one undo step restores: the project document and the sites being digitized. */
interface Snapshot {
  readonly doc: ProjectDocument;
  readonly sites: readonly SiteCentre[];
}

export function errorText(e: unknown): string {
  const err = e as { name?: string; message?: string };
  return err.name && err.name !== 'Error' ? `${err.name}: ${err.message}` : String(err.message ?? e);
}

/**
 * The application state: the open project document, the loaded layer data and the undo
 * history. Components read it and call its methods; only this class talks to the contract.
 */
export class Workbench {
  appInfo = $state<AppInfo | null>(null);
  projectPath = $state<string | null>(null);
  doc = $state.raw<ProjectDocument | null>(null);
  /** Loaded data per layer id (raw: replaced, never mutated in place). */
  rasters = $state.raw<ReadonlyMap<string, LoadedRaster>>(new Map());
  vectors = $state.raw<ReadonlyMap<string, VectorData>>(new Map());
  layerErrors = $state.raw<Readonly<Record<string, string>>>({});
  loading = $state(0);
  dirty = $state(false);
  log = $state.raw<readonly LogLine[]>([]);
  recent = $state.raw<readonly RecentProject[]>([]);
  /** Last menu action from the native menu (Electron), for dialogs to react to. */
  menuAction = $state<{ action: MenuAction; seq: number } | null>(null);
  /** Incremented to ask the map to export itself as PNG. */
  exportRequest = $state(0);
  /** What the Export dialog is open on (Layers / Sites / Training buttons, toolbar); null = closed. */
  exportTarget = $state<ExportTarget | null>(null);
  /** The main map's visible extent [xmin, ymin, xmax, ymax] in the project CRS (for layouts of the current view). */
  viewExtent = $state.raw<readonly [number, number, number, number] | null>(null);
  /** Training-site centres being digitized (Sites panel); undoable like document edits. */
  sites = $state.raw<readonly SiteCentre[]>([]);
  /** What a click on the map does. */
  siteMode = $state<SiteMode>('pan');
  /** Id of the raster layer whose grid the sites snap to and whose blocks are drawn. */
  siteGridLayerId = $state<string | null>(null);
  /** Set to re-open a training run's results in the Training panel (Jobs tab → "Show results"). */
  trainingRunRequest = $state<{ runDir: string; seq: number } | null>(null);
  readonly jobs: JobTracker;
  private undoStack: Snapshot[] = [];
  private redoStack: Snapshot[] = [];
  canUndo = $state(false);
  canRedo = $state(false);
  private autosaveTimer: ReturnType<typeof setTimeout> | null = null;
  private menuSeq = 0;

  constructor(readonly api: WorkbenchApi) {
    this.jobs = new JobTracker(api);
    this.jobs.onDone = (job) => this.recordRun(runRecord(job));
    api.on('log', (e) => this.addLog(e.level, e.message));
    api.on('jobFailed', (e) => this.addLog('error', `${e.jobId}: ${e.error.name}: ${e.error.message}`));
    api.on('jobDone', (e) => this.addLog('info', `${e.jobId} finished (exit code ${e.result.exitCode})`));
    api.on('menu', (e) => void this.onMenu(e.action));
  }

  addLog(level: LogLine['level'], message: string): void {
    this.log = [...this.log.slice(-49), { level, message }];
  }

  /** First start: the most recent project if there is one, else the bundled demo survey. */
  async start(): Promise<void> {
    this.appInfo = await this.api.request('getAppInfo', {});
    this.recent = await this.api.request('listRecentProjects', {});
    await this.run('open the demo survey', async () => {
      const p = this.recent.length > 0 ? await this.api.request('openProject', { path: this.recent[0].path }) : await this.api.request('openDemoProject', {});
      await this.adopt(p.path, p.document);
    });
  }

  private async run(what: string, f: () => Promise<void>): Promise<boolean> {
    this.loading++;
    try {
      await f();
      return true;
    } catch (e) {
      this.addLog('error', `Could not ${what}: ${errorText(e)}`);
      return false;
    } finally {
      this.loading--;
    }
  }

  private async adopt(path: string | null, doc: ProjectDocument): Promise<void> {
    this.projectPath = path;
    this.doc = doc;
    this.rasters = new Map();
    this.vectors = new Map();
    this.layerErrors = {};
    this.undoStack = [];
    this.redoStack = [];
    this.sites = [];
    this.siteGridLayerId = null;
    this.updateHistoryFlags();
    this.dirty = false;
    await Promise.all(doc.layers.map((l) => this.loadLayer(l)));
    await this.restoreSites(doc);
    this.recent = await this.api.request('listRecentProjects', {});
  }

  /** Reads the project's digitized site set (if any) onto its grid layer; not an undo step. */
  private async restoreSites(doc: ProjectDocument): Promise<void> {
    const set = doc.sites.find((s) => s.id === DIGITIZED_SITES_ID);
    if (!set) return;
    const rasters = doc.layers.filter((l): l is RasterLayerSpec => l.kind === 'raster');
    const grid = rasters.find((l) => l.id === set.gridLayerId) ?? rasters[0];
    if (!grid) return this.addLog('warn', `Sites ${set.source} not restored: the project has no raster layer to place them on`);
    try {
      const r = await this.api.request('readSites', { path: set.source, gridSource: grid.source });
      this.siteGridLayerId = grid.id;
      this.sites = r.sites;
    } catch (e) {
      this.addLog('error', `Could not restore the project's sites: ${errorText(e)}`);
    }
  }

  /**
   * Adds a finished job to the project's runs. A run is a fact, not an edit: it is added to
   * every undo/redo snapshot too, so undoing an edit never drops it.
   */
  recordRun(run: RunRecord): void {
    if (!this.doc) return;
    this.doc = withRun(this.doc, run);
    this.undoStack = this.undoStack.map((s) => ({ ...s, doc: withRun(s.doc, run) }));
    this.redoStack = this.redoStack.map((s) => ({ ...s, doc: withRun(s.doc, run) }));
    this.changed();
  }

  /** Records the guided study's state (study.svelte.ts); like a run, a fact kept through undo/redo. */
  recordStudy(study: StudyState): void {
    if (!this.doc) return;
    const put = (d: ProjectDocument): ProjectDocument => ({ ...d, study });
    this.doc = put(this.doc);
    this.undoStack = this.undoStack.map((s) => ({ ...s, doc: put(s.doc) }));
    this.redoStack = this.redoStack.map((s) => ({ ...s, doc: put(s.doc) }));
    this.changed();
  }

  showTrainingRun(runDir: string): void {
    this.trainingRunRequest = { runDir, seq: (this.trainingRunRequest?.seq ?? 0) + 1 };
  }

  /** Fetches a layer's data from the backend (band values or GeoJSON in the project CRS). */
  async loadLayer(spec: LayerSpec): Promise<void> {
    this.loading++;
    try {
      if (spec.kind === 'raster') {
        const band = await this.api.request('getRasterBand', { source: spec.source, band: spec.band });
        const stretch = computeStretch(band.values, spec.style);
        this.rasters = new Map(this.rasters).set(spec.id, { band, stretch });
      } else {
        const crs = this.doc?.crs;
        const targetCrs = crs ? (crs.epsg !== null ? `EPSG:${crs.epsg}` : crs.proj4) : undefined;
        const data = await this.api.request('getVectorData', { source: spec.source, table: spec.table, targetCrs });
        this.vectors = new Map(this.vectors).set(spec.id, data);
        if (data.reprojected) this.addLog('info', data.reprojected);
      }
      const { [spec.id]: _gone, ...rest } = this.layerErrors;
      this.layerErrors = rest;
    } catch (e) {
      this.layerErrors = { ...this.layerErrors, [spec.id]: errorText(e) };
    } finally {
      this.loading--;
    }
  }

  private updateHistoryFlags(): void {
    this.canUndo = this.undoStack.length > 0;
    this.canRedo = this.redoStack.length > 0;
  }

  /** Replaces the document, recording the previous one for undo, and schedules an autosave. */
  private commit(next: ProjectDocument): void {
    if (!this.doc) return;
    this.pushUndo();
    this.doc = next;
    this.changed();
  }

  private pushUndo(): void {
    if (!this.doc) return;
    this.undoStack = [...this.undoStack.slice(-(MAX_UNDO - 1)), { doc: this.doc, sites: this.sites }];
    this.redoStack = [];
  }

  /** The raster layer the sites snap to: the chosen one, else the first raster of the project. */
  get siteGridLayer(): RasterLayerSpec | null {
    const rasters = (this.doc?.layers ?? []).filter((l): l is RasterLayerSpec => l.kind === 'raster');
    return rasters.find((l) => l.id === this.siteGridLayerId) ?? rasters[0] ?? null;
  }

  get siteGrid(): GridInfo | null {
    const l = this.siteGridLayer;
    return l ? (this.rasters.get(l.id)?.band.grid ?? null) : null;
  }

  /** Where a site at (x, y) would go, or why it cannot. */
  private siteCell(x: number, y: number, ignoreId?: string): { x: number; y: number } | string {
    const g = this.siteGrid;
    if (!g) return 'add a raster layer first: sites are cells of its grid';
    const p = snapToCell(g, x, y);
    if (!p) return `(${x.toFixed(0)}, ${y.toFixed(0)}) is outside the grid of ${this.siteGridLayer?.name}`;
    const c = cellAt(g, p.x, p.y);
    const taken = this.sites.find((s) => s.id !== ignoreId && cellAt(g, s.x, s.y)?.row === c?.row && cellAt(g, s.x, s.y)?.col === c?.col);
    if (taken) return `cell (row ${c?.row}, col ${c?.col}) already holds site ${taken.id}; one cell holds one site`;
    return p;
  }

  addSite(x: number, y: number, label: 0 | 1): void {
    const p = this.siteCell(x, y);
    if (typeof p === 'string') return this.addLog('warn', `Site not added: ${p}`);
    this.setSites([...this.sites, { id: nextSiteId(this.sites), x: p.x, y: p.y, label, source: 'user' }]);
  }

  moveSite(id: string, x: number, y: number): void {
    const p = this.siteCell(x, y, id);
    if (typeof p === 'string') {
      this.addLog('warn', `Site not moved: ${p}`);
      this.sites = [...this.sites]; // redraw it where it was
      return;
    }
    this.setSites(this.sites.map((s) => (s.id === id ? { ...s, x: p.x, y: p.y } : s)));
  }

  removeSite(id: string): void {
    if (this.sites.some((s) => s.id === id)) this.setSites(this.sites.filter((s) => s.id !== id));
  }

  /** Replaces the digitized sites, recording the previous set for undo. */
  setSites(next: readonly SiteCentre[]): void {
    if (!this.doc) return;
    this.pushUndo();
    this.sites = next;
    this.changed(); // digitizing edits are autosaved too (study-autosave.ts)
  }

  private changed(): void {
    this.dirty = true;
    this.updateHistoryFlags();
    if (this.autosaveTimer) clearTimeout(this.autosaveTimer);
    this.autosaveTimer = setTimeout(() => {
      const doc = this.doc;
      if (doc) void this.api.request('autosaveSession', sessionAutosave(this.projectPath, doc, this.sites, this.siteGridLayer)).catch((e) => this.addLog('warn', `Autosave failed: ${errorText(e)}`));
    }, AUTOSAVE_DELAY_MS);
  }

  async undo(): Promise<void> {
    const prev = this.undoStack.pop();
    if (!prev || !this.doc) return;
    this.redoStack.push({ doc: this.doc, sites: this.sites });
    await this.restore(prev);
  }

  async redo(): Promise<void> {
    const next = this.redoStack.pop();
    if (!next || !this.doc) return;
    this.undoStack.push({ doc: this.doc, sites: this.sites });
    await this.restore(next);
  }

  private async restore(snapshot: Snapshot): Promise<void> {
    const { doc } = snapshot;
    const before = new Map((this.doc?.layers ?? []).map((l) => [l.id, l]));
    this.sites = snapshot.sites;
    if (doc === this.doc) {
      this.updateHistoryFlags();
      return;
    }
    this.doc = doc;
    this.changed();
    await Promise.all(doc.layers.filter((l) => needsReload(before.get(l.id), l)).map((l) => this.loadLayer(l)));
  }

  async updateLayer(id: string, patch: Partial<LayerSpec>): Promise<void> {
    if (!this.doc) return;
    const old = this.doc.layers.find((l) => l.id === id);
    if (!old) return;
    const updated = { ...old, ...patch } as LayerSpec;
    this.commit({ ...this.doc, layers: this.doc.layers.map((l) => (l.id === id ? updated : l)) });
    if (needsReload(old, updated)) await this.loadLayer(updated);
  }

  /** Moves a layer up (+1, drawn later = on top) or down (−1) in the draw order. */
  moveLayer(id: string, delta: 1 | -1): void {
    if (!this.doc) return;
    const layers = [...this.doc.layers];
    const i = layers.findIndex((l) => l.id === id);
    const j = i + delta;
    if (i < 0 || j < 0 || j >= layers.length) return;
    [layers[i], layers[j]] = [layers[j], layers[i]];
    this.commit({ ...this.doc, layers });
  }

  removeLayer(id: string): void {
    if (!this.doc) return;
    this.commit({ ...this.doc, layers: this.doc.layers.filter((l) => l.id !== id) });
  }

  /** Imports a layer; on failure the error (naming the file and the fix) is returned for the dialog. */
  async importLayer(req: ImportRequest): Promise<string | null> {
    if (!this.doc) return 'no project is open';
    try {
      const layer = await this.api.request('importLayer', req);
      let doc = this.doc;
      if (!doc.crs && layer.kind === 'raster') {
        const band = await this.api.request('getRasterBand', { source: layer.source, band: layer.band });
        doc = { ...doc, crs: band.grid.crs };
      }
      this.commit({ ...doc, layers: [...doc.layers, layer] });
      await this.loadLayer(layer);
      this.addLog('info', `Imported ${layer.name}`);
      return this.layerErrors[layer.id] ?? null;
    } catch (e) {
      return errorText(e);
    }
  }

  async newProject(): Promise<void> {
    await this.run('create a project', async () => {
      const p = await this.api.request('newProject', { name: 'Untitled project', crs: this.doc?.crs?.epsg ? `EPSG:${this.doc.crs.epsg}` : undefined });
      await this.adopt(p.path, p.document);
    });
  }

  async openDemo(): Promise<void> {
    await this.run('open the demo survey', async () => {
      const p = await this.api.request('openDemoProject', {});
      await this.adopt(p.path, p.document);
    });
  }

  /** Opens a project file; returns an error message for the dialog, or null. */
  async openProject(path: string): Promise<string | null> {
    try {
      const p = await this.api.request('openProject', { path });
      await this.adopt(p.path, p.document);
      this.addLog('info', `Opened ${p.path}`);
      return null;
    } catch (e) {
      return errorText(e);
    }
  }

  /** Saves to `path` (or the current path); returns an error message for the dialog, or null. */
  async saveProject(path?: string): Promise<string | null> {
    const target = path ?? this.projectPath;
    if (!this.doc || !target) return 'choose where to save the project';
    try {
      // The digitized sites go into <project>.sites.geojson (atomic write), referenced in `sites`.
      const grid = this.siteGridLayer;
      let doc = withSiteSet(this.doc, null);
      if (this.sites.length > 0 && grid) {
        const path = sitesPathFor(target);
        await this.api.request('writeSites', { path, gridSource: grid.source, sites: this.sites });
        doc = withSiteSet(this.doc, { id: DIGITIZED_SITES_ID, name: 'Digitized sites', source: path, gridLayerId: grid.id });
      }
      this.doc = doc;
      const r = await this.api.request('saveProject', { path: target, document: doc });
      this.projectPath = r.path;
      this.dirty = false;
      this.recent = await this.api.request('listRecentProjects', {});
      this.addLog('info', `Saved ${r.path}`);
      return null;
    } catch (e) {
      return errorText(e);
    }
  }

  /** Native dialog in Electron; null in the browser host (the dialog shows a path field). */
  async pick(p: { title: string; directory?: boolean; save?: boolean; extensions?: string[] }): Promise<string[] | null> {
    if (this.appInfo?.host !== 'electron') return null;
    const r = await this.api.request('pickPaths', p);
    return r ? [...r] : null;
  }

  private async onMenu(action: MenuAction): Promise<void> {
    if (action === 'undo') return this.undo();
    if (action === 'redo') return this.redo();
    if (action === 'new-project') return this.newProject();
    if (action === 'export-map') {
      this.exportRequest++;
      return;
    }
    if (action === 'save-project' && this.projectPath) {
      const err = await this.saveProject();
      if (err) this.addLog('error', err);
      return;
    }
    this.menuAction = { action, seq: ++this.menuSeq };
  }
}

function needsReload(before: LayerSpec | undefined, after: LayerSpec): boolean {
  if (!before) return true;
  if (before.source !== after.source) return true;
  if (before.kind === 'raster' && after.kind === 'raster') {
    return before.band !== after.band || before.style.stretch !== after.style.stretch || before.style.percentiles.join() !== after.style.percentiles.join();
  }
  return false;
}
