import { statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import type { Feature } from 'geojson';
import { InvalidOptionError } from '../errors.ts';
import { gridExtent, type Extent, type GridSpec } from '../grid/grid-spec.ts';
import type { Crs } from '../grid/crs.ts';
import { readGeoTiffInfo, readStack } from '../io/geotiff-read.ts';
import { layerPoints, readVector, type VectorReadOptions } from '../io/vector.ts';
import { figureFont, newSurface } from '../figures/canvas.ts';
import { rampLut, type RampName } from '../figures/colour-ramps.ts';
import { renderMapFigure, type LineOverlay, type PointOverlay } from '../figures/map-figure.ts';
import { applyStretch, computeStretch, type Stretch, type StretchKind } from '../figures/stretch.ts';
import { report, throwIfCancelled, type JobContext } from '../jobs/job.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { UnknownLayerError } from './export-errors.ts';
import { layoutPdf } from './layout-pdf.ts';
import { bandDisplayName, rasterDisplayName, type RasterNaming } from '../util/display-names.ts';
import { checkDpi, pageOf, pagePixels, type Orientation, type Page, type PaperName } from './paper.ts';

/**
 * A map layout for reports: one page of a chosen paper size at a chosen DPI holding the map
 * figure of main/figures/map-figure.ts (title, raster in a colour ramp, legend with units, scale
 * bar, north arrow, CRS line, deposit / site / fault overlays), an optional inset (the whole
 * layer with the exported view outlined in red) and a footer naming source, band, paper and DPI.
 * Written as PNG (pHYs = the DPI, so the page prints at its paper size) or as a one-page vector
 * PDF whose page box is the paper size (layout-pdf.ts).
 */
export interface MapLayoutOptions {
  /** Raster layer: a GeoTIFF or a folder of single-band GeoTIFFs. */
  readonly raster: string;
  /** @default the first band */
  readonly band?: string;
  /** Page title. @default the layer's readable name (util/display-names.ts), else "<file name> — <band>" */
  readonly title?: string;
  /** Legend units, e.g. "ppm". @default "probability" for p_* bands, else none */
  readonly units?: string;
  /** The app's ramp names are accepted too: turbo is drawn as 'hot', rdylbu as 'rdbu' (nearest figure ramps). @default 'viridis' */
  readonly ramp?: string;
  /** @default 'percentile' */
  readonly stretch?: StretchKind;
  /** @default [2, 98] */
  readonly percentiles?: readonly [number, number];
  /** @default 'A4' */
  readonly paper?: PaperName;
  /** @default 'landscape' */
  readonly orientation?: Orientation;
  /** @default 150 */
  readonly dpi?: number;
  /** Overview of the whole layer with the view outlined. @default false */
  readonly inset?: boolean;
  /** Map extent to show (layer CRS units). @default the whole layer */
  readonly extent?: Extent;
  /** Deposit points (GeoJSON / Shapefile), drawn as red triangles. */
  readonly deposits?: string;
  /** Fault lines (GeoJSON / Shapefile), drawn black. */
  readonly faults?: string;
  /** Training sites (sites GeoJSON): block centres, positives filled orange, negatives blue rings. */
  readonly sites?: string;
  /** Layer of each overlay that is a multi-layer file (GeoPackage), and the flag quoted in errors. */
  readonly overlayLayers?: Readonly<Partial<Record<'deposits' | 'faults' | 'sites', { readonly layer?: string; readonly layerFlag: string }>>>;
  /** CRS of the overlay layers that declare none (layout --crs); declared ones are reprojected onto the raster's. */
  readonly crs?: Crs;
}

export type CheckedLayoutOptions = Required<Omit<MapLayoutOptions, 'band' | 'title' | 'units' | 'extent' | 'deposits' | 'faults' | 'sites' | 'overlayLayers' | 'crs'>> &
  Pick<MapLayoutOptions, 'band' | 'title' | 'units' | 'extent' | 'deposits' | 'faults' | 'sites' | 'overlayLayers' | 'crs'> & { readonly ramp: RampName };

const RAMP_ALIASES: Readonly<Record<string, RampName>> = {
  viridis: 'viridis',
  magma: 'magma',
  cividis: 'cividis',
  rdbu: 'rdbu',
  greys: 'greys',
  hot: 'hot',
  turbo: 'hot',
  rdylbu: 'rdbu',
};

export function checkLayoutOptions(o: MapLayoutOptions): CheckedLayoutOptions {
  const ramp = RAMP_ALIASES[(o.ramp ?? 'viridis').toLowerCase()];
  if (!ramp) throw new InvalidOptionError(`colour ramp "${o.ramp}" is not one of ${Object.keys(RAMP_ALIASES).join(', ')}`, { ramp: o.ramp });
  const stretch = o.stretch ?? 'percentile';
  if (!['minmax', 'percentile', 'log'].includes(stretch)) throw new InvalidOptionError(`stretch "${stretch}" must be minmax, percentile or log`, { stretch });
  const percentiles = o.percentiles ?? [2, 98];
  if (!(percentiles[0] >= 0 && percentiles[1] <= 100 && percentiles[0] < percentiles[1])) {
    throw new InvalidOptionError(`percentiles ${percentiles.join('–')} must satisfy 0 ≤ low < high ≤ 100`, { percentiles });
  }
  const page = pageOf(o.paper ?? 'A4', o.orientation ?? 'landscape');
  if (o.extent && !(o.extent.xmax > o.extent.xmin && o.extent.ymax > o.extent.ymin)) {
    throw new InvalidOptionError(`extent ${JSON.stringify(o.extent)} is empty: xmax must exceed xmin and ymax ymin`, { extent: o.extent });
  }
  return { ...o, ramp, stretch, percentiles, paper: page.paper, orientation: page.orientation, dpi: checkDpi(o.dpi ?? 150), inset: o.inset ?? false };
}

/** Parses "xmin,ymin,xmax,ymax". */
export function parseExtent(text: string): Extent {
  const v = text.split(/[\s,;]+/).filter(Boolean).map(Number);
  if (v.length !== 4 || v.some((x) => !Number.isFinite(x))) throw new InvalidOptionError(`extent "${text}" must be four numbers: xmin,ymin,xmax,ymax`, { extent: text });
  return { xmin: v[0], ymin: v[1], xmax: v[2], ymax: v[3] };
}

// Layout constants of main/figures/map-figure.ts (one panel): the map frame's place inside the
// figure, needed to put the inset in the frame's corner and to find the legend box.
export const FIG_PAD = 12;
const FIG_LEGEND_W = 78;
const FIG_TITLE_H = 26;
const FIG_FOOTER_H = 20;
const figHeadH = (hasTitle: boolean): number => (hasTitle ? 34 : 6);
/** Page margin and the footer line below the figure, CSS px. */
export const PAGE_MARGIN = (10 / 25.4) * 96;
const PAGE_FOOTER = 18;

export interface LayoutGeometry {
  /** Figure's top-left on the page and its size, CSS px. */
  readonly figX: number;
  readonly figY: number;
  readonly figW: number;
  readonly figH: number;
  /** The map frame on the page, CSS px. */
  readonly mapX: number;
  readonly mapY: number;
  readonly mapW: number;
  readonly mapH: number;
  /** The legend (caption, colour bar and tick labels) on the page, CSS px. */
  readonly legend: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  /** The inset frame on the page, CSS px (also when no inset is drawn: where it would go). */
  readonly inset: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
}

/**
 * Where everything goes on the page: the largest map (in whole CSS px) whose figure fits
 * inside the margins above the footer, centred horizontally. `aspect` = map height / width.
 */
export function layoutGeometry(page: Page, aspect: number, hasTitle: boolean, fullAspect = aspect): LayoutGeometry {
  const availW = page.widthCss - 2 * PAGE_MARGIN;
  const availH = page.heightCss - 2 * PAGE_MARGIN - PAGE_FOOTER;
  const fixedW = FIG_LEGEND_W + 3 * FIG_PAD;
  const fixedH = figHeadH(hasTitle) + FIG_TITLE_H + 2 * FIG_PAD + FIG_FOOTER_H;
  const mapW = Math.floor(Math.min(availW - fixedW, (availH - fixedH) / aspect));
  if (mapW < 60) throw new InvalidOptionError(`the map does not fit on the page (${Math.round(mapW)} px wide); choose a larger paper or the other orientation`, { mapW });
  const mapH = Math.round(mapW * aspect);
  const figW = mapW + fixedW;
  const figH = fixedH + mapH;
  const figX = Math.round((page.widthCss - figW) / 2);
  const figY = Math.round(PAGE_MARGIN);
  const mapX = figX + FIG_PAD;
  const mapY = figY + figHeadH(hasTitle) + FIG_TITLE_H;
  const barH = Math.min(mapH - 30, 220);
  let iw = Math.round(mapW * 0.28);
  let ih = Math.round(iw * fullAspect);
  if (ih > mapH * 0.4) {
    ih = Math.round(mapH * 0.4);
    iw = Math.round(ih / fullAspect);
  }
  return {
    figX,
    figY,
    figW,
    figH,
    mapX,
    mapY,
    mapW,
    mapH,
    legend: { x: mapX + mapW + 12, y: mapY, w: FIG_LEGEND_W - 6, h: 18 + barH + 6 },
    inset: { x: mapX + mapW - iw - 8, y: mapY + mapH - ih - 8, w: iw, h: ih },
  };
}

/** The cells of `grid` that intersect `extent`, as a sub-grid and its row/column window. */
export function cropWindow(grid: GridSpec, extent: Extent): { grid: GridSpec; row0: number; col0: number } {
  const c0 = Math.max(0, Math.floor((extent.xmin - grid.originX) / grid.cellSizeX));
  const c1 = Math.min(grid.cols, Math.ceil((extent.xmax - grid.originX) / grid.cellSizeX));
  const r0 = Math.max(0, Math.floor((grid.originY - extent.ymax) / grid.cellSizeY));
  const r1 = Math.min(grid.rows, Math.ceil((grid.originY - extent.ymin) / grid.cellSizeY));
  if (c1 <= c0 || r1 <= r0) {
    const e = gridExtent(grid);
    throw new InvalidOptionError(
      `the extent ${extent.xmin},${extent.ymin},${extent.xmax},${extent.ymax} does not overlap the layer (${e.xmin},${e.ymin},${e.xmax},${e.ymax}); pan the map onto the layer or export the whole layer`,
      { extent },
    );
  }
  return {
    grid: { ...grid, originX: grid.originX + c0 * grid.cellSizeX, originY: grid.originY - r0 * grid.cellSizeY, rows: r1 - r0, cols: c1 - c0 },
    row0: r0,
    col0: c0,
  };
}

function cropBand(band: Float32Array, grid: GridSpec, win: { grid: GridSpec; row0: number; col0: number }): Float32Array {
  const out = new Float32Array(win.grid.rows * win.grid.cols);
  for (let r = 0; r < win.grid.rows; r++) {
    const from = (win.row0 + r) * grid.cols + win.col0;
    out.set(band.subarray(from, from + win.grid.cols), r * win.grid.cols);
  }
  return out;
}

function faultLines(features: readonly Feature[]): number[][][] {
  const lines: number[][][] = [];
  for (const f of features) {
    const g = f.geometry;
    if (g.type === 'LineString') lines.push(g.coordinates);
    else if (g.type === 'MultiLineString' || g.type === 'Polygon') lines.push(...g.coordinates);
    else if (g.type === 'MultiPolygon') for (const p of g.coordinates) lines.push(...p);
  }
  return lines;
}

async function siteOverlays(file: string, grid: GridSpec, read: Pick<VectorReadOptions, 'assumeCrs' | 'log'>, choice?: { readonly layer?: string; readonly layerFlag: string }): Promise<PointOverlay[]> {
  const layer = await readVector(file, { targetCrs: grid.crs ?? undefined, grid, ...read, ...choice });
  // Sites files hold every cell of each 3×3 block; the centres are enough on a page.
  const hasCentres = layer.features.some((f) => f.properties?.centre === true);
  const pick = layer.features.filter((f) => f.geometry.type === 'Point' && (!hasCentres || f.properties?.centre === true));
  const of = (label: number): PointOverlay => {
    const fs = pick.filter((f) => Number(f.properties?.label) === label);
    const pts = layerPoints({ file, crs: layer.crs, features: fs });
    return { x: pts.x, y: pts.y, style: label === 1 ? 'positive' : 'negative' };
  };
  return [of(1), of(0)].filter((p) => p.x.length > 0);
}

function drawInset(ctx: ReturnType<typeof newSurface>['ctx'], box: LayoutGeometry['inset'], grid: GridSpec, band: Float32Array, stretch: Stretch, ramp: RampName, view: Extent, font: string): void {
  const lut = rampLut(ramp);
  const cells = createCanvas(grid.cols, grid.rows);
  const cctx = cells.getContext('2d');
  const img = cctx.createImageData(grid.cols, grid.rows);
  for (let i = 0; i < grid.rows * grid.cols; i++) {
    const t = applyStretch(stretch, band[i]);
    const li = Number.isNaN(t) ? -1 : Math.round(t * 255) * 4;
    img.data.set(li < 0 ? [230, 230, 230, 255] : [lut[li], lut[li + 1], lut[li + 2], 255], i * 4);
  }
  cctx.putImageData(img, 0, 0);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(box.x - 3, box.y - 14, box.w + 6, box.h + 17);
  ctx.drawImage(cells, box.x, box.y, box.w, box.h);
  ctx.strokeStyle = '#333333';
  ctx.lineWidth = 1;
  ctx.strokeRect(box.x - 3 + 0.5, box.y - 14 + 0.5, box.w + 5, box.h + 16);
  ctx.fillStyle = '#111111';
  ctx.font = `9px "${font}"`;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'bottom';
  ctx.fillText('Overview', box.x, box.y - 2);
  const e = gridExtent(grid);
  const X = (x: number): number => box.x + ((Math.min(Math.max(x, e.xmin), e.xmax) - e.xmin) / (e.xmax - e.xmin)) * box.w;
  const Y = (y: number): number => box.y + ((e.ymax - Math.min(Math.max(y, e.ymin), e.ymax)) / (e.ymax - e.ymin)) * box.h;
  ctx.strokeStyle = '#e31a1c';
  ctx.lineWidth = 1.5;
  const x0 = X(view.xmin);
  const y0 = Y(view.ymax);
  ctx.strokeRect(x0, y0, Math.max(2, X(view.xmax) - x0), Math.max(2, Y(view.ymin) - y0));
}

export interface MapLayout {
  /** The page as PNG at the layout's DPI (with pHYs). */
  readonly png: Buffer;
  readonly page: Page;
  readonly widthPx: number;
  readonly heightPx: number;
  readonly geometry: LayoutGeometry;
  readonly title: string;
  readonly band: string;
}

/**
 * Everything a page shows, resolved once and drawn by both writers: the PNG one below (canvas)
 * and the vector PDF one of layout-pdf.ts. Positions are those of `geometry` (CSS px).
 */
export interface PreparedLayout {
  readonly options: CheckedLayoutOptions;
  readonly page: Page;
  /** The whole layer (for the inset) and the mapped window of it. */
  readonly grid: GridSpec;
  readonly fullBand: Float32Array;
  readonly view: { readonly grid: GridSpec; readonly band: Float32Array; readonly extent: Extent };
  readonly stretch: Stretch;
  readonly points: readonly PointOverlay[];
  readonly lines: readonly LineOverlay[];
  readonly title: string;
  readonly band: string;
  /** Heading above the map frame: "<layer>: <band>". */
  readonly panelTitle: string;
  /** Legend caption (band and units). */
  readonly legend: string;
  /** The line at the foot of the page naming source, band, paper and DPI. */
  readonly footer: string;
  readonly geometry: LayoutGeometry;
}

export async function prepareMapLayout(options: MapLayoutOptions, ctx?: JobContext): Promise<PreparedLayout> {
  const o = checkLayoutOptions(options);
  const page = pageOf(o.paper, o.orientation);
  report(ctx, 0, `reading ${o.raster}`);
  const stack = await readStack(o.raster);
  const band = o.band ?? stack.bandNames[0];
  const bi = stack.bandNames.indexOf(band);
  if (bi < 0) throw new UnknownLayerError(`${o.raster} has no band "${band}" (bands: ${stack.bandNames.join(', ')})`, { raster: o.raster, band });
  const full = stack.bands[bi];
  const grid = stack.grid;
  const win = o.extent ? cropWindow(grid, o.extent) : { grid, row0: 0, col0: 0 };
  // One stretch for the view, the inset and the legend: the whole layer's, as the app draws it.
  const stretch = computeStretch(full, { kind: o.stretch, percentiles: o.percentiles });
  throwIfCancelled(ctx, 'map layout');

  report(ctx, 0.2, 'reading overlays');
  const points: PointOverlay[] = [];
  const lines: LineOverlay[] = [];
  const target = grid.crs ?? undefined;
  const read = { targetCrs: target, grid, assumeCrs: o.crs, log: ctx?.log };
  if (o.faults) lines.push({ lines: faultLines((await readVector(o.faults, { ...read, ...o.overlayLayers?.faults })).features), colour: '#000000', label: 'faults' });
  if (o.sites) points.push(...(await siteOverlays(o.sites, grid, read, o.overlayLayers?.sites)));
  if (o.deposits) {
    const pts = layerPoints(await readVector(o.deposits, { ...read, ...o.overlayLayers?.deposits }));
    points.push({ x: pts.x, y: pts.y, style: 'deposit', label: 'deposits' });
  }

  // The band units and krige's metadata a GeoTIFF records (a folder stack records none): the
  // subtitle names the layer with its units ("Kriged Au, Cu (ppb, ppm): Au", issue 18) and the
  // legend shows the band's unit unless --units says otherwise.
  const fileInfo = statSync(o.raster).isFile() ? await readGeoTiffInfo(o.raster) : null;
  const naming: LayerNaming = fileInfo ? { units: fileInfo.bandUnits, metadata: fileInfo.metadata } : {};
  const layerName = basename(o.raster, extname(o.raster));
  // The readable layer name where there is one ("Kriged Au, Cu (ppb, ppm)", "GK-DCN probability"):
  // the app leaves the title empty by default, and a time-stamped file name is no title (issue 18).
  const readableLayer = rasterDisplayName({ path: o.raster, bandNames: stack.bandNames, ...naming });
  const title = o.title ?? (readableLayer !== layerName ? readableLayer : `${layerName} — ${band}`);
  const units = o.units ?? (/^p_/.test(band) ? 'probability' : (naming.units?.[bi] ?? ''));
  // The legend column of map-figure.ts holds ~13 characters: "Au (ppm)", else the units alone
  // (the band is named in the panel title above the map).
  const legend = !units ? band : `${band} (${units})`.length <= 13 ? `${band} (${units})` : units;
  const ev = gridExtent(win.grid);
  const ef = gridExtent(grid);
  const aspect = (ev.ymax - ev.ymin) / (ev.xmax - ev.xmin);
  const geometry = layoutGeometry(page, aspect, title !== '', (ef.ymax - ef.ymin) / (ef.xmax - ef.xmin));
  return {
    options: o,
    page,
    grid,
    fullBand: full,
    view: { grid: win.grid, band: o.extent ? cropBand(full, grid, win) : full, extent: ev },
    stretch,
    points,
    lines,
    title,
    band,
    // The subtitle names the layer as a person reads it (display-names.ts): "GK-DCN probability",
    // "Kriged Au, Cu: Au"; a plain file keeps "<file stem>: <band>".
    panelTitle: subtitleOf(o.raster, stack.bandNames, band, naming),
    legend,
    footer: `${basename(o.raster)} · band ${band} · ${o.paper} ${o.orientation} · ${o.dpi} DPI · GeoAnomaly Workbench`,
    geometry,
  };
}

/** What a raster file records for its readable name (main/io/geotiff-read.ts GeoTiffInfo). */
export type LayerNaming = Pick<RasterNaming, 'units' | 'metadata'>;

/**
 * The layout subtitle: a model-output band by its readable name, else "<layer's readable name>:
 * <band>" with the units: in the layer's name where it lists them ("Kriged Au, Cu (ppb, ppm): Au"),
 * else beside the band ("stack: Au (ppm)").
 */
export function subtitleOf(raster: string, bandNames: readonly string[], band: string, naming: LayerNaming = {}): string {
  const readable = bandDisplayName(band);
  if (readable !== band) return readable;
  const layer = rasterDisplayName({ path: raster, bandNames, ...naming });
  const namesUnits = layer !== rasterDisplayName({ path: raster, bandNames, metadata: naming.metadata });
  return `${layer}: ${namesUnits ? band : bandDisplayName(band, undefined, naming.units?.[bandNames.indexOf(band)])}`;
}

export async function renderMapLayout(options: MapLayoutOptions, ctx?: JobContext): Promise<MapLayout> {
  return drawLayoutPng(await prepareMapLayout(options, ctx), ctx);
}

/** The page as one PNG image at the layout's DPI (the figure of map-figure.ts, the inset and the footer). */
export async function drawLayoutPng(l: PreparedLayout, ctx?: JobContext): Promise<MapLayout> {
  const o = l.options;
  const geo = l.geometry;
  report(ctx, 0.4, `drawing the map at ${o.dpi} DPI`);
  const figPng = renderMapFigure(
    [{ grid: l.view.grid, band: l.view.band, title: l.panelTitle, ramp: o.ramp, stretch: l.stretch, legend: l.legend, points: l.points, lines: l.lines }],
    { title: l.title || undefined, columns: 1, panelWidth: geo.mapW, dpi: o.dpi },
  );
  throwIfCancelled(ctx, 'map layout');
  report(ctx, 0.7, 'composing the page');
  const surface = newSurface(l.page.widthCss, l.page.heightCss, 'png', o.dpi);
  const c = surface.ctx;
  const fig = await loadImage(figPng);
  c.imageSmoothingEnabled = false;
  c.drawImage(fig, geo.figX, geo.figY, fig.width / (o.dpi / 96), fig.height / (o.dpi / 96));
  c.imageSmoothingEnabled = true;
  const font = figureFont();
  if (o.inset) drawInset(c, geo.inset, l.grid, l.fullBand, l.stretch, o.ramp, l.view.extent, font);
  c.fillStyle = '#444444';
  c.font = `9px "${font}"`;
  c.textAlign = 'left';
  c.textBaseline = 'bottom';
  c.fillText(l.footer, geo.figX + FIG_PAD, l.page.heightCss - PAGE_MARGIN);
  const png = surface.encode(o.dpi);
  const px = pagePixels(l.page, o.dpi);
  report(ctx, 0.9, 'page drawn');
  return { png, page: l.page, widthPx: px.width, heightPx: px.height, geometry: geo, title: l.title, band: l.band };
}

export type LayoutFormat = 'png' | 'pdf';

export function layoutFormatOf(path: string): LayoutFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.png') return 'png';
  if (ext === '.pdf') return 'pdf';
  throw new InvalidOptionError(`${path}: a map layout is written as .png or .pdf, not "${ext || 'no extension'}"`, { path });
}

/**
 * Renders the layout and writes it (format from the extension), atomically: a PNG page image,
 * or a vector PDF (layout-pdf.ts: real text, vector furniture and overlays, the raster once at
 * one image pixel per cell).
 */
export async function writeMapLayout(out: string, options: MapLayoutOptions, ctx?: JobContext): Promise<WrittenLayout> {
  const format = layoutFormatOf(out);
  const prepared = await prepareMapLayout(options, ctx);
  throwIfCancelled(ctx, 'map layout');
  const px = pagePixels(prepared.page, prepared.options.dpi);
  const info = { page: prepared.page, widthPx: px.width, heightPx: px.height, geometry: prepared.geometry, title: prepared.title, band: prepared.band };
  if (format === 'png') {
    const layout = await drawLayoutPng(prepared, ctx);
    writeFileAtomic(out, layout.png);
  } else {
    report(ctx, 0.5, 'drawing the vector page');
    writeFileAtomic(out, await layoutPdf(prepared, { subject: `${options.raster} band ${prepared.band}` }));
  }
  report(ctx, 1, `wrote ${out}`);
  return { ...info, path: out, format };
}

export type WrittenLayout = Omit<MapLayout, 'png'> & { readonly path: string; readonly format: LayoutFormat };
