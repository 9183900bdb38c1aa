/**
 * The Compare tab's layout as the project file keeps it (issue #18 "everything the user made is
 * saved"): which layer and band each pane shows, the layout mode and the swipe divider. Types and
 * a pure validator only, no Node imports, so the contract and the renderer can import it.
 * Layers are named by their layer ids (not paths), so moving the project folder keeps the layout.
 * The types live in main/types/compare-layout.ts (the project document, below project/, holds
 * one); their names stay importable from here.
 */

import { COMPARE_MODES, type CompareLayout, type CompareMode } from '../types/compare-layout.ts';
export { COMPARE_MODES, type CompareLayout, type CompareMode };

/** At most 4 panes; a longer list is not a layout this workbench wrote. */
const MAX_PANES = 4;

const stringList = (v: unknown): v is string[] => Array.isArray(v) && v.length <= MAX_PANES && v.every((s) => typeof s === 'string');

/** Why `value` is not a compare layout (a phrase for InvalidFileError), or null when it is one. */
export function compareLayoutProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'its "compare" layout is not an object';
  const c = value as Record<string, unknown>;
  if (!COMPARE_MODES.includes(c.mode as CompareMode)) return `its compare layout mode is ${JSON.stringify(c.mode) ?? 'missing'}, expected 2, 4 or "swipe"`;
  if (typeof c.layerId !== 'string') return 'its compare layout has no "layerId" (a layer id, or "" for the default)';
  if (!stringList(c.paneLayers)) return `its compare layout "paneLayers" must be a list of at most ${MAX_PANES} layer ids`;
  if (!stringList(c.bands)) return `its compare layout "bands" must be a list of at most ${MAX_PANES} band names`;
  if (typeof c.swipePercent !== 'number' || !(c.swipePercent >= 0 && c.swipePercent <= 100)) return `its compare layout "swipePercent" is ${JSON.stringify(c.swipePercent) ?? 'missing'}, expected a number in 0…100`;
  return null;
}

/** Same layout (the renderer records a layout only when it changed). */
export function sameCompareLayout(a: CompareLayout | null | undefined, b: CompareLayout | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  const eq = (x: readonly string[], y: readonly string[]): boolean => x.length === y.length && x.every((v, i) => v === y[i]);
  return a.mode === b.mode && a.layerId === b.layerId && a.swipePercent === b.swipePercent && eq(a.paneLayers, b.paneLayers) && eq(a.bands, b.bands);
}
