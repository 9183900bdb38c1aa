import type { SKRSContext2D } from '@napi-rs/canvas';
import type { GridSpec } from '../grid/grid-spec.ts';
import { gridExtent } from '../grid/grid-spec.ts';
import { createCanvas } from '@napi-rs/canvas';
import { newSurface, figureFont, type FigureFormat } from './canvas.ts';
import { rampColour, rampLut, cssColour, type RampName } from './colour-ramps.ts';
import { applyStretch, computeStretch, niceTicks, stretchValueAt, type Stretch, type StretchOptions } from './stretch.ts';

/**
 * Report-ready map figures: a raster in a colour ramp with legend (units), title, deposits, sites
 * and fault overlays, a scale bar, a north arrow and the CRS — and panels of several maps side by
 * side (the paper's CNN vs DCN / GK-CNN vs GK-DCN layouts). Drawn with @napi-rs/canvas.
 */
export interface PointOverlay {
  readonly x: readonly number[];
  readonly y: readonly number[];
  /** 'deposit' = red triangle; 'positive'/'negative' = training sites. */
  readonly style: 'deposit' | 'positive' | 'negative';
  readonly label?: string;
}

export interface LineOverlay {
  readonly lines: readonly (readonly (readonly number[])[])[];
  readonly colour?: string;
  readonly label?: string;
}

export interface ArrowOverlay {
  /** Arrow tails and vectors in map units (metres). */
  readonly x: readonly number[];
  readonly y: readonly number[];
  readonly dx: readonly number[];
  readonly dy: readonly number[];
  readonly colour?: string;
}

export interface MapPanel {
  readonly grid: GridSpec;
  readonly band: Float32Array;
  readonly title: string;
  readonly ramp?: RampName;
  readonly stretch?: StretchOptions | Stretch;
  /** Legend caption, with units (e.g. "P(deposit)", "Au (ppb)"). */
  readonly legend?: string;
  readonly points?: readonly PointOverlay[];
  readonly lines?: readonly LineOverlay[];
  readonly arrows?: readonly ArrowOverlay[];
}

export interface FigureOptions {
  readonly title?: string;
  /** Columns of panels. @default min(panels, 2) */
  readonly columns?: number;
  /** Width of one panel's map area in CSS pixels at 96 DPI. @default 420 */
  readonly panelWidth?: number;
  /** Output resolution. @default 150 */
  readonly dpi?: number;
  /** Draw scale bar and north arrow. @default true */
  readonly mapFurniture?: boolean;
  /** PNG, or SVG with vector overlays, text and legend (rasters embedded as images). @default 'png' */
  readonly format?: FigureFormat;
}

const LEGEND_W = 78;
const TITLE_H = 26;
const FOOTER_H = 20;
const PAD = 12;

function isStretch(s: StretchOptions | Stretch | undefined): s is Stretch {
  return !!s && 'min' in s && 'max' in s && 'kind' in s;
}

/** Legend tick label: 3 significant digits, exponent form for very small or large values. */
export function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}

/** Scale-bar length: the largest 1, 2 or 5 × 10^k not above maxMetres. */
export function niceLength(maxMetres: number): number {
  const mag = Math.pow(10, Math.floor(Math.log10(maxMetres)));
  return [5, 2, 1].map((m) => m * mag).find((l) => l <= maxMetres) ?? mag;
}

/** The cells of a panel as RGBA, one pixel per cell (NaN = light grey), in the panel's ramp. */
export function cellPixels(band: ArrayLike<number>, count: number, stretch: Stretch, ramp: RampName): Uint8ClampedArray {
  const lut = rampLut(ramp);
  const out = new Uint8ClampedArray(count * 4);
  for (let i = 0; i < count; i++) {
    const t = applyStretch(stretch, band[i]);
    const o = i * 4;
    if (Number.isNaN(t)) {
      out[o] = 230;
      out[o + 1] = 230;
      out[o + 2] = 230;
    } else {
      const li = Math.round(t * 255) * 4;
      out[o] = lut[li];
      out[o + 1] = lut[li + 1];
      out[o + 2] = lut[li + 2];
    }
    out[o + 3] = 255;
  }
  return out;
}

/** Legend ticks of a stretch: five log-spaced values for log, else nice round steps. */
export function legendTicks(stretch: Stretch): number[] {
  return stretch.kind === 'log' ? [0, 0.25, 0.5, 0.75, 1].map((t) => stretchValueAt(stretch, t)) : niceTicks(stretch.min, stretch.max, 5);
}

