import type { RunDescription, SiteExplanation } from '../../../main/api/contract.ts';
import type { CompareLayout, CompareMode } from '../../../main/project/compare-layout.ts';
import { errorText, type Workbench } from './workbench.svelte.ts';

export type { CompareMode };

/**
 * What the Compare tab's side panel and its map area share: the layout (2 or 4 linked maps, or
 * one map with a swipe divider), the layer and bands shown, the run whose models explain a
 * clicked site, and the site explanation on display.
 */
export class CompareState {
  mode = $state<CompareMode>(2);
  /** Raster layer shown ('' = the newest multiband raster). */
  layerId = $state('');
  /** Layer id per map / swipe side ('' = the shared layer above): any layer in any pane. */
  paneLayers = $state<string[]>([]);
  /** Band per map (2 or 4), or [left, right] in swipe mode. */
  bands = $state<string[]>([]);
  /** Swipe divider position, 0 … 100 (% of the map width from the left). */
  swipePercent = $state(50);
  /** Run folder whose models explain clicked sites ('' = derived from the shown probability layer). */
  runDir = $state('');
  run = $state.raw<RunDescription | null>(null);
  runError = $state<string | null>(null);
  /** Grad-CAM layer ('' = each model's default) and class (1 = deposit). */
  explainLayer = $state('');
  classIndex = $state<0 | 1>(1);
  site = $state.raw<SiteExplanation | null>(null);
  siteError = $state<string | null>(null);
  siteLoading = $state(false);
  /**
   * Whether the layout is the user's (chosen in this project, or restored from its file): only
   * then is it recorded in the project, so merely looking at the Compare tab's defaults does not
   * mark the project edited.
   */
  userLayout = $state(false);
  private lastClick: { x: number; y: number } | null = null;
  private seq = 0;

  /** The layout to keep in the project (reads every layout field, so an effect tracks them all). */
  layout(): CompareLayout {
    return { mode: this.mode, layerId: this.layerId, paneLayers: [...this.paneLayers], bands: [...this.bands], swipePercent: this.swipePercent };
  }

  /** A user's choice of layout, layer, band or divider: from now on the layout is recorded. */
  edited(): void {
    this.userLayout = true;
  }

  /** Shows a project's saved layout (null: the defaults), as on opening the project. */
  apply(layout: CompareLayout | null | undefined): void {
    this.mode = layout?.mode ?? 2;
    this.layerId = layout?.layerId ?? '';
    this.paneLayers = [...(layout?.paneLayers ?? [])];
    this.bands = [...(layout?.bands ?? [])];
    this.swipePercent = layout?.swipePercent ?? 50;
    this.userLayout = !!layout;
  }

  /** The run folder of a probability layer written by the Training panel (`<run>-probability.tif`). */
  static runOfProbability(source: string): string | null {
    const m = /^(.*\.run)-probability\.tiff?$/i.exec(source);
    return m ? m[1] : null;
  }

  /** Loads the run's description (models, stack and sites of its manifest). */
  async useRun(wb: Workbench, runDir: string): Promise<void> {
    this.runDir = runDir;
    this.runError = null;
    if (!runDir) {
      this.run = null;
      return;
    }
    try {
      this.run = await wb.api.request('describeRun', { runDir });
    } catch (e) {
      this.run = null;
      this.runError = errorText(e);
    }
  }

  /** Explains the window around (x, y) with every model of the run (the site panels). */
  async explainAt(wb: Workbench, x: number, y: number): Promise<void> {
    this.lastClick = { x, y };
    if (!this.runDir) {
      this.siteError = 'choose a trained run first (Compare tab → Run folder)';
      return;
    }
    const seq = ++this.seq;
    this.siteLoading = true;
    this.siteError = null;
    try {
      const r = await wb.api.request('explainSite', { runDir: this.runDir, x, y, layer: this.explainLayer || undefined, classIndex: this.classIndex });
      if (seq === this.seq) this.site = r;
    } catch (e) {
      if (seq === this.seq) this.siteError = errorText(e);
    } finally {
      if (seq === this.seq) this.siteLoading = false;
    }
  }

  /** Recomputes the open site panel after the layer or class changed. */
  async refresh(wb: Workbench): Promise<void> {
    if (this.lastClick && (this.site || this.siteError)) await this.explainAt(wb, this.lastClick.x, this.lastClick.y);
  }

  closeSite(): void {
    this.seq++;
    this.site = null;
    this.siteError = null;
    this.siteLoading = false;
    this.lastClick = null;
  }
}
