import type OlMap from 'ol/Map.js';

/**
 * Keyboard control of the focused map canvas. OpenLayers' own KeyboardPan/KeyboardZoom listen
 * on the map's inner viewport, which cannot take focus, so the map's target element (tabindex 0)
 * handles the keys here instead, without animation so each key press is one exact step.
 */

/** Fraction of the visible width/height one arrow key press pans. */
const PAN_FRACTION = 0.2;

export const MAP_KEY_HELP = 'Map keys: arrows pan · + / − zoom · P positive site · N negative site (at the cursor cell, or the map centre) · click a site to select it, Delete removes it · Ctrl+Z / Ctrl+Shift+Z undo / redo';

export interface MapKeyActions {
  /** Places a site of class `label` at map coordinate (x, y). */
  place(x: number, y: number, label: 0 | 1): void;
  /** Removes the selected site (if any). */
  removeSelected(): void;
}

/** Handles one keydown on the map element; returns true when the key was the map's (default prevented). */
export function handleMapKey(map: OlMap, e: KeyboardEvent, cursorPixel: readonly [number, number] | null, actions: MapKeyActions): boolean {
  if (e.ctrlKey || e.metaKey || e.altKey) return false; // Ctrl+Z etc. are the window's (App.svelte)
  const view = map.getView();
  const size = map.getSize();
  const centre = view.getCenter();
  const res = view.getResolution();
  if (!size || !centre || res === undefined) return false;
  const pan = (dx: number, dy: number): void => view.setCenter([centre[0] + dx * size[0] * res * PAN_FRACTION, centre[1] + dy * size[1] * res * PAN_FRACTION]);
  switch (e.key) {
    case 'ArrowLeft': pan(-1, 0); break;
    case 'ArrowRight': pan(1, 0); break;
    case 'ArrowUp': pan(0, 1); break;
    case 'ArrowDown': pan(0, -1); break;
    case '+': case '=': view.setResolution(res / 2); break;
    case '-': case '_': view.setResolution(res * 2); break;
    case 'p': case 'P': case 'n': case 'N': {
      const c = cursorPixel ? map.getCoordinateFromPixel([cursorPixel[0], cursorPixel[1]]) : centre;
      if (!c) return false;
      actions.place(c[0], c[1], e.key.toLowerCase() === 'p' ? 1 : 0);
      break;
    }
    case 'Delete': case 'Backspace': actions.removeSelected(); break;
    default: return false;
  }
  e.preventDefault();
  return true;
}