function drawRaster(ctx: SKRSContext2D, p: MapPanel, stretch: Stretch, x0: number, y0: number, w: number, h: number): void {
  const { rows, cols } = p.grid;
  // One pixel per cell, then scaled without smoothing: crisp cells at any size and DPI
  // (drawImage honours the context's DPI transform; putImageData would not).
  const cells = createCanvas(cols, rows);
  const cctx = cells.getContext('2d');
  const img = cctx.createImageData(cols, rows);
  img.data.set(cellPixels(p.band, rows * cols, stretch, p.ramp ?? 'viridis'));
  cctx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(cells, x0, y0, w, h);
  ctx.imageSmoothingEnabled = true;
}

function drawPanel(ctx: SKRSContext2D, p: MapPanel, left: number, top: number, mapW: number, mapH: number, furniture: boolean, font: string): void {
  const stretch = isStretch(p.stretch) ? p.stretch : computeStretch(p.band, p.stretch);
  const ext = gridExtent(p.grid);
  const sx = mapW / (ext.xmax - ext.xmin);
  const sy = mapH / (ext.ymax - ext.ymin);
  const X = (x: number): number => left + (x - ext.xmin) * sx;
  const Y = (y: number): number => top + (ext.ymax - y) * sy;

  ctx.fillStyle = '#111';
  ctx.font = `bold 14px "${font}"`;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'bottom';
  ctx.fillText(p.title, left, top - 6);
  drawRaster(ctx, p, stretch, left, top, mapW, mapH);

  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, mapW, mapH);
  ctx.clip();
  for (const l of p.lines ?? []) {
    ctx.strokeStyle = l.colour ?? '#222';
    ctx.lineWidth = 1.6;
    for (const line of l.lines) {
      ctx.beginPath();
      line.forEach((pt, i) => (i === 0 ? ctx.moveTo(X(pt[0]), Y(pt[1])) : ctx.lineTo(X(pt[0]), Y(pt[1]))));
      ctx.stroke();
    }
  }
  for (const a of p.arrows ?? []) {
    ctx.strokeStyle = a.colour ?? '#fff';
    ctx.fillStyle = a.colour ?? '#fff';
    ctx.lineWidth = 1.2;
    for (let i = 0; i < a.x.length; i++) {
      const x1 = X(a.x[i]);
      const y1 = Y(a.y[i]);
      const x2 = X(a.x[i] + a.dx[i]);
      const y2 = Y(a.y[i] + a.dy[i]);
      ctx.beginPath();
      ctx.moveTo(x1, y1);
      ctx.lineTo(x2, y2);
      ctx.stroke();
      const ang = Math.atan2(y2 - y1, x2 - x1);
      const hl = Math.min(6, 0.4 * Math.hypot(x2 - x1, y2 - y1));
      ctx.beginPath();
      ctx.moveTo(x2, y2);
      ctx.lineTo(x2 - hl * Math.cos(ang - 0.45), y2 - hl * Math.sin(ang - 0.45));
      ctx.lineTo(x2 - hl * Math.cos(ang + 0.45), y2 - hl * Math.sin(ang + 0.45));
      ctx.closePath();
      ctx.fill();
    }
  }
  for (const pts of p.points ?? []) {
    for (let i = 0; i < pts.x.length; i++) {
      const cx = X(pts.x[i]);
      const cy = Y(pts.y[i]);
      ctx.lineWidth = 1.5;
      if (pts.style === 'deposit') {
        ctx.fillStyle = '#e31a1c';
        ctx.strokeStyle = '#fff';
        ctx.beginPath();
        ctx.moveTo(cx, cy - 6);
        ctx.lineTo(cx + 5.5, cy + 4);
        ctx.lineTo(cx - 5.5, cy + 4);
        ctx.closePath();
        ctx.fill();
        ctx.stroke();
      } else {
        ctx.strokeStyle = pts.style === 'positive' ? '#ff7f00' : '#1f78b4';
        ctx.fillStyle = pts.style === 'positive' ? '#ff7f00' : 'rgba(0,0,0,0)';
        ctx.beginPath();
        ctx.arc(cx, cy, 3.5, 0, 2 * Math.PI);
        if (pts.style === 'positive') ctx.fill();
        ctx.stroke();
      }
    }
  }
  ctx.restore();
  ctx.strokeStyle = '#333';
  ctx.lineWidth = 1;
  ctx.strokeRect(left + 0.5, top + 0.5, mapW - 1, mapH - 1);

  if (furniture) {
    // Scale bar: a round length of at most a quarter of the map width.
    const len = niceLength((ext.xmax - ext.xmin) / 4);
    const barPx = len * sx;
    const bx = left + 10;
    const by = top + mapH - 14;
    ctx.fillStyle = 'rgba(255,255,255,0.8)';
    ctx.fillRect(bx - 4, by - 16, barPx + 8 + 40, 24);
    ctx.fillStyle = '#000';
    ctx.fillRect(bx, by, barPx / 2, 4);
    ctx.strokeStyle = '#000';
    ctx.strokeRect(bx + barPx / 2, by, barPx / 2, 4);
    ctx.font = `10px "${font}"`;
    ctx.textBaseline = 'bottom';
    ctx.textAlign = 'left';
    ctx.fillText(len >= 1000 ? `${len / 1000} km` : `${len} m`, bx + barPx + 4, by + 6);
    // North arrow (grid north: the maps are north-up).
    const nx = left + mapW - 18;
    const ny = top + 10;
    ctx.fillStyle = 'rgba(255,255,255,0.8)';
    ctx.fillRect(nx - 10, ny - 2, 20, 32);
    ctx.fillStyle = '#000';
    ctx.beginPath();
    ctx.moveTo(nx, ny + 2);
    ctx.lineTo(nx + 6, ny + 18);
    ctx.lineTo(nx, ny + 14);
    ctx.lineTo(nx - 6, ny + 18);
    ctx.closePath();
    ctx.fill();
    ctx.font = `bold 9px "${font}"`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.fillText('N', nx, ny + 19);
  }

  // Legend: colour bar with ticks and the caption (units).
  const lx = left + mapW + 12;
  const barH = Math.min(mapH - 30, 220);
  const ly = top + 18;
  ctx.font = `11px "${font}"`;
  ctx.fillStyle = '#111';
  ctx.textAlign = 'left';
  ctx.textBaseline = 'bottom';
  ctx.fillText(p.legend ?? '', lx, ly - 4);
  for (let i = 0; i < barH; i++) {
    ctx.fillStyle = cssColour(rampColour(p.ramp ?? 'viridis', 1 - i / (barH - 1)));
    ctx.fillRect(lx, ly + i, 14, 1);
  }
  ctx.strokeStyle = '#333';
  ctx.strokeRect(lx + 0.5, ly + 0.5, 13, barH - 1);
  ctx.fillStyle = '#111';
  ctx.textBaseline = 'middle';
  ctx.font = `10px "${font}"`;
  for (const v of legendTicks(stretch)) {
    const t = applyStretch(stretch, v);
    const ty = ly + (1 - t) * (barH - 1);
    ctx.fillRect(lx + 14, ty, 3, 1);
    ctx.fillText(formatTick(v), lx + 20, ty);
  }
}

