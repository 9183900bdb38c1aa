import type { BandData, RasterLayerSpec } from '../../../main/api/contract.ts';
import { cellAt } from './sites.ts';

/**
 * Per-pane choices of the compare layouts (2/4 maps, swipe): each pane shows any raster layer
 * and band, so a GK-DCN map can sit beside a CNN map or a map beside its sd_<model> band or a
 * Grad-CAM raster. Pure functions (no Svelte), shared by CompareView and SwipeMap.
 */

/** The layer of pane i: its own choice (an id in `paneLayerIds`), else the shared layer. */
export function paneLayer(rasters: readonly RasterLayerSpec[], shared: RasterLayerSpec | null, paneLayerIds: readonly string[], i: number): RasterLayerSpec | null {
  const id = paneLayerIds[i];
  return (id ? rasters.find((l) => l.id === id) : undefined) ?? shared;
}

/**
 * Default band order of a layer for the panes: the models' probability bands (p_<model>) first,
 * then the other bands, with window_mask (the prediction's valid-window mask, not a map anyone
 * compares) last.
 */
export function paneBandOrder(layer: RasterLayerSpec): string[] {
  const rank = (b: string): number => (/^p_/.test(b) ? 0 : b === 'window_mask' ? 2 : 1);
  return [...layer.bandNames].sort((a, b) => rank(a) - rank(b));
}

/** Default band of pane i: the i-th of paneBandOrder (the last one again when there are fewer). */
export function defaultPaneBand(layer: RasterLayerSpec, i: number): string {
  const order = paneBandOrder(layer);
  return order[Math.min(i, order.length - 1)];
}

/** The band's value in the cell containing (x, y) (band grid CRS = the compare view's), NaN outside or nodata. */
export function bandValueAt(band: BandData, x: number, y: number): number {
  const c = cellAt(band.grid, x, y);
  return c ? band.values[c.row * band.grid.cols + c.col] : Number.NaN;
}

export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return 'no data';
  return Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(4) : v.toPrecision(6);
}
