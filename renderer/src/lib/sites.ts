import type { GridInfo, SiteCentre } from '../../../main/api/contract.ts';

/** What a click (or drag) on the map does while the Sites panel is active. */
export type SiteMode = 'pan' | 'add-positive' | 'add-negative' | 'move' | 'delete';

export interface SiteCounts {
  readonly positive: number;
  readonly negative: number;
}

export function countSites(sites: readonly SiteCentre[]): SiteCounts {
  let positive = 0;
  for (const s of sites) if (s.label === 1) positive++;
  return { positive, negative: sites.length - positive };
}

/** The grid cell containing (x, y), or null outside the grid (same rule as main/grid cellOf). */
export function cellAt(g: GridInfo, x: number, y: number): { row: number; col: number } | null {
  const col = Math.floor((x - g.originX) / g.cellSizeX);
  const row = Math.floor((g.originY - y) / g.cellSizeY);
  return row >= 0 && col >= 0 && row < g.rows && col < g.cols ? { row, col } : null;
}

/** Snaps a point to the centre of its cell: a site is a cell, so it is drawn where it counts. */
export function snapToCell(g: GridInfo, x: number, y: number): { x: number; y: number } | null {
  const c = cellAt(g, x, y);
  if (!c) return null;
  return { x: g.originX + (c.col + 0.5) * g.cellSizeX, y: g.originY - (c.row + 0.5) * g.cellSizeY };
}

/**
 * The outline of the block around a site (radius 1 = 3×3 cells), clipped to the grid like
 * main/sites/site-blocks.ts clips it, as a closed ring [x, y][] in the grid's CRS.
 */
export function blockRing(g: GridInfo, x: number, y: number, radius = 1): number[][] | null {
  const c = cellAt(g, x, y);
  if (!c) return null;
  const c0 = Math.max(0, c.col - radius);
  const c1 = Math.min(g.cols - 1, c.col + radius) + 1;
  const r0 = Math.max(0, c.row - radius);
  const r1 = Math.min(g.rows - 1, c.row + radius) + 1;
  const x0 = g.originX + c0 * g.cellSizeX;
  const x1 = g.originX + c1 * g.cellSizeX;
  const y0 = g.originY - r0 * g.cellSizeY;
  const y1 = g.originY - r1 * g.cellSizeY;
  return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]];
}

/** A new user site id not used in `sites` ("U1", "U2", …). */
export function nextSiteId(sites: readonly SiteCentre[]): string {
  const used = new Set(sites.map((s) => s.id));
  let i = sites.length + 1;
  while (used.has(`U${i}`)) i++;
  return `U${i}`;
}
