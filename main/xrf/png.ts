import { deflateSync, inflateSync } from 'node:zlib';
import { InvalidFileError } from '../errors.ts';
import { pngChunk } from '../util/png-chunk.ts';

/**
 * Minimal PNG encoder/decoder (ISO/IEC 15948) on node:zlib.
 *
 * Kept small and synchronous for 8-bit grey/RGB(A) rasters (detection maps, truth masks):
 * exact pixel round trips for masks without going through a canvas and its colour handling.
 * Report figures with text and vectors use @napi-rs/canvas (main/figures).
 */

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const chunk = pngChunk;

/** An 8-bit image: channels 1 (grey), 3 (RGB) or 4 (RGBA), row-major, interleaved. */
export interface Image8 {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3 | 4;
  readonly pixels: Uint8Array;
}

export function encodePng(img: Image8): Buffer {
  const { width, height, channels, pixels } = img;
  if (pixels.length !== width * height * channels) throw new InvalidFileError('png', `pixel buffer has ${pixels.length} bytes, expected ${width * height * channels}`, 'Internal error');
  const colorType = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  const stride = width * channels;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter type None: maps are small and compress well enough
    Buffer.from(pixels.buffer, pixels.byteOffset + y * stride, stride).copy(raw, y * (stride + 1) + 1);
  }
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes a non-interlaced 8-bit grey, grey+alpha, RGB, RGBA or palette PNG into grey values (first channel or palette red). */
export function decodePngGrey(bytes: Uint8Array, file = 'png'): { width: number; height: number; values: Uint8Array } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (problem: string): never => {
    throw new InvalidFileError(file, `not a readable PNG (${problem})`, 'Re-export the mask as an 8-bit greyscale PNG or a TIFF');
  };
  if (buf.length < 8 || !buf.subarray(0, 8).equals(SIGNATURE)) bad('missing PNG signature');
  let off = 8;
  let width = 0, height = 0, depth = 0, colorType = 0, interlace = 0;
  let palette: Buffer | null = null;
  const idat: Buffer[] = [];
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.subarray(off + 4, off + 8).toString('latin1');
    if (off + 12 + len > buf.length) bad(`chunk ${type} runs past the end`);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      depth = data[8];
      colorType = data[9];
      interlace = data[12];
    } else if (type === 'PLTE') palette = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  if (width === 0 || height === 0) bad('no IHDR chunk');
  if (depth !== 8 || interlace !== 0) bad(`bit depth ${depth}, interlace ${interlace}; only 8-bit non-interlaced images are read`);
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colorType];
  if (!channels) bad(`colour type ${colorType}`);
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (e) {
    bad(`image data does not inflate: ${(e as Error).message}`);
  }
  const stride = width * channels;
  if (raw!.length < (stride + 1) * height) bad('image data is truncated');
  const cur = new Uint8Array(stride);
  const prev = new Uint8Array(stride);
  const values = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const f = raw![y * (stride + 1)];
    const line = raw!.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? cur[i - channels] : 0;
      const b = prev[i];
      const c = i >= channels ? prev[i - channels] : 0;
      const x = line[i];
      cur[i] = (f === 0 ? x : f === 1 ? x + a : f === 2 ? x + b : f === 3 ? x + ((a + b) >> 1) : f === 4 ? x + paeth(a, b, c) : bad(`filter ${f}`)) & 0xff;
    }
    for (let xpx = 0; xpx < width; xpx++) {
      const v = cur[xpx * channels];
      values[y * width + xpx] = colorType === 3 && palette ? palette[v * 3] : v;
    }
    prev.set(cur);
  }
  return { width, height, values };
}