/** The CRS line under a map: "WGS 84 / UTM zone 45N · cell 1000 × 1000 m". */
export function crsLine(g: GridSpec): string {
  return `${g.crs?.name ?? 'CRS not declared'} · cell ${g.cellSizeX} × ${g.cellSizeY}${g.crs && !g.crs.geographic ? ' m' : ''}`;
}

/** Renders one or more map panels into one PNG (or SVG). */
export function renderMapFigure(panels: readonly MapPanel[], options: FigureOptions = {}): Buffer {
  const font = figureFont();
  const cols = Math.max(1, Math.min(options.columns ?? Math.min(panels.length, 2), panels.length));
  const rowsN = Math.ceil(panels.length / cols);
  const mapW = options.panelWidth ?? 420;
  const g0 = panels[0].grid;
  const e0 = gridExtent(g0);
  const mapH = Math.round((mapW * (e0.ymax - e0.ymin)) / (e0.xmax - e0.xmin));
  const cellW = mapW + LEGEND_W + PAD * 2;
  const cellH = mapH + TITLE_H + PAD;
  const headH = options.title ? 34 : 6;
  const width = cols * cellW + PAD;
  const height = headH + rowsN * cellH + FOOTER_H + PAD;
  const surface = newSurface(width, height, options.format ?? 'png', options.dpi ?? 150);
  const ctx = surface.ctx;
  if (options.title) {
    ctx.fillStyle = '#000';
    ctx.font = `bold 17px "${font}"`;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    ctx.fillText(options.title, PAD, 8);
  }
  panels.forEach((p, i) => {
    const r = Math.floor(i / cols);
    const c = i % cols;
    drawPanel(ctx, p, PAD + c * cellW, headH + TITLE_H + r * cellH, mapW, mapH, options.mapFurniture ?? true, font);
  });
  ctx.fillStyle = '#444';
  ctx.font = `10px "${font}"`;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'bottom';
  ctx.fillText(crsLine(g0), PAD, height - 6);
  return surface.encode(options.dpi ?? 150);
}
