import { createCanvas } from '@napi-rs/canvas';
import {
  PDFDocument,
  StandardFonts,
  clip,
  closePath,
  endPath,
  fill,
  lineTo,
  moveTo,
  popGraphicsState,
  pushGraphicsState,
  rectangle,
  rgb,
  setFillingRgbColor,
  setLineJoin,
  setLineWidth,
  setStrokingRgbColor,
  stroke,
  LineJoinStyle,
  type Color,
  type PDFFont,
  type PDFImage,
  type PDFPage,
} from 'pdf-lib';
import { gridExtent, type GridSpec } from '../grid/grid-spec.ts';
import { rampColour, type RampName } from '../figures/colour-ramps.ts';
import { cellPixels, crsLine, formatTick, legendTicks, niceLength } from '../figures/map-figure.ts';
import { applyStretch, type Stretch } from '../figures/stretch.ts';
import { FIG_PAD, PAGE_MARGIN, type PreparedLayout } from './map-layout.ts';
import { pdfSafe } from './pdf-text.ts';

/**
 * The layout page as a vector PDF: title, panel heading, legend (caption, colour bar, tick
 * labels, overlay key), scale bar, north arrow, CRS line and footer are PDF text and paths, the
 * fault / deposit / site overlays are PDF paths clipped to the map frame, and the raster is one
 * image XObject of one pixel per grid cell (the PDF viewer scales it; /Interpolate is left off, so
 * viewers draw crisp cells). Positions follow layoutGeometry (the same as the PNG page), so both
 * formats show the same page.
 *
 * Drawn with pdf-lib's standard Helvetica: no TTF can be embedded without fontkit, which is not
 * installed; the PNG page keeps DejaVu Sans, so glyph shapes differ slightly between the two.
 */
const PT_PER_CSS = 0.75;

interface Pen {
  readonly page: PDFPage;
  readonly font: PDFFont;
  readonly bold: PDFFont;
}

type Align = 'left' | 'center';
type Baseline = 'top' | 'middle' | 'bottom';

function colourOf(hex: string): Color {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new Error(`colour "${hex}" is not #rrggbb`);
  return rgb(parseInt(m[1], 16) / 255, parseInt(m[2], 16) / 255, parseInt(m[3], 16) / 255);
}

const rgbOf = (c: readonly number[]): Color => rgb(c[0] / 255, c[1] / 255, c[2] / 255);

/** CSS px (y down, page top-left origin) → PDF points (y up). */
function pt(page: PDFPage, x: number, y: number): [number, number] {
  return [x * PT_PER_CSS, page.getHeight() - y * PT_PER_CSS];
}

/** Text at a canvas-style anchor (x, y in CSS px), size in CSS px. */
function text(pen: Pen, s: string, x: number, y: number, sizeCss: number, opts: { bold?: boolean; align?: Align; baseline?: Baseline; colour?: Color } = {}): void {
  const font = opts.bold ? pen.bold : pen.font;
  const size = sizeCss * PT_PER_CSS;
  const t = pdfSafe(s, font);
  const w = font.widthOfTextAtSize(t, size);
  // Canvas baselines in terms of Helvetica's metrics: ascent ≈ 0.72 em, descent ≈ 0.21 em.
  const shift = opts.baseline === 'top' ? -0.72 * size : opts.baseline === 'middle' ? -0.36 * size : 0.21 * size;
  const [px, py] = pt(pen.page, x, y);
  pen.page.drawText(t, { x: px - (opts.align === 'center' ? w / 2 : 0), y: py + shift, size, font, color: opts.colour ?? rgb(0.07, 0.07, 0.07) });
}

/** A filled and/or stroked rectangle given in CSS px (top-left, size). */
function box(page: PDFPage, x: number, y: number, w: number, h: number, o: { fill?: Color; fillOpacity?: number; stroke?: Color; lineWidth?: number }): void {
  const [px, py] = pt(page, x, y + h);
  page.drawRectangle({
    x: px,
    y: py,
    width: w * PT_PER_CSS,
    height: h * PT_PER_CSS,
    color: o.fill,
    opacity: o.fillOpacity,
    borderColor: o.stroke,
    borderWidth: o.stroke ? (o.lineWidth ?? 1) * PT_PER_CSS : 0,
  });
}

