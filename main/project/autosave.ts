import type { ProjectDocument } from '../types/project-document.ts';
import { saveProject } from './project-file.ts';

export interface AutosaveOptions {
  /** Quiet period after the last change before the copy is written. @default 5000 */
  readonly delayMs?: number;
  /** Where errors go (a failed autosave must not crash the app). @default console.warn */
  readonly onError?: (e: unknown) => void;
}

/**
 * Debounced autosave: every change restarts the timer; the copy is written once edits pause.
 * It writes to the autosave sibling (see autosavePathFor), never over the user's own file,
 * and through the same atomic save, so a crash mid-autosave cannot damage either file.
 */
export class Autosaver {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pending: { path: string; doc: ProjectDocument; afterSave?: (written: string) => void } | null = null;
  private readonly delayMs: number;
  private readonly onError: (e: unknown) => void;

  constructor(options: AutosaveOptions = {}) {
    this.delayMs = options.delayMs ?? 5000;
    this.onError = options.onError ?? ((e) => console.warn('autosave failed:', e));
  }

  /**
   * Records a change; the document is written `delayMs` after the last call. `afterSave` runs
   * once that document is on disk (the session autosave removes the sites file it superseded).
   */
  changed(path: string, doc: ProjectDocument, afterSave?: (written: string) => void): void {
    this.pending = { path, doc, afterSave };
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.delayMs);
  }

  /** Writes a pending change now (on quit). Returns the path written, or null. */
  flush(): string | null {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const p = this.pending;
    this.pending = null;
    if (!p) return null;
    try {
      const written = saveProject(p.path, p.doc);
      p.afterSave?.(written);
      return written;
    } catch (e) {
      this.onError(e);
      return null;
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }
}
