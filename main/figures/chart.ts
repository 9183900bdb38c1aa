import type { SKRSContext2D } from '@napi-rs/canvas';
import { newSurface, figureFont, type FigureFormat } from './canvas.ts';
import { niceTicks } from './stretch.ts';

/**
 * Report charts drawn on the same canvas stack as the maps: line and scatter series, arrows with
 * labels (biplots), linear or log axes with nice ticks, a legend. Used for the RPCA biplot, ROC
 * curves, success-rate curves and the log–log density–distance plot in exported reports.
 */
export interface Series {
  readonly kind: 'line' | 'scatter';
  readonly x: readonly number[];
  readonly y: readonly number[];
  readonly label?: string;
  readonly colour?: string;
  readonly dashed?: boolean;
}

export interface Arrow {
  readonly x: number;
  readonly y: number;
  readonly label?: string;
}

export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Arrows from the origin (biplot loadings), in data units. */
  readonly arrows?: readonly Arrow[];
  readonly xLog?: boolean;
  readonly yLog?: boolean;
  readonly xRange?: readonly [number, number];
  readonly yRange?: readonly [number, number];
  /** Same scale on both axes (biplots). */
  readonly equalAspect?: boolean;
  readonly width?: number;
  readonly height?: number;
  readonly dpi?: number;
  /** @default 'png' */
  readonly format?: FigureFormat;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf', '#7f7f7f'];

function extent(values: number[], log: boolean): [number, number] {
  const v = values.filter((x) => Number.isFinite(x) && (!log || x > 0));
  if (v.length === 0) return log ? [1, 10] : [0, 1];
  let lo = Math.min(...v);
  let hi = Math.max(...v);
  if (lo === hi) {
    lo = log ? lo / 2 : lo - 1;
    hi = log ? hi * 2 : hi + 1;
  }
  if (!log) {
    const pad = 0.05 * (hi - lo);
    return [lo - pad, hi + pad];
  }
  return [lo / 1.2, hi * 1.2];
}

function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * Math.pow(10, e);
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  return out;
}

function label(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(0);
  return String(Number(v.toPrecision(3)));
}

