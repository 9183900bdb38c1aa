import type { MenuAction } from '../../../../main/api/contract.ts';
import type { ExportTarget } from '../export-actions.ts';

/**
 * Requests one panel makes of another (export the map, open the Export dialog, show a training
 * run), as counters or sequence-numbered values so the same request twice is still a change the
 * listening `$effect` sees. No project data lives here.
 */
export class UiEvents {
  /** Last menu action from the native menu (Electron), for dialogs to react to. */
  menuAction = $state<{ action: MenuAction; seq: number } | null>(null);
  /** Incremented to ask the map to export itself as PNG. */
  exportRequest = $state(0);
  /** What the Export dialog is open on (Layers / Sites / Training buttons, toolbar); null = closed. */
  exportTarget = $state<ExportTarget | null>(null);
  /** The main map's visible extent [xmin, ymin, xmax, ymax] in the project CRS (for layouts of the current view). */
  viewExtent = $state.raw<readonly [number, number, number, number] | null>(null);
  /** Set to re-open a training run's results in the Training panel (Jobs tab → "Show results"). */
  trainingRunRequest = $state<{ runDir: string; seq: number } | null>(null);
  /** Set (sequence-numbered) to ask the map to zoom to one layer's extent. */
  zoomToLayerRequest = $state<{ layerId: string; force: boolean; seq: number } | null>(null);
  private menuSeq = 0;

  menu(action: MenuAction): void {
    this.menuAction = { action, seq: ++this.menuSeq };
  }

  showTrainingRun(runDir: string): void {
    this.trainingRunRequest = { runDir, seq: (this.trainingRunRequest?.seq ?? 0) + 1 };
  }

  /** `force` false: only when the layer lies wholly outside the current view (after an import). */
  zoomToLayer(layerId: string, force = true): void {
    this.zoomToLayerRequest = { layerId, force, seq: (this.zoomToLayerRequest?.seq ?? 0) + 1 };
  }
}
