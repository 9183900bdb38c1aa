import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { InvalidOptionError } from '../../main/errors.ts';
import { UnknownLayerError } from '../../main/export/export-errors.ts';
import { layoutGeometry, subtitleOf, writeMapLayout } from '../../main/export/map-layout.ts';
import { pageOf, pagePixels, type Orientation, type PaperName } from '../../main/export/paper.ts';
import { rampColour } from '../../main/figures/colour-ramps.ts';
import { tempDir } from '../helpers/paths.ts';
import { decodePng, diffImages, type Image } from '../browser/png.ts';

/**
 * Map layouts checked with poppler (pdfinfo: the page box in points; pdftoppm: the PDF
 * rasterises, at the size the paper and DPI give) and by reading the pixels of the PNG.
 */
const dir = tempDir('ga-layout-');
// 40 × 30 cells of 1 km; the west half holds 0, the east half 1 (a crop test can tell them apart).
const grid: GridSpec = { originX: 500_000, originY: 4_630_000, cellSizeX: 1000, cellSizeY: 1000, rows: 30, cols: 40, crs: crsFromEpsg(32645) };
const raster = join(dir, 'halves.tif');

beforeAll(() => {
  const a = Float32Array.from({ length: 1200 }, (_, i) => (i % 40 < 20 ? 0 : 1));
  const b = Float32Array.from({ length: 1200 }, (_, i) => Math.floor(i / 40) / 29);
  writeGeoTiff(raster, { grid, bandNames: ['halves', 'north_south'], bands: [a, b] });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pdfPageSize(file: string): [number, number] {
  const m = /Page size:\s+([\d.]+) x ([\d.]+) pts/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }));
  if (!m) throw new Error(`pdfinfo printed no page size for ${file}`);
  return [Number(m[1]), Number(m[2])];
}

function rasterisePdf(file: string, dpi: number): Image {
  const prefix = file.replace(/\.pdf$/, `-r${dpi}`);
  execFileSync('pdftoppm', ['-r', String(dpi), '-png', '-singlefile', file, prefix]);
  return decodePng(readFileSync(`${prefix}.png`));
}

/** PNG pHYs chunk: pixels per metre (x, y) and unit. */
function phys(png: Buffer): [number, number, number] | null {
  const i = png.indexOf('pHYs');
  return i < 0 ? null : [png.readUInt32BE(i + 4), png.readUInt32BE(i + 8), png[i + 12]];
}

/** The top-left w × h pixels (pdftoppm rounds the page's pixel size up, the PNG to nearest). */
function crop(img: Image, w: number, h: number): Image {
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) data.set(img.data.subarray(y * img.width * 4, (y * img.width + w) * 4), y * w * 4);
  return { width: w, height: h, data };
}

const px = (img: Image, x: number, y: number): number[] => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 3));
const near = (a: readonly number[], b: readonly number[], tol: number): boolean => a.every((v, i) => Math.abs(v - b[i]) <= tol);

/** Pixels of a CSS-px box (at `dpi`) matching a colour within `tol` per channel. */
function countColour(img: Image, box: { x: number; y: number; w: number; h: number }, dpi: number, colour: readonly number[], tol: number): number {
  const s = dpi / 96;
  let n = 0;
  for (let y = Math.floor(box.y * s); y < Math.ceil((box.y + box.h) * s); y++) {
    for (let x = Math.floor(box.x * s); x < Math.ceil((box.x + box.w) * s); x++) if (near(px(img, x, y), colour, tol)) n++;
  }
  return n;
}

