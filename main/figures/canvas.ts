import { existsSync } from 'node:fs';
import { createCanvas, GlobalFonts, SvgExportFlag, type Canvas, type SKRSContext2D, type SvgCanvas } from '@napi-rs/canvas';
import { pngChunk } from '../util/png-chunk.ts';

/**
 * Canvas set-up for figure exports. Figures use DejaVu Sans (Debian fonts-dejavu-core) when it is
 * installed so renders are identical across machines; otherwise the system sans-serif.
 */
const FONT_FILES = ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf'];
let fontFamily: string | null = null;

export function figureFont(): string {
  if (fontFamily === null) {
    fontFamily = 'sans-serif';
    for (const f of FONT_FILES) if (existsSync(f)) GlobalFonts.registerFromPath(f, 'GA Sans');
    if (existsSync(FONT_FILES[0])) fontFamily = 'GA Sans';
  }
  return fontFamily;
}

export type FigureFormat = 'png' | 'svg';

/** A drawing surface: raster (PNG) or vector (SVG, text converted to paths so no font is needed to view it). */
export interface Surface {
  readonly format: FigureFormat;
  readonly ctx: SKRSContext2D;
  /** Encodes the finished drawing. */
  encode(dpi: number): Buffer;
}

export function newSurface(width: number, height: number, format: FigureFormat, dpi: number): Surface {
  if (format === 'svg') {
    const svg: SvgCanvas = createCanvas(Math.round(width), Math.round(height), SvgExportFlag.ConvertTextToPaths);
    const ctx = svg.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, svg.width, svg.height);
    return { format, ctx, encode: () => svg.getContent() };
  }
  const scale = dpi / 96;
  const { canvas, ctx } = newCanvas(width * scale, height * scale);
  ctx.scale(scale, scale);
  return { format, ctx, encode: (d) => toPng(canvas, d) };
}

export function newCanvas(width: number, height: number): { canvas: Canvas; ctx: SKRSContext2D } {
  const canvas = createCanvas(Math.round(width), Math.round(height));
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  return { canvas, ctx };
}

/** Encodes the canvas as PNG with a pHYs chunk so reports place it at the intended DPI. */
export function toPng(canvas: Canvas, dpi = 96): Buffer {
  const png = canvas.toBuffer('image/png');
  const ppm = Math.round(dpi / 0.0254);
  const data = Buffer.alloc(9);
  data.writeUInt32BE(ppm, 0);
  data.writeUInt32BE(ppm, 4);
  data.writeUInt8(1, 8); // unit: metre
  const chunk = pngChunk('pHYs', data);
  // IHDR is always the first chunk: 8-byte signature + 25-byte IHDR.
  return Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]);
}
