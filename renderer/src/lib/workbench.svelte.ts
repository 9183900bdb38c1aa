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
import type { LoadedRaster } from './map/workbench-map.ts';
import { JobTracker } from './jobs.svelte.ts';
import type { SiteMode } from './sites.ts';
import type { ExportTarget } from './export-actions.ts';
import { sessionAutosave } from './study-autosave.ts';
import type { StudyState } from '../../../main/project/study-types.ts';
import { sameCompareLayout, type CompareLayout } from '../../../main/project/compare-layout.ts';
import { DIGITIZED_SITES_ID, runRecord, sitesPathFor, withRun, withSiteSet } from './project-records.ts';
import { pendingTrainRunName, rasterDisplayName, withRunDisplayNames, type RunContext } from '../../../main/util/display-names.ts';
import { errorText, StatusStore, type LogLine } from './stores/status.svelte.ts';
import { HistoryStore } from './stores/history.svelte.ts';
import { LayerDataStore, needsReload } from './stores/layer-data.svelte.ts';
import { SitesStore } from './stores/sites.svelte.ts';
import { UiEvents } from './stores/ui-events.svelte.ts';
import { ProjectStore } from './stores/project.svelte.ts';

export { errorText, type LogLine };

const MAX_UNDO = 100;

/** What one undo step restores: the project document and the sites being digitized. */
interface Snapshot {
  readonly doc: ProjectDocument;
  readonly sites: readonly SiteCentre[];
}

/**
 * The application state, as a façade over focused stores (lib/stores/): `project` (document,
 * path, dirty, autosave), `layers` (loaded band/vector data), `siteStore` (digitized sites),
 * `history` (undo/redo), `ui` (cross-panel requests) and `status` (log, loading). Components
 * keep using `wb.doc`, `wb.sites`, `wb.addSite(…)`: the accessors below forward to the stores,
 * whose runes make them reactive. Only the stores and this class talk to the contract.
 */
export class Workbench {
  readonly status: StatusStore;
  readonly project: ProjectStore;
  readonly layers: LayerDataStore;
  readonly history = new HistoryStore<Snapshot>(MAX_UNDO);
  readonly siteStore: SitesStore;
  readonly ui = new UiEvents();
  readonly jobs: JobTracker;

  constructor(readonly api: WorkbenchApi) {
    this.status = new StatusStore();
    this.project = new ProjectStore(api, this.status);
    this.layers = new LayerDataStore(api, this.status);
    this.siteStore = new SitesStore(
      () => (this.doc?.layers ?? []).filter((l): l is RasterLayerSpec => l.kind === 'raster'),
      (id) => this.rasters.get(id)?.band.grid ?? null,
      () => {
        if (!this.doc) return false;
        this.pushUndo();
        // Digitizing edits are autosaved too; the autosave reads the sites when its timer fires.
        this.project.changed();
        return true;
      },
      (m) => this.addLog('warn', m),
    );
    this.project.autosavePayload = (path, doc) => sessionAutosave(path, doc, this.sites, this.siteGridLayer);
    this.jobs = new JobTracker(api);
    this.jobs.onDone = (job) => {
      this.recordRun(runRecord(job));
      // A training job is titled "Training run: …" while it runs (pendingTrainRunName); recorded,
      // it has its number, and the title says so ("Study · Training run 3: …").
      const named = this.doc?.runs.find((r) => r.id === job.jobId)?.displayName;
      if (job.kind === 'train' && named) this.jobs.retitle(job.jobId, job.title.replace(pendingTrainRunName(job.request.options), named));
    };
    api.on('log', (e) => this.addLog(e.level, e.message));
    api.on('jobFailed', (e) => this.addLog('error', `${e.jobId}: ${e.error.name}: ${e.error.message}`));
    api.on('jobDone', (e) => this.addLog('info', `${e.jobId} finished (exit code ${e.result.exitCode})`));
    api.on('menu', (e) => void this.onMenu(e.action));
  }

