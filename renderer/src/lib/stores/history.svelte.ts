/**
 * Undo/redo stacks of immutable snapshots (the workbench's snapshot is the project document
 * plus the digitized sites). The flags are runes so the toolbar's Undo/Redo buttons follow.
 */
export class HistoryStore<S> {
  canUndo = $state(false);
  canRedo = $state(false);
  private undoStack: S[] = [];
  private redoStack: S[] = [];

  constructor(private readonly maxSteps: number) {}

  /** Records `current` before an edit; a new edit clears the redo stack. */
  push(current: S): void {
    this.undoStack = [...this.undoStack.slice(-(this.maxSteps - 1)), current];
    this.redoStack = [];
    this.updateFlags();
  }

  /** The snapshot to restore for undo (with `current` moved to the redo stack), or null. */
  undo(current: S): S | null {
    const prev = this.undoStack.pop();
    if (prev === undefined) return null;
    this.redoStack.push(current);
    this.updateFlags();
    return prev;
  }

  redo(current: S): S | null {
    const next = this.redoStack.pop();
    if (next === undefined) return null;
    this.undoStack.push(current);
    this.updateFlags();
    return next;
  }

  /** Rewrites every stored snapshot (a finished run is a fact, kept in all of them). */
  mapAll(f: (s: S) => S): void {
    this.undoStack = this.undoStack.map(f);
    this.redoStack = this.redoStack.map(f);
  }

  clear(): void {
    this.undoStack = [];
    this.redoStack = [];
    this.updateFlags();
  }

  private updateFlags(): void {
    this.canUndo = this.undoStack.length > 0;
    this.canRedo = this.redoStack.length > 0;
  }
}
