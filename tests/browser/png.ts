import { inflateSync } from 'node:zlib';

/**
 * Minimal PNG decoder for the screenshot comparisons: 8-bit greyscale / RGB / RGBA (with or
 * without alpha), non-interlaced — what Chromium writes. Hand-written because no PNG library is
 * a dependency and this needs ~50 lines of zlib + the five scanline filters (PNG spec §9).
 */
export interface Image {
  readonly width: number;
  readonly height: number;
  /** RGBA, 4 bytes per pixel. */
  readonly data: Uint8Array;
}

export function decodePng(buf: Uint8Array): Image {
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  if (!sig.every((b, i) => buf[i] === b)) throw new Error('not a PNG file');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Uint8Array[] = [];
  while (pos < buf.length) {
    const len = view.getUint32(pos);
    const type = String.fromCharCode(...buf.subarray(pos + 4, pos + 8));
    const body = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
      const depth = body[8];
      colorType = body[9];
      if (depth !== 8 || body[12] !== 0 || ![0, 2, 4, 6].includes(colorType)) throw new Error(`unsupported PNG: depth ${depth}, colour type ${colorType}, interlace ${body[12]}`);
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType] as number;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const px = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? px[y * stride + x - channels] : 0;
      const b = y > 0 ? px[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? px[(y - 1) * stride + x - channels] : 0;
      let v = line[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      px[y * stride + x] = v & 255;
    }
  }
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const s = px.subarray(i * channels, i * channels + channels);
    if (channels <= 2) data.set([s[0], s[0], s[0], channels === 2 ? s[1] : 255], i * 4);
    else data.set([s[0], s[1], s[2], channels === 4 ? s[3] : 255], i * 4);
  }
  return { width, height, data };
}

export interface ImageDiff {
  /** Pixels whose largest channel difference exceeds the tolerance. */
  readonly differing: number;
  readonly fraction: number;
}

/** Counts pixels differing by more than `channelTolerance` (0–255) in any RGBA channel. */
export function diffImages(a: Image, b: Image, channelTolerance: number): ImageDiff {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`image sizes differ: ${a.width}×${a.height} vs ${b.width}×${b.height}`);
  let differing = 0;
  for (let i = 0; i < a.width * a.height; i++) {
    let d = 0;
    for (let ch = 0; ch < 4; ch++) d = Math.max(d, Math.abs(a.data[i * 4 + ch] - b.data[i * 4 + ch]));
    if (d > channelTolerance) differing++;
  }
  return { differing, fraction: differing / (a.width * a.height) };
}