  // ── Forwarders: the import surface components had before the split ──
  get appInfo(): AppInfo | null { return this.project.appInfo; }
  set appInfo(v: AppInfo | null) { this.project.appInfo = v; }
  get projectPath(): string | null { return this.project.projectPath; }
  set projectPath(v: string | null) { this.project.projectPath = v; }
  get doc(): ProjectDocument | null { return this.project.doc; }
  set doc(v: ProjectDocument | null) { this.project.doc = v; }
  get dirty(): boolean { return this.project.dirty; }
  set dirty(v: boolean) { this.project.dirty = v; }
  get recent(): readonly RecentProject[] { return this.project.recent; }
  get rasters(): ReadonlyMap<string, LoadedRaster> { return this.layers.rasters; }
  get vectors(): ReadonlyMap<string, VectorData> { return this.layers.vectors; }
  get layerErrors(): Readonly<Record<string, string>> { return this.layers.layerErrors; }
  get loading(): number { return this.status.loading; }
  get log(): readonly LogLine[] { return this.status.log; }
  get canUndo(): boolean { return this.history.canUndo; }
  get canRedo(): boolean { return this.history.canRedo; }
  get menuAction(): { action: MenuAction; seq: number } | null { return this.ui.menuAction; }
  get exportRequest(): number { return this.ui.exportRequest; }
  set exportRequest(v: number) { this.ui.exportRequest = v; }
  get exportTarget(): ExportTarget | null { return this.ui.exportTarget; }
  set exportTarget(v: ExportTarget | null) { this.ui.exportTarget = v; }
  get viewExtent(): readonly [number, number, number, number] | null { return this.ui.viewExtent; }
  set viewExtent(v: readonly [number, number, number, number] | null) { this.ui.viewExtent = v; }
  get trainingRunRequest(): { runDir: string; seq: number } | null { return this.ui.trainingRunRequest; }
  get sites(): readonly SiteCentre[] { return this.siteStore.sites; }
  get siteMode(): SiteMode { return this.siteStore.siteMode; }
  set siteMode(v: SiteMode) { this.siteStore.siteMode = v; }
  get siteGridLayerId(): string | null { return this.siteStore.siteGridLayerId; }
  set siteGridLayerId(v: string | null) { this.siteStore.siteGridLayerId = v; }
  get selectedSiteId(): string | null { return this.siteStore.selectedSiteId; }
  set selectedSiteId(v: string | null) { this.siteStore.selectedSiteId = v; }
  get siteGridLayer(): RasterLayerSpec | null { return this.siteStore.siteGridLayer; }
  get siteGrid(): GridInfo | null { return this.siteStore.siteGrid; }

  addLog(level: LogLine['level'], message: string): void { this.status.addLog(level, message); }
  addSite(x: number, y: number, label: 0 | 1): void { this.siteStore.addSite(x, y, label); }
  moveSite(id: string, x: number, y: number): void { this.siteStore.moveSite(id, x, y); }
  removeSite(id: string): void { this.siteStore.removeSite(id); }
  /** Replaces the digitized sites, recording the previous set for undo. */
  setSites(next: readonly SiteCentre[]): void { this.siteStore.setSites(next); }
  showTrainingRun(runDir: string): void { this.ui.showTrainingRun(runDir); }
  /** Fetches a layer's data from the backend (band values or GeoJSON in the project CRS). */
  loadLayer(spec: LayerSpec): Promise<void> { return this.layers.load(spec, this.doc); }

  /** First start: the most recent project if there is one, else the bundled demo survey. */
  async start(): Promise<void> {
    this.appInfo = await this.api.request('getAppInfo', {});
    await this.project.refreshRecent();
    await this.run('open the demo survey', async () => {
      const p = this.recent.length > 0 ? await this.api.request('openProject', { path: this.recent[0].path }) : await this.api.request('openDemoProject', {});
      await this.adopt(p.path, p.document);
    });
  }

  private async run(what: string, f: () => Promise<void>): Promise<boolean> {
    try {
      await this.status.busy(f);
      return true;
    } catch (e) {
      this.addLog('error', `Could not ${what}: ${errorText(e)}`);
      return false;
    }
  }