export function renderChart(o: ChartOptions): Buffer {
  const font = figureFont();
  const W = o.width ?? 640;
  const H = o.height ?? 460;
  const surface = newSurface(W, H, o.format ?? 'png', o.dpi ?? 150);
  const ctx = surface.ctx;
  const left = 70;
  const right = 20 + (o.series.some((s) => s.label) ? 150 : 0);
  const top = 40;
  const bottom = 55;
  const pw = W - left - right;
  const ph = H - top - bottom;
  const xs = [...o.series.flatMap((s) => s.x), ...(o.arrows ?? []).flatMap((a) => [a.x, 0])];
  const ys = [...o.series.flatMap((s) => s.y), ...(o.arrows ?? []).flatMap((a) => [a.y, 0])];
  let [x0, x1] = o.xRange ?? extent(xs, !!o.xLog);
  let [y0, y1] = o.yRange ?? extent(ys, !!o.yLog);
  if (o.equalAspect && !o.xLog && !o.yLog) {
    const ux = (x1 - x0) / pw;
    const uy = (y1 - y0) / ph;
    const u = Math.max(ux, uy);
    const cx = (x0 + x1) / 2;
    const cy = (y0 + y1) / 2;
    [x0, x1] = [cx - (u * pw) / 2, cx + (u * pw) / 2];
    [y0, y1] = [cy - (u * ph) / 2, cy + (u * ph) / 2];
  }
  const tx = (v: number): number => (o.xLog ? Math.log10(v) : v);
  const ty = (v: number): number => (o.yLog ? Math.log10(v) : v);
  const X = (v: number): number => left + ((tx(v) - tx(x0)) / (tx(x1) - tx(x0))) * pw;
  const Y = (v: number): number => top + ph - ((ty(v) - ty(y0)) / (ty(y1) - ty(y0))) * ph;

  ctx.fillStyle = '#000';
  ctx.font = `bold 15px "${font}"`;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  ctx.fillText(o.title, left, 10);
  // Grid and ticks.
  ctx.font = `11px "${font}"`;
  ctx.strokeStyle = '#e3e3e3';
  ctx.lineWidth = 1;
  const xt = o.xLog ? logTicks(x0, x1) : niceTicks(x0, x1, 6);
  const yt = o.yLog ? logTicks(y0, y1) : niceTicks(y0, y1, 6);
  ctx.fillStyle = '#333';
  for (const v of xt) {
    const px = X(v);
    ctx.beginPath();
    ctx.moveTo(px, top);
    ctx.lineTo(px, top + ph);
    ctx.stroke();
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.fillText(label(v), px, top + ph + 5);
  }
  for (const v of yt) {
    const py = Y(v);
    ctx.beginPath();
    ctx.moveTo(left, py);
    ctx.lineTo(left + pw, py);
    ctx.stroke();
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ctx.fillText(label(v), left - 6, py);
  }
  ctx.strokeStyle = '#333';
  ctx.strokeRect(left + 0.5, top + 0.5, pw, ph);
  ctx.font = `12px "${font}"`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  ctx.fillText(o.xLabel, left + pw / 2, H - 10);
  ctx.save();
  ctx.translate(16, top + ph / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'top';
  ctx.fillText(o.yLabel, 0, 0);
  ctx.restore();

  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, pw, ph);
  ctx.clip();
  o.series.forEach((s, i) => drawSeries(ctx, s, s.colour ?? PALETTE[i % PALETTE.length], X, Y));
  for (const a of o.arrows ?? []) {
    const ax = X(0);
    const ay = Y(0);
    const bx = X(a.x);
    const by = Y(a.y);
    ctx.strokeStyle = '#b2182b';
    ctx.fillStyle = '#b2182b';
    ctx.lineWidth = 1.3;
    ctx.beginPath();
    ctx.moveTo(ax, ay);
    ctx.lineTo(bx, by);
    ctx.stroke();
    const ang = Math.atan2(by - ay, bx - ax);
    ctx.beginPath();
    ctx.moveTo(bx, by);
    ctx.lineTo(bx - 7 * Math.cos(ang - 0.4), by - 7 * Math.sin(ang - 0.4));
    ctx.lineTo(bx - 7 * Math.cos(ang + 0.4), by - 7 * Math.sin(ang + 0.4));
    ctx.closePath();
    ctx.fill();
    if (a.label) {
      ctx.font = `10px "${font}"`;
      ctx.textAlign = bx >= ax ? 'left' : 'right';
      ctx.textBaseline = 'middle';
      ctx.fillText(a.label, bx + (bx >= ax ? 3 : -3), by);
    }
  }
  ctx.restore();

  // Legend.
  let ly = top + 4;
  ctx.font = `11px "${font}"`;
  o.series.forEach((s, i) => {
    if (!s.label) return;
    const c = s.colour ?? PALETTE[i % PALETTE.length];
    ctx.strokeStyle = c;
    ctx.fillStyle = c;
    const lx = left + pw + 12;
    if (s.kind === 'line') {
      ctx.lineWidth = 2;
      ctx.setLineDash(s.dashed ? [5, 4] : []);
      ctx.beginPath();
      ctx.moveTo(lx, ly + 6);
      ctx.lineTo(lx + 22, ly + 6);
      ctx.stroke();
      ctx.setLineDash([]);
    } else {
      ctx.beginPath();
      ctx.arc(lx + 11, ly + 6, 3, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.fillStyle = '#222';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.fillText(s.label, lx + 28, ly + 6);
    ly += 18;
  });
  return surface.encode(o.dpi ?? 150);
}

function drawSeries(ctx: SKRSContext2D, s: Series, colour: string, X: (v: number) => number, Y: (v: number) => number): void {
  ctx.strokeStyle = colour;
  ctx.fillStyle = colour;
  if (s.kind === 'line') {
    ctx.lineWidth = 2;
    ctx.setLineDash(s.dashed ? [5, 4] : []);
    ctx.beginPath();
    let started = false;
    for (let i = 0; i < s.x.length; i++) {
      if (!Number.isFinite(s.x[i]) || !Number.isFinite(s.y[i])) continue;
      if (!started) ctx.moveTo(X(s.x[i]), Y(s.y[i]));
      else ctx.lineTo(X(s.x[i]), Y(s.y[i]));
      started = true;
    }
    ctx.stroke();
    ctx.setLineDash([]);
  } else {
    ctx.globalAlpha = 0.55;
    for (let i = 0; i < s.x.length; i++) {
      if (!Number.isFinite(s.x[i]) || !Number.isFinite(s.y[i])) continue;
      ctx.beginPath();
      ctx.arc(X(s.x[i]), Y(s.y[i]), 2.2, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }
}