/** A polygon or polyline as path operators (CSS px vertices). */
function path(page: PDFPage, vertices: readonly (readonly [number, number])[], close: boolean): void {
  vertices.forEach(([x, y], i) => {
    const [px, py] = pt(page, x, y);
    page.pushOperators(i === 0 ? moveTo(px, py) : lineTo(px, py));
  });
  if (close) page.pushOperators(closePath());
}

/** PNG of one pixel per cell (opaque, so pdf-lib embeds it without a soft mask: one image). */
function cellsPng(grid: GridSpec, band: Float32Array, stretch: Stretch, ramp: RampName): Buffer {
  const canvas = createCanvas(grid.cols, grid.rows);
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(grid.cols, grid.rows);
  img.data.set(cellPixels(band, grid.rows * grid.cols, stretch, ramp));
  ctx.putImageData(img, 0, 0);
  return canvas.toBuffer('image/png');
}

function drawImageAt(page: PDFPage, img: PDFImage, x: number, y: number, w: number, h: number): void {
  const [px, py] = pt(page, x, y + h);
  page.drawImage(img, { x: px, y: py, width: w * PT_PER_CSS, height: h * PT_PER_CSS });
}

function drawOverlays(page: PDFPage, l: PreparedLayout): void {
  const g = l.geometry;
  const ext = l.view.extent;
  const sx = g.mapW / (ext.xmax - ext.xmin);
  const sy = g.mapH / (ext.ymax - ext.ymin);
  const X = (x: number): number => g.mapX + (x - ext.xmin) * sx;
  const Y = (y: number): number => g.mapY + (ext.ymax - y) * sy;
  const [cx, cy] = pt(page, g.mapX, g.mapY + g.mapH);
  // Clip to the map frame, as the canvas figure does.
  page.pushOperators(pushGraphicsState(), rectangle(cx, cy, g.mapW * PT_PER_CSS, g.mapH * PT_PER_CSS), clip(), endPath(), setLineJoin(LineJoinStyle.Round));
  for (const ov of l.lines) {
    const c = colourOf(ov.colour ?? '#222222');
    page.pushOperators(setStrokingRgbColor(c.type === 'RGB' ? c.red : 0, c.type === 'RGB' ? c.green : 0, c.type === 'RGB' ? c.blue : 0), setLineWidth(1.6 * PT_PER_CSS));
    for (const line of ov.lines) {
      if (line.length < 2) continue;
      path(page, line.map((p) => [X(p[0]), Y(p[1])] as const), false);
      page.pushOperators(stroke());
    }
  }
  for (const pts of l.points) {
    for (let i = 0; i < pts.x.length; i++) {
      const px = X(pts.x[i]);
      const py = Y(pts.y[i]);
      if (pts.style === 'deposit') {
        // Red triangle with a white rim (map-figure.ts's marker).
        path(page, [[px, py - 6], [px + 5.5, py + 4], [px - 5.5, py + 4]], true);
        page.pushOperators(setFillingRgbColor(227 / 255, 26 / 255, 28 / 255), fill());
        path(page, [[px, py - 6], [px + 5.5, py + 4], [px - 5.5, py + 4]], true);
        page.pushOperators(setStrokingRgbColor(1, 1, 1), setLineWidth(1.5 * PT_PER_CSS), stroke());
      } else {
        const [ex, ey] = pt(page, px, py);
        const c = pts.style === 'positive' ? colourOf('#ff7f00') : colourOf('#1f78b4');
        page.drawCircle({ x: ex, y: ey, size: 3.5 * PT_PER_CSS, color: pts.style === 'positive' ? c : undefined, borderColor: c, borderWidth: 1.5 * PT_PER_CSS });
      }
    }
  }
  page.pushOperators(popGraphicsState());
}

