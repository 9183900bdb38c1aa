import type { AppInfo, Params, ProjectDocument, RecentProject, WorkbenchApi } from '../../../../main/api/contract.ts';
import { errorText, type StatusStore } from './status.svelte.ts';

/** Coalesces bursts of edits (a dragged slider) before the backend's own autosave debounce. */
const AUTOSAVE_DELAY_MS = 500;

/** The open project: its path, document, dirty flag, the recent list, and the autosave request. */
export class ProjectStore {
  appInfo = $state<AppInfo | null>(null);
  projectPath = $state<string | null>(null);
  doc = $state.raw<ProjectDocument | null>(null);
  dirty = $state(false);
  recent = $state.raw<readonly RecentProject[]>([]);
  /** Incremented each time a project is opened (or created): state kept outside the document re-reads it. */
  opened = $state(0);
  private autosaveTimer: ReturnType<typeof setTimeout> | null = null;
  /**
   * What an autosave sends: the document, plus whatever else the user made that lives outside it
   * (the façade adds the digitized sites, study-autosave.ts), read when the timer fires.
   */
  autosavePayload: (path: string | null, document: ProjectDocument) => Params<'autosaveSession'> = (path, document) => ({ path, document });

  constructor(
    private readonly api: WorkbenchApi,
    private readonly status: StatusStore,
  ) {}

  async refreshRecent(): Promise<void> {
    this.recent = await this.api.request('listRecentProjects', {});
  }

  /** Marks the project edited and asks the backend for an autosave once edits pause. */
  changed(): void {
    this.dirty = true;
    if (this.autosaveTimer) clearTimeout(this.autosaveTimer);
    this.autosaveTimer = setTimeout(() => {
      const doc = this.doc;
      if (doc) void this.api.request('autosaveSession', this.autosavePayload(this.projectPath, doc)).catch((e) => this.status.addLog('warn', `Autosave failed: ${errorText(e)}`));
    }, AUTOSAVE_DELAY_MS);
  }
}
