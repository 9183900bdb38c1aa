import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { InvalidFileError } from '../errors.ts';
import { CubeFormatError } from './cube.ts';

/**
 * Element-map exports of benchtop micro-XRF instruments: one image or text matrix per element
 * line, the line in the file name ("Fe-Ka.tif", "Cu_Ka.bmp", "Fe Ka.txt"). This module names
 * bands after the line, decodes BMP and text matrices, and finds the pixel size.
 */

const ELEMENTS = new Set(
  ('H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe ' +
    'Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U').split(' '),
);

/**
 * Band name of an element map file: "Fe-Ka", "Fe_Ka", "Fe Ka", "Fe-Kα", "fe_ka" → "Fe-Ka";
 * "Pb-La1" → "Pb-La1"; a bare element "Fe" stays "Fe"; anything else keeps its file stem.
 */
export function elementBandName(file: string): string {
  const stem = basename(file, extname(file)).trim();
  const m = /^([A-Za-z]{1,2})[\s_-]*([KLMklm])\s*([aAbBgGαβγ]?)(\d?)$/.exec(stem);
  if (m) {
    const el = m[1][0].toUpperCase() + m[1].slice(1).toLowerCase();
    const greek: Record<string, string> = { α: 'a', β: 'b', γ: 'g' };
    const sub = (greek[m[3]] ?? m[3]).toLowerCase();
    if (ELEMENTS.has(el)) return `${el}-${m[2].toUpperCase()}${sub}${m[4]}`;
  }
  const bare = stem[0]?.toUpperCase() + stem.slice(1).toLowerCase();
  if (ELEMENTS.has(bare) && stem.length <= 2) return bare;
  return stem;
}

export interface MapPlane {
  readonly rows: number;
  readonly cols: number;
  readonly values: Float32Array;
  readonly pixelSizeUm: number | null;
}

/**
 * Uncompressed Windows BMP (BITMAPINFOHEADER; 8-bit palette, 24- or 32-bit): one value per pixel,
 * the palette/RGB grey level (element maps are grey; a colour map gives its luminance, BT.601).
 * Hand-written: a BMP decoder is ~40 lines and no maintained npm package decodes BMP in Node
 * without a canvas. Pixel size from biXPelsPerMeter when set.
 */
export function decodeBmp(buf: Buffer, file: string): MapPlane {
  if (buf.length < 54 || buf.toString('latin1', 0, 2) !== 'BM') throw new InvalidFileError(file, 'not a BMP file (no "BM" signature)', 'Export the element map as an uncompressed BMP, TIFF or text matrix');
  const dataOffset = buf.readUInt32LE(10);
  const headerSize = buf.readUInt32LE(14);
  const width = buf.readInt32LE(18);
  const rawHeight = buf.readInt32LE(22);
  const bpp = buf.readUInt16LE(28);
  const compression = buf.readUInt32LE(30);
  const ppm = buf.readInt32LE(38);
  if (compression !== 0 && compression !== 3) throw new InvalidFileError(file, `BMP compression ${compression} (RLE) is not supported`, 'Export the map as an uncompressed BMP or as TIFF');
  if (![8, 24, 32].includes(bpp)) throw new InvalidFileError(file, `${bpp}-bit BMP is not supported`, 'Export the map as an 8-bit grey or 24-bit BMP, or as TIFF');
  const height = Math.abs(rawHeight);
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (dataOffset + stride * height > buf.length) throw new InvalidFileError(file, `the BMP is truncated (${buf.length} bytes, ${dataOffset + stride * height} needed)`, 'Export the map again');
  let palette: Uint8Array | null = null;
  if (bpp === 8) {
    const nColours = buf.readUInt32LE(46) || 256;
    palette = new Uint8Array(256);
    const at = 14 + headerSize;
    for (let i = 0; i < nColours; i++) {
      const b = buf[at + 4 * i], g = buf[at + 4 * i + 1], r = buf[at + 4 * i + 2];
      palette[i] = r === g && g === b ? r : Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    }
  }
  const values = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = rawHeight > 0 ? height - 1 - y : y; // positive height: bottom-up rows
    const o = dataOffset + row * stride;
    for (let x = 0; x < width; x++) {
      if (palette) values[y * width + x] = palette[buf[o + x]];
      else {
        const p = o + (x * bpp) / 8;
        const b = buf[p], g = buf[p + 1], r = buf[p + 2];
        values[y * width + x] = r === g && g === b ? r : 0.299 * r + 0.587 * g + 0.114 * b;
      }
    }
  }
  return { rows: height, cols: width, values, pixelSizeUm: ppm > 0 ? 1e6 / ppm : null };
}

/**
 * A text matrix (one line per pixel row, values separated by tabs, commas, semicolons or spaces),
 * with optional header lines before it; a header line "Pixel size: 25 µm" (also "pixel size =
 * 0.025 mm", "Step size 20 um") gives the pixel size.
 */
export function parseTextMap(text: string, file: string): MapPlane {
  let pixelSizeUm: number | null = null;
  const rowsOut: number[][] = [];
  const lines = text.split(/\r?\n/);
  for (const [k, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const fields = line.split(/[\t,;]+|\s+/).filter((s) => s !== '');
    const nums = fields.map(Number);
    if (nums.every((v) => Number.isFinite(v)) && fields.length > 0) {
      if (rowsOut.length > 0 && nums.length !== rowsOut[0].length) throw new CubeFormatError(`${file}: line ${k + 1} has ${nums.length} values, the first matrix line ${rowsOut[0].length}. Export a full rectangular matrix`, { file, line: k + 1 });
      rowsOut.push(nums);
      continue;
    }
    if (rowsOut.length > 0) throw new CubeFormatError(`${file}: line ${k + 1} ("${line.slice(0, 40)}") is not a row of numbers, inside the matrix. Remove it or fix the export`, { file, line: k + 1 });
    const m = /(?:pixel|step)\s*size[^\d]*([\d.]+(?:e[-+]?\d+)?)\s*(µm|μm|um|microns?|mm|nm)/i.exec(line);
    if (m) pixelSizeUm = Number(m[1]) * (/mm/i.test(m[2]) ? 1000 : /nm/i.test(m[2]) ? 1e-3 : 1);
  }
  if (rowsOut.length === 0) throw new CubeFormatError(`${file}: no matrix of numbers found. Export the element map as a text matrix (one line per pixel row)`, { file });
  const rows = rowsOut.length, cols = rowsOut[0].length;
  const values = new Float32Array(rows * cols);
  rowsOut.forEach((r, y) => values.set(r, y * cols));
  return { rows, cols, values, pixelSizeUm };
}

export function readTextMap(file: string): MapPlane {
  return parseTextMap(readFileSync(file, 'utf8'), file);
}

/** TIFF XResolution + ResolutionUnit (2 = inch, 3 = cm) → micrometres per pixel; null when absent. */
export function tiffPixelSizeUm(xResolution: ArrayLike<number> | number | undefined, unit: number | undefined): number | null {
  if (xResolution === undefined) return null;
  const res = typeof xResolution === 'number' ? xResolution : xResolution.length >= 2 ? xResolution[0] / (xResolution[1] || 1) : xResolution[0];
  if (!(res > 0)) return null;
  if (unit === 3) return 1e4 / res;
  if (unit === 2 || unit === undefined) {
    // 72 dpi (and 96, 300) is a screen/print default, not a measured pixel size.
    if ([72, 96, 150, 300].includes(res)) return null;
    return 25400 / res;
  }
  return null;
}