function drawFurniture(pen: Pen, l: PreparedLayout): void {
  const g = l.geometry;
  const ext = l.view.extent;
  const sx = g.mapW / (ext.xmax - ext.xmin);
  // Scale bar: a round length of at most a quarter of the map width, half filled.
  const len = niceLength((ext.xmax - ext.xmin) / 4);
  const barPx = len * sx;
  const bx = g.mapX + 10;
  const by = g.mapY + g.mapH - 14;
  box(pen.page, bx - 4, by - 16, barPx + 48, 24, { fill: rgb(1, 1, 1), fillOpacity: 0.8 });
  box(pen.page, bx, by, barPx / 2, 4, { fill: rgb(0, 0, 0) });
  box(pen.page, bx + barPx / 2, by, barPx / 2, 4, { stroke: rgb(0, 0, 0), lineWidth: 1 });
  text(pen, len >= 1000 ? `${len / 1000} km` : `${len} m`, bx + barPx + 4, by + 6, 10, { baseline: 'bottom' });
  // North arrow (grid north: the maps are north-up).
  const nx = g.mapX + g.mapW - 18;
  const ny = g.mapY + 10;
  box(pen.page, nx - 10, ny - 2, 20, 32, { fill: rgb(1, 1, 1), fillOpacity: 0.8 });
  path(pen.page, [[nx, ny + 2], [nx + 6, ny + 18], [nx, ny + 14], [nx - 6, ny + 18]], true);
  pen.page.pushOperators(setFillingRgbColor(0, 0, 0), fill());
  text(pen, 'N', nx, ny + 19, 9, { bold: true, align: 'center', baseline: 'top' });
}

function drawLegend(pen: Pen, l: PreparedLayout): void {
  const g = l.geometry;
  const lx = g.mapX + g.mapW + 12;
  const barH = Math.min(g.mapH - 30, 220);
  const ly = g.mapY + 18;
  const ramp = l.options.ramp;
  text(pen, l.legend, lx, ly - 4, 11, { baseline: 'bottom' });
  // The colour bar as 1-px vector bands (a second image would be a resampled copy of the ramp).
  for (let i = 0; i < barH; i++) box(pen.page, lx, ly + i, 14, 1.05, { fill: rgbOf(rampColour(ramp, 1 - i / (barH - 1))) });
  box(pen.page, lx + 0.5, ly + 0.5, 13, barH - 1, { stroke: colourOf('#333333'), lineWidth: 1 });
  for (const v of legendTicks(l.stretch)) {
    const ty = ly + (1 - applyStretch(l.stretch, v)) * (barH - 1);
    box(pen.page, lx + 14, ty, 3, 1, { fill: colourOf('#111111') });
    text(pen, formatTick(v), lx + 20, ty, 10, { baseline: 'middle' });
  }
  // Overlay key under the bar: what each symbol on the map is.
  const key: { label: string; draw: (x: number, y: number) => void }[] = [];
  if (l.lines.length > 0) {
    key.push({
      label: 'faults',
      draw: (x, y) => {
        path(pen.page, [[x, y], [x + 12, y]], false);
        pen.page.pushOperators(setStrokingRgbColor(0, 0, 0), setLineWidth(1.6 * PT_PER_CSS), stroke());
      },
    });
  }
  for (const style of ['deposit', 'positive', 'negative'] as const) {
    if (!l.points.some((p) => p.style === style && p.x.length > 0)) continue;
    key.push({
      label: style === 'deposit' ? 'deposits' : style === 'positive' ? 'positive sites' : 'negative sites',
      draw: (x, y) => {
        if (style === 'deposit') {
          path(pen.page, [[x + 6, y - 5], [x + 11, y + 4], [x + 1, y + 4]], true);
          pen.page.pushOperators(setFillingRgbColor(227 / 255, 26 / 255, 28 / 255), fill());
        } else {
          const c = style === 'positive' ? colourOf('#ff7f00') : colourOf('#1f78b4');
          const [ex, ey] = pt(pen.page, x + 6, y);
          pen.page.drawCircle({ x: ex, y: ey, size: 3.5 * PT_PER_CSS, color: style === 'positive' ? c : undefined, borderColor: c, borderWidth: 1.5 * PT_PER_CSS });
        }
      },
    });
  }
  key.forEach((k, i) => {
    const y = ly + barH + 22 + i * 14;
    k.draw(lx, y);
    text(pen, k.label, lx + 16, y, 8.5, { baseline: 'middle' });
  });
}

