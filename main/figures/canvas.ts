import { existsSync } from 'node:fs';
import { createCanvas, GlobalFonts, type Canvas, type SKRSContext2D } from '@napi-rs/canvas';

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

export function newCanvas(width: number, height: number): { canvas: Canvas; ctx: SKRSContext2D } {
  const canvas = createCanvas(Math.round(width), Math.round(height));
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  return { canvas, ctx };
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Encodes the canvas as PNG with a pHYs chunk so reports place it at the intended DPI. */
export function toPng(canvas: Canvas, dpi = 96): Buffer {
  const png = canvas.toBuffer('image/png');
  const ppm = Math.round(dpi / 0.0254);
  const chunk = Buffer.alloc(21);
  chunk.writeUInt32BE(9, 0);
  chunk.write('pHYs', 4, 'latin1');
  chunk.writeUInt32BE(ppm, 8);
  chunk.writeUInt32BE(ppm, 12);
  chunk.writeUInt8(1, 16);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 17)), 17);
  // IHDR is always the first chunk: 8-byte signature + 25-byte IHDR.
  return Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]);
}