describe('map layout (PNG and PDF)', () => {
  const cases: [PaperName, Orientation, number, number][] = [
    // Reference page sizes in points: ISO 216 (A4 210 × 297 mm, A3 297 × 420 mm) and US Letter 8.5 × 11 in.
    ['A4', 'portrait', 595.28, 841.89],
    ['A4', 'landscape', 841.89, 595.28],
    ['A3', 'landscape', 1190.55, 841.89],
    ['Letter', 'portrait', 612, 792],
  ];
  for (const [paper, orientation, wPt, hPt] of cases) {
    it(`${paper} ${orientation}: the PDF page box is the paper (±1 pt) and pdftoppm -r 72 rasterises it to that many pixels (±1)`, async () => {
      const out = join(dir, `${paper}-${orientation}.pdf`);
      const r = await writeMapLayout(out, { raster, band: 'north_south', paper, orientation, dpi: 72, inset: true, title: 'Layout test' });
      expect(r.format).toBe('pdf');
      const [w, h] = pdfPageSize(out);
      expect(Math.abs(w - wPt)).toBeLessThanOrEqual(1);
      expect(Math.abs(h - hPt)).toBeLessThanOrEqual(1);
      const img = rasterisePdf(out, 72);
      expect(Math.abs(img.width - wPt)).toBeLessThanOrEqual(1);
      expect(Math.abs(img.height - hPt)).toBeLessThanOrEqual(1);
    });
  }

  it('PNG: page pixels = paper × DPI, pHYs = the DPI; the PDF of the same layout rasterises to the same image', async () => {
    const dpi = 100;
    const png = join(dir, 'page.png');
    const pdf = join(dir, 'page.pdf');
    const opts = { raster, band: 'north_south', paper: 'A4' as const, orientation: 'landscape' as const, dpi, inset: true };
    const r = await writeMapLayout(png, opts);
    await writeMapLayout(pdf, opts);
    const bytes = readFileSync(png);
    const img = decodePng(bytes);
    const expected = pagePixels(pageOf('A4', 'landscape'), dpi);
    expect([img.width, img.height]).toEqual([expected.width, expected.height]);
    expect([r.widthPx, r.heightPx]).toEqual([1169, 827]); // 297 mm × 100 / 25.4 = 1169.3; 210 mm → 826.8
    // pHYs in pixels per metre: round(100 / 0.0254) = 3937, unit 1 = metre.
    expect(phys(bytes)).toEqual([3937, 3937, 1]);
    // pdftoppm at the layout's own DPI draws the vector page like the PNG: a pixel differs when a
    // channel differs by > 40. Inside the map frame (cells, scale bar, north arrow) at most 1 % may
    // differ (anti-aliasing at cell and line edges); on the whole page at most 3 %, because the PDF's
    // text is Helvetica (pdf-lib's standard font) where the PNG draws DejaVu Sans, and the PDF adds
    // the overlay key.
    const fromPdf = rasterisePdf(pdf, dpi);
    expect(Math.abs(fromPdf.width - img.width)).toBeLessThanOrEqual(1);
    expect(Math.abs(fromPdf.height - img.height)).toBeLessThanOrEqual(1);
    const w = Math.min(img.width, fromPdf.width);
    const h = Math.min(img.height, fromPdf.height);
    expect(diffImages(crop(img, w, h), crop(fromPdf, w, h), 40).fraction).toBeLessThanOrEqual(0.03);
    const s = dpi / 96;
    const frame = (im: Image): Image => {
      const x0 = Math.round((r.geometry.mapX + 0.05 * r.geometry.mapW) * s);
      const y0 = Math.round((r.geometry.mapY + 0.15 * r.geometry.mapH) * s);
      const fw = Math.round(0.6 * r.geometry.mapW * s);
      const fh = Math.round(0.5 * r.geometry.mapH * s);
      const data = new Uint8Array(fw * fh * 4);
      for (let y = 0; y < fh; y++) data.set(im.data.subarray(((y0 + y) * im.width + x0) * 4, ((y0 + y) * im.width + x0 + fw) * 4), y * fw * 4);
      return { width: fw, height: fh, data };
    };
    expect(diffImages(frame(img), frame(fromPdf), 40).fraction).toBeLessThanOrEqual(0.01);
  });

  it('draws the legend colour bar, the map in the ramp and the inset with its red view outline', async () => {
    const dpi = 96;
    const out = join(dir, 'legend.png');
    const r = await writeMapLayout(out, { raster, band: 'north_south', dpi, inset: true, ramp: 'viridis', stretch: 'minmax' });
    const img = decodePng(readFileSync(out));
    const g = r.geometry;
    expect(g).toEqual(layoutGeometry(pageOf('A4', 'landscape'), 30 / 40, true));
    // The legend bar runs from the top colour of viridis to the bottom one (tolerance 8 per channel: interpolation).
    const top = rampColour('viridis', 1);
    const bottom = rampColour('viridis', 0);
    expect(countColour(img, g.legend, dpi, top, 8)).toBeGreaterThan(10);
    expect(countColour(img, g.legend, dpi, bottom, 8)).toBeGreaterThan(10);
    // The map's north row is 0 (bottom of the ramp), its south row 1 (top): a cell-size block inside each corner.
    const s = dpi / 96;
    expect(near(px(img, Math.round((g.mapX + 30) * s), Math.round((g.mapY + 5) * s)), bottom, 8)).toBe(true);
    // The inset holds the view outline (#e31a1c) — the view is the whole layer here, so it hugs the inset frame.
    expect(countColour(img, { x: g.inset.x - 2, y: g.inset.y - 2, w: g.inset.w + 4, h: g.inset.h + 4 }, dpi, [227, 26, 28], 40)).toBeGreaterThan(50);
    const plain = join(dir, 'no-inset.png');
    await writeMapLayout(plain, { raster, band: 'north_south', dpi, inset: false, ramp: 'viridis', stretch: 'minmax' });
    const img2 = decodePng(readFileSync(plain));
    expect(countColour(img2, g.inset, dpi, [227, 26, 28], 40)).toBe(0);
  });

  it('maps only the requested extent: the east half (all 1) fills the map with the top colour of the ramp', async () => {
    const dpi = 96;
    const out = join(dir, 'east.png');
    const extent = { xmin: 520_000, ymin: 4_600_000, xmax: 540_000, ymax: 4_630_000 };
    const r = await writeMapLayout(out, { raster, band: 'halves', dpi, extent, stretch: 'minmax', ramp: 'viridis' });
    const img = decodePng(readFileSync(out));
    const g = r.geometry;
    // 20 × 30 cells: the map's aspect is 30/20.
    expect(g.mapH / g.mapW).toBeCloseTo(1.5, 2);
    const top = rampColour('viridis', 1);
    // Sample a 9 × 9 lattice inside the frame away from the scale bar (bottom left) and north arrow (top right).
    for (let i = 1; i <= 9; i++) {
      for (let j = 1; j <= 6; j++) {
        const x = Math.round(g.mapX + (g.mapW * i) / 10);
        const y = Math.round(g.mapY + 40 + ((g.mapH - 80) * j) / 7);
        expect(near(px(img, x, y), top, 4), `pixel (${x}, ${y})`).toBe(true);
      }
    }
  });

  it('PDF is vector: pdftotext finds title, legend and CRS; pdfimages lists one image of cols × rows; pdffonts a font; overlays are paths', async () => {
    const faults = join(dir, 'faults.geojson');
    const deposits = join(dir, 'deposits.geojson');
    const utm = { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32645' } };
    writeFileSync(faults, JSON.stringify({ type: 'FeatureCollection', crs: utm, features: [{ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[505_000, 4_605_000], [530_000, 4_625_000]] } }] }));
    writeFileSync(deposits, JSON.stringify({ type: 'FeatureCollection', crs: utm, features: [{ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [515_500, 4_615_500] } }] }));
    const out = join(dir, 'vector.pdf');
    await writeMapLayout(out, { raster, band: 'north_south', title: 'Vector layout of Au', units: 'ppm', stretch: 'minmax', faults, deposits, inset: true, dpi: 150 });
    // Real text (poppler's pdftotext): the title, the legend caption and tick labels, the overlay key, the CRS line.
    const txt = execFileSync('pdftotext', ['-layout', out, '-'], { encoding: 'utf8' });
    for (const s of ['Vector layout of Au', 'halves: north_south', 'ppm', '0.2', '0.8', 'faults', 'deposits', 'WGS 84 / UTM zone 45N', 'cell 1000 × 1000 m', '10 km', 'Overview']) expect(txt, s).toContain(s);
    // The raster at its native resolution: every image drawn is the one 40 × 30 object (the inset reuses it).
    const rows = execFileSync('pdfimages', ['-list', out], { encoding: 'utf8' }).split('\n').slice(2).filter((l) => l.trim());
    expect(rows.length).toBeGreaterThan(0);
    const objects = new Set(rows.map((l) => l.trim().split(/\s+/).slice(10, 12).join(' ')));
    expect(objects.size).toBe(1);
    const cols = rows[0].trim().split(/\s+/);
    expect([cols[2], Number(cols[3]), Number(cols[4]), cols[9]]).toEqual(['image', 40, 30, 'no']); // type, width, height, interpolate
    // A font object is used (Helvetica: pdf-lib's standard font).
    expect(execFileSync('pdffonts', [out], { encoding: 'utf8' })).toMatch(/Helvetica\s+Type 1/);
    // The fault is a vector path: pdftocairo -svg writes the stroked line as an SVG path in PDF
    // user space (pt, y up; the page transform is a separate attribute) whose end points are the
    // fault's, mapped to the page: 1 km = mapW / 40 CSS px, 1 CSS px = 0.75 pt.
    const svgFile = join(dir, 'vector.svg');
    execFileSync('pdftocairo', ['-svg', out, svgFile]);
    const svg = readFileSync(svgFile, 'utf8');
    const g = layoutGeometry(pageOf('A4', 'landscape'), 30 / 40, true);
    const hPt = pageOf('A4', 'landscape').heightPt;
    const toPt = (x: number, y: number): [number, number] => [(g.mapX + ((x - 500_000) / 40_000) * g.mapW) * 0.75, hPt - (g.mapY + ((4_630_000 - y) / 30_000) * g.mapH) * 0.75];
    const [x0, y0] = toPt(505_000, 4_605_000);
    const [x1, y1] = toPt(530_000, 4_625_000);
    // Stroke width 1.6 CSS px = 1.2 pt, the fault line's.
    const strokes = [...svg.matchAll(/<path style="fill:none;stroke-width:1\.2;[^"]*" d="M ([\d.]+) ([\d.]+) L ([\d.]+) ([\d.]+) "/g)];
    // Tolerance 0.01 pt: pdftocairo prints coordinates to 6 decimals; pdf-lib writes them rounded.
    const hit = strokes.some((m) => [Number(m[1]) - x0, Number(m[2]) - y0, Number(m[3]) - x1, Number(m[4]) - y1].every((d) => Math.abs(d) < 0.01));
    expect(hit, `no stroked path from (${x0.toFixed(2)}, ${y0.toFixed(2)}) to (${x1.toFixed(2)}, ${y1.toFixed(2)}) in ${strokes.length} candidates`).toBe(true);
  });

  // Issue 18: the subtitle uses the readable name with units; the legend the band's recorded unit.
  it('PDF subtitle and legend carry the units the GeoTIFF records: "Kriged Au, Cu (ppb, ppm): Au" for a kriged stack, "<file>: Cu (ppm)" for another', async () => {
    const band = Float32Array.from({ length: grid.rows * grid.cols }, (_, i) => i % 7);
    const kriged = join(dir, 'my-grids.tif');
    writeGeoTiff(kriged, { grid, bandNames: ['Au', 'Cu'], bands: [band, band] }, { metadata: { KRIGING: 'ordinary kriging' }, bandUnits: ['ppb', 'ppm'] });
    const plain = join(dir, 'assays.tif');
    writeGeoTiff(plain, { grid, bandNames: ['Au', 'Cu'], bands: [band, band] }, { bandUnits: ['ppb', 'ppm'] });
    expect(subtitleOf(kriged, ['Au', 'Cu'], 'Au', { units: ['ppb', 'ppm'], metadata: { KRIGING: 'ordinary kriging' } })).toBe('Kriged Au, Cu (ppb, ppm): Au');
    expect(subtitleOf(plain, ['Au', 'Cu'], 'Cu', { units: ['ppb', 'ppm'] })).toBe('assays: Cu (ppm)');
    expect(subtitleOf(plain, ['Au', 'Cu'], 'Cu')).toBe('assays: Cu');
    const text = async (raster: string, b: string): Promise<string> => {
      const out = join(dir, `units-${b}.pdf`);
      // No title: the page is titled with the layer's readable name where it has one.
      await writeMapLayout(out, { raster, band: b, dpi: 72 });
      return execFileSync('pdftotext', ['-layout', out, '-'], { encoding: 'utf8' });
    };
    const k = await text(kriged, 'Au');
    expect(k).toContain('Kriged Au, Cu (ppb, ppm): Au');
    expect(k).toContain('Au (ppb)');
    expect(k.split('\n').find((l) => l.trim() !== '')?.trim()).toBe('Kriged Au, Cu (ppb, ppm)');
    const c = await text(plain, 'Cu');
    expect(c).toContain('assays: Cu (ppm)');
    expect(c).toContain('assays — Cu');
    expect(c).not.toContain('Kriged');
  });

  it('names bad input: unknown band, wrong extension, extent off the layer, DPI out of range', async () => {
    await expect(writeMapLayout(join(dir, 'x.pdf'), { raster, band: 'Au' })).rejects.toThrow(UnknownLayerError);
    await expect(writeMapLayout(join(dir, 'x.jpg'), { raster })).rejects.toThrow(/\.png or \.pdf/);
    await expect(writeMapLayout(join(dir, 'x.pdf'), { raster, extent: { xmin: 0, ymin: 0, xmax: 10, ymax: 10 } })).rejects.toThrow(/does not overlap/);
    await expect(writeMapLayout(join(dir, 'x.pdf'), { raster, dpi: 10 })).rejects.toThrow(InvalidOptionError);
    await expect(writeMapLayout(join(dir, 'x.pdf'), { raster, paper: 'B5' as PaperName })).rejects.toThrow(/paper "B5"/);
    expect(existsSync(join(dir, 'x.pdf'))).toBe(false);
  });
});