function drawInset(pen: Pen, l: PreparedLayout, img: PDFImage): void {
  const b = l.geometry.inset;
  box(pen.page, b.x - 3, b.y - 14, b.w + 6, b.h + 17, { fill: rgb(1, 1, 1), stroke: colourOf('#333333'), lineWidth: 1 });
  drawImageAt(pen.page, img, b.x, b.y, b.w, b.h);
  text(pen, 'Overview', b.x, b.y - 2, 9, { baseline: 'bottom' });
  const e = gridExtent(l.grid);
  const clampX = (x: number): number => b.x + ((Math.min(Math.max(x, e.xmin), e.xmax) - e.xmin) / (e.xmax - e.xmin)) * b.w;
  const clampY = (y: number): number => b.y + ((e.ymax - Math.min(Math.max(y, e.ymin), e.ymax)) / (e.ymax - e.ymin)) * b.h;
  const v = l.view.extent;
  const x0 = clampX(v.xmin);
  const y0 = clampY(v.ymax);
  box(pen.page, x0, y0, Math.max(2, clampX(v.xmax) - x0), Math.max(2, clampY(v.ymin) - y0), { stroke: colourOf('#e31a1c'), lineWidth: 1.5 });
}

/** The one-page vector PDF of a prepared layout; its page box is the paper size. */
export async function layoutPdf(l: PreparedLayout, meta: { subject?: string } = {}): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(l.title || l.panelTitle);
  if (meta.subject) doc.setSubject(meta.subject);
  doc.setCreator('GeoAnomaly Workbench');
  doc.setProducer('GeoAnomaly Workbench (pdf-lib)');
  const page = doc.addPage([l.page.widthPt, l.page.heightPt]);
  const pen: Pen = { page, font: await doc.embedFont(StandardFonts.Helvetica), bold: await doc.embedFont(StandardFonts.HelveticaBold) };
  const g = l.geometry;
  const o = l.options;

  if (l.title) text(pen, l.title, g.figX + FIG_PAD, g.figY + 8, 17, { bold: true, baseline: 'top', colour: rgb(0, 0, 0) });
  text(pen, l.panelTitle, g.mapX, g.mapY - 6, 14, { bold: true, baseline: 'bottom' });
  // The mapped cells, once, at one image pixel per cell.
  const mapImg = await doc.embedPng(cellsPng(l.view.grid, l.view.band, l.stretch, o.ramp));
  drawImageAt(page, mapImg, g.mapX, g.mapY, g.mapW, g.mapH);
  drawOverlays(page, l);
  box(page, g.mapX + 0.5, g.mapY + 0.5, g.mapW - 1, g.mapH - 1, { stroke: colourOf('#333333'), lineWidth: 1 });
  drawFurniture(pen, l);
  drawLegend(pen, l);
  text(pen, crsLine(l.view.grid), g.figX + FIG_PAD, g.figY + g.figH - 6, 10, { baseline: 'bottom', colour: colourOf('#444444') });
  if (o.inset) {
    // The whole layer: the same image object when the view is the whole layer, else its own.
    const whole = l.view.grid === l.grid ? mapImg : await doc.embedPng(cellsPng(l.grid, l.fullBand, l.stretch, o.ramp));
    drawInset(pen, l, whole);
  }
  text(pen, l.footer, g.figX + FIG_PAD, l.page.heightCss - PAGE_MARGIN, 9, { baseline: 'bottom', colour: colourOf('#444444') });
  return doc.save();
}