  private async adopt(path: string | null, doc: ProjectDocument): Promise<void> {
    this.projectPath = path;
    this.doc = doc;
    // Panels that keep their own view of the document (the Compare tab's layout) re-read it now.
    this.project.opened++;
    this.layers.clear();
    this.history.clear();
    this.siteStore.reset();
    this.dirty = false;
    await Promise.all(doc.layers.map((l) => this.loadLayer(l)));
    await this.restoreSites(doc);
    await this.project.refreshRecent();
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
      this.siteStore.restore(r.sites);
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
    // Recorded with its readable name ("Training run 3: CNN (5-fold × 3)"), numbered as the
    // project file numbers it when reopened (withRunDisplayNames keeps names already given).
    const put = (d: ProjectDocument): ProjectDocument => {
      const withIt = withRun(d, run);
      return { ...withIt, runs: withRunDisplayNames(withIt.runs) };
    };
    this.doc = put(this.doc);
    this.history.mapAll((s) => ({ ...s, doc: put(s.doc) }));
    this.project.changed();
  }

  /** Records the guided study's state (study.svelte.ts); like a run, a fact kept through undo/redo. */
  recordStudy(study: StudyState): void {
    if (!this.doc) return;
    const put = (d: ProjectDocument): ProjectDocument => ({ ...d, study });
    this.doc = put(this.doc);
    this.history.mapAll((s) => ({ ...s, doc: put(s.doc) }));
    this.project.changed();
  }

  /**
   * Records the Compare tab's layout (layer and band per pane, mode, divider). Like the study, a
   * view the user set up rather than an edit of the data: kept through undo/redo, autosaved.
   */
  recordCompare(layout: CompareLayout): void {
    if (!this.doc || sameCompareLayout(this.doc.compare, layout)) return;
    const put = (d: ProjectDocument): ProjectDocument => ({ ...d, compare: layout });
    this.doc = put(this.doc);
    this.history.mapAll((s) => ({ ...s, doc: put(s.doc) }));
    this.project.changed();
  }

  /** Replaces the document, recording the previous one for undo, and schedules an autosave. */
  private commit(next: ProjectDocument): void {
    if (!this.doc) return;
    this.pushUndo();
    this.doc = next;
    this.project.changed();
  }

  private pushUndo(): void {
    if (this.doc) this.history.push({ doc: this.doc, sites: this.sites });
  }

  async undo(): Promise<void> {
    if (!this.doc) return;
    const prev = this.history.undo({ doc: this.doc, sites: this.sites });
    if (prev) await this.restore(prev);
  }

  async redo(): Promise<void> {
    if (!this.doc) return;
    const next = this.history.redo({ doc: this.doc, sites: this.sites });
    if (next) await this.restore(next);
  }

  private async restore(snapshot: Snapshot): Promise<void> {
    const { doc } = snapshot;
    const before = new Map((this.doc?.layers ?? []).map((l) => [l.id, l]));
    this.siteStore.restore(snapshot.sites);
    // Every undo/redo is an edit to autosave, a digitizing one too: it leaves the document as it
    // is, and without this the copy on disk kept the undone sites (recovery would bring them back).
    this.project.changed();
    if (doc === this.doc) return;
    this.doc = doc;
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

  /**
   * Imports a layer; on failure the error (naming the file and the fix) is returned for the dialog.
   * `displayName` replaces the backend's readable name where the caller knows more (the kriging
   * panel knows the table's units, which the kriged GeoTIFF does not record).
   */
  async importLayer(req: ImportRequest, naming: { readonly displayName?: string; readonly run?: RunContext } = {}): Promise<string | null> {
    if (!this.doc) return 'no project is open';
    try {
      const imported = await this.api.request('importLayer', req);
      // A prediction of a recorded run is named with its number: "GK-DCN probability (run 3, 5-fold)".
      const displayName = naming.displayName ?? (naming.run && imported.kind === 'raster' ? rasterDisplayName({ path: imported.source, bandNames: imported.bandNames, run: naming.run }) : undefined);
      const layer = displayName ? ({ ...imported, displayName } as LayerSpec) : imported;
      let doc = this.doc;
      if (!doc.crs && layer.kind === 'raster') {
        const band = await this.api.request('getRasterBand', { source: layer.source, band: layer.band });
        doc = { ...doc, crs: band.grid.crs };
      }
      this.commit({ ...doc, layers: [...doc.layers, layer] });
      await this.loadLayer(layer);
      this.addLog('info', `Imported ${layer.name}`);
      const err = this.layerErrors[layer.id] ?? null;
      // The map zooms to the new layer when it lies outside the current view (MapView decides).
      if (!err) this.ui.zoomToLayer(layer.id, false);
      return err;
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
      await this.project.refreshRecent();
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
    this.ui.menu(action);
  }
}
