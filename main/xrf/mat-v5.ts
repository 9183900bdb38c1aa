import { readFile } from 'node:fs/promises';
import { readFileSync, existsSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { InvalidFileError, WorkbenchError } from '../errors.ts';

/**
 * Reader for MATLAB Level 5 MAT-files (`save -v6` / `save -v7`), the format of the public
 * hyperspectral anomaly-detection scenes and of many micro-XRF exports.
 *
 * Hand-written because no maintained npm package reads MAT v5 numeric arrays in Node without
 * native code or a Python bridge; the format is small (MathWorks "MAT-File Format", R2024a,
 * ch. 1): a 128-byte header, then tagged data elements, of which we need miMATRIX (numeric
 * and logical classes, any real data type) and miCOMPRESSED (a zlib stream holding one more
 * element). Cells, structs, objects, sparse and complex arrays are skipped with a note, and
 * MAT v7.3 (HDF5) and v4 files get a named error that says how to re-save them.
 */

/** A MAT v7.3 file is HDF5 underneath; this reader does not speak HDF5. */
export class MatVersionError extends WorkbenchError {}

export type MatClass = 'double' | 'single' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'logical' | 'char';

/** One numeric array of a MAT file, values in MATLAB's column-major order. */
export interface MatArray {
  readonly name: string;
  readonly className: MatClass;
  /** MATLAB dimensions, e.g. [H, W, B]. */
  readonly dims: number[];
  /** Column-major values (index = i0 + d0·(i1 + d1·(i2 …))). */
  readonly data: Float64Array;
}

export interface MatFile {
  readonly file: string;
  readonly header: string;
  readonly arrays: ReadonlyMap<string, MatArray>;
  /** Variables present but not numeric (cell, struct, sparse, complex …), with their class. */
  readonly skipped: readonly { name: string; reason: string }[];
}

const MI = {
  INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9,
  INT64: 12, UINT64: 13, MATRIX: 14, COMPRESSED: 15, UTF8: 16, UTF16: 17, UTF32: 18,
} as const;

const CLASS_NAMES: Record<number, MatClass | string> = {
  1: 'cell', 2: 'struct', 3: 'object', 4: 'char', 5: 'sparse', 6: 'double', 7: 'single', 8: 'int8',
  9: 'uint8', 10: 'int16', 11: 'uint16', 12: 'int32', 13: 'uint32', 14: 'int64', 15: 'uint64',
};

const ELEMENT_SIZE: Record<number, number> = {
  [MI.INT8]: 1, [MI.UINT8]: 1, [MI.INT16]: 2, [MI.UINT16]: 2, [MI.INT32]: 4, [MI.UINT32]: 4,
  [MI.SINGLE]: 4, [MI.DOUBLE]: 8, [MI.INT64]: 8, [MI.UINT64]: 8, [MI.UTF8]: 1, [MI.UTF16]: 2, [MI.UTF32]: 4,
};

interface Element {
  type: number;
  /** Payload view (already inflated for miCOMPRESSED). */
  body: DataView;
  /** Offset just past this element (padding included) in the enclosing buffer. */
  next: number;
}

class Reader {
  constructor(
    readonly file: string,
    readonly little: boolean,
  ) {}

  fail(problem: string): never {
    throw new InvalidFileError(this.file, `not a readable MAT v5 file (${problem})`, 'The file is truncated or corrupt; re-save it in MATLAB/Octave with save(FILE, "data", "map", "-v7")');
  }

  element(view: DataView, offset: number): Element {
    if (offset + 8 > view.byteLength) this.fail(`data element tag at byte ${offset} runs past the end`);
    const first = view.getUint32(offset, this.little);
    if (first >>> 16 !== 0) {
      // Small data element: type and size share the first word, payload in the next 4 bytes.
      const type = first & 0xffff;
      const size = first >>> 16;
      if (size > 4) this.fail(`small data element at byte ${offset} claims ${size} bytes`);
      return { type, body: new DataView(view.buffer, view.byteOffset + offset + 4, size), next: offset + 8 };
    }
    const type = first;
    const size = view.getUint32(offset + 4, this.little);
    const start = offset + 8;
    if (start + size > view.byteLength) this.fail(`data element at byte ${offset} (type ${type}) claims ${size} bytes but only ${view.byteLength - start} remain`);
    if (type === MI.COMPRESSED) {
      let inflated: Buffer;
      try {
        inflated = inflateSync(new Uint8Array(view.buffer, view.byteOffset + start, size));
      } catch (e) {
        this.fail(`compressed element at byte ${offset} does not inflate: ${(e as Error).message}`);
      }
      const inner = new DataView(inflated.buffer, inflated.byteOffset, inflated.byteLength);
      const el = this.element(inner, 0);
      // Compressed elements are not padded to 8 bytes.
      return { type: el.type, body: el.body, next: start + size };
    }
    return { type, body: new DataView(view.buffer, view.byteOffset + start, size), next: start + size + ((8 - (size % 8)) % 8) };
  }

  numbers(el: Element): Float64Array {
    const size = ELEMENT_SIZE[el.type];
    if (!size) this.fail(`numeric data of unknown type ${el.type}`);
    const n = Math.floor(el.body.byteLength / size);
    const out = new Float64Array(n);
    const v = el.body;
    const le = this.little;
    switch (el.type) {
      case MI.INT8: for (let i = 0; i < n; i++) out[i] = v.getInt8(i); break;
      case MI.UINT8: case MI.UTF8: for (let i = 0; i < n; i++) out[i] = v.getUint8(i); break;
      case MI.INT16: for (let i = 0; i < n; i++) out[i] = v.getInt16(i * 2, le); break;
      case MI.UINT16: case MI.UTF16: for (let i = 0; i < n; i++) out[i] = v.getUint16(i * 2, le); break;
      case MI.INT32: for (let i = 0; i < n; i++) out[i] = v.getInt32(i * 4, le); break;
      case MI.UINT32: case MI.UTF32: for (let i = 0; i < n; i++) out[i] = v.getUint32(i * 4, le); break;
      case MI.SINGLE: for (let i = 0; i < n; i++) out[i] = v.getFloat32(i * 4, le); break;
      case MI.DOUBLE: for (let i = 0; i < n; i++) out[i] = v.getFloat64(i * 8, le); break;
      case MI.INT64: for (let i = 0; i < n; i++) out[i] = Number(v.getBigInt64(i * 8, le)); break;
      case MI.UINT64: for (let i = 0; i < n; i++) out[i] = Number(v.getBigUint64(i * 8, le)); break;
      default: this.fail(`numeric data of unsupported type ${el.type}`);
    }
    return out;
  }

  text(el: Element): string {
    return Array.from(this.numbers(el), (c) => String.fromCharCode(c)).join('');
  }

  /** Parses one miMATRIX body; returns a numeric array or a reason it was skipped. */
  matrix(body: DataView): MatArray | { name: string; reason: string } {
    const flagsEl = this.element(body, 0);
    if (flagsEl.type !== MI.UINT32 || flagsEl.body.byteLength < 8) this.fail('miMATRIX without array flags');
    const flags = flagsEl.body.getUint32(0, this.little);
    const classId = flags & 0xff;
    const complex = (flags & 0x0800) !== 0;
    const logical = (flags & 0x0200) !== 0;
    const dimsEl = this.element(body, flagsEl.next);
    const dims = Array.from(this.numbers(dimsEl));
    const nameEl = this.element(body, dimsEl.next);
    const name = this.text(nameEl);
    const cls = CLASS_NAMES[classId] ?? `class ${classId}`;
    if (classId < 4 || classId === 5 || classId > 15) return { name, reason: `${cls} array (only numeric, logical and char arrays are read)` };
    if (complex) return { name, reason: `complex ${cls} array` };
    const realEl = this.element(body, nameEl.next);
    const data = this.numbers(realEl);
    const count = dims.reduce((a, b) => a * b, 1);
    if (data.length !== count) this.fail(`variable "${name}" has dimensions ${dims.join('×')} (${count} values) but holds ${data.length}`);
    return { name, className: (logical ? 'logical' : cls) as MatClass, dims, data };
  }
}

/** Reads every numeric variable of a MAT v5 file. */
export function readMatFile(file: string): MatFile {
  if (!existsSync(file)) throw new InvalidFileError(file, 'file not found', 'Check the path');
  return parseMatFile(file, readFileSync(file));
}

/** readMatFile reading asynchronously (the app's backend reads cubes on its event loop). */
export async function readMatFileAsync(file: string): Promise<MatFile> {
  if (!existsSync(file)) throw new InvalidFileError(file, 'file not found', 'Check the path');
  return parseMatFile(file, await readFile(file));
}

/** Parses the bytes `buf` of the MAT v5 file `file` (named in errors). */
export function parseMatFile(file: string, buf: Buffer): MatFile {
  if (buf.length < 128) throw new InvalidFileError(file, `only ${buf.length} bytes; a MAT v5 file has a 128-byte header`, 'The file is truncated or not a MAT-file');
  const header = buf.subarray(0, 116).toString('latin1').replace(/[\0 ]+$/, '');
  const isHdf5 = buf.length >= 520 && buf.subarray(512, 520).equals(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]));
  if (isHdf5 || /MATLAB 7\.3/.test(header)) {
    throw new MatVersionError(`${file}: this is a MAT v7.3 (HDF5) file, which this reader does not read. Re-save it as MAT v7 in MATLAB/Octave: load it, then save(FILE, "data", "map", "-v7").`, { file, header });
  }
  const endian = buf.subarray(126, 128).toString('latin1');
  if (!header.startsWith('MATLAB 5.0') && endian !== 'IM' && endian !== 'MI') {
    throw new MatVersionError(`${file}: not a MAT v5 file (header "${header.slice(0, 40)}"; MAT v4 and other formats are not read). Re-save it in MATLAB/Octave with save(FILE, "data", "map", "-v7").`, { file, header });
  }
  if (endian !== 'IM' && endian !== 'MI') throw new InvalidFileError(file, `bad endian indicator "${endian}" in the MAT header`, 'The file is corrupt; re-save it with save(FILE, "-v7")');
  const reader = new Reader(file, endian === 'IM');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const arrays = new Map<string, MatArray>();
  const skipped: { name: string; reason: string }[] = [];
  let off = 128;
  while (off < buf.length) {
    if (buf.length - off < 8) break; // trailing padding
    const el = reader.element(view, off);
    off = el.next;
    if (el.type !== MI.MATRIX) continue;
    if (el.body.byteLength === 0) continue; // empty placeholder
    const m = reader.matrix(el.body);
    if ('data' in m) arrays.set(m.name, m);
    else skipped.push(m);
  }
  return { file, header, arrays, skipped };
}

/**
 * Converts a column-major MATLAB array of dims [H, W] or [H, W, B] into row-major,
 * pixel-interleaved Float32 values: index (r·W + c)·B + b.
 */
export function matToPixelMajor(a: MatArray): { rows: number; cols: number; bands: number; values: Float32Array } {
  const [rows, cols, bands = 1, ...rest] = a.dims;
  if (rest.some((d) => d !== 1)) throw new InvalidFileError('', `variable "${a.name}" has ${a.dims.length} dimensions (${a.dims.join('×')}); expected H×W or H×W×B`, 'Reshape it to H×W×B before saving');
  const out = new Float32Array(rows * cols * bands);
  const src = a.data;
  const plane = rows * cols;
  for (let b = 0; b < bands; b++) {
    for (let c = 0; c < cols; c++) {
      const colBase = b * plane + c * rows;
      for (let r = 0; r < rows; r++) out[(r * cols + c) * bands + b] = src[colBase + r];
    }
  }
  return { rows, cols, bands, values: out };
}
