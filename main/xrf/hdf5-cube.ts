import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import h5wasm from 'h5wasm/node';
import type { Dataset, Group, Attribute } from 'h5wasm/node';
import { InvalidFileError, InvalidOptionError } from '../errors.ts';
import { matToPixelMajor } from './mat-v5.ts';
import { CubeFormatError, spectralAxisFromUnit, type SpectralAxis } from './cube.ts';

/**
 * HDF5 cubes through h5wasm (the HDF5 C library compiled to WebAssembly; its Node build reads the
 * host file system directly):
 * - MATLAB v7.3 `.mat` (HDF5 with a 512-byte user block): variables `data` (H×W×B) and `map`;
 *   MATLAB writes column-major, so an H×W×B variable is an HDF5 dataset of shape (B, W, H);
 * - NeXus `.nxs`: the NXdata group named by the `default` attributes (else the first NXdata
 *   whose `signal` is a rank-3 dataset) gives the detector spectra (y, x, channel) and, through
 *   its `axes` attribute, the energy axis and its units;
 * - HyperSpy `.hspy`: `/Experiments/<title>/data` with `axis-i` groups (name, units, scale,
 *   offset, navigate); the axis with navigate = false is the spectral one;
 * - any other `.h5`/`.hdf5`: the rank-3 (rows, cols, channels) or rank-2 dataset given by
 *   `--dataset PATH`, or the only rank-3 dataset in the file.
 */

/** Raw cube parts read from an HDF5 file, pixel-interleaved (index (r·W + c)·B + b). */
export interface Hdf5Cube {
  readonly rows: number;
  readonly cols: number;
  readonly bands: number;
  readonly values: Float32Array;
  readonly truth: Uint8Array | null;
  readonly bandNames: string[] | null;
  readonly spectralAxis: SpectralAxis | null;
  readonly pixelSizeUm: number | null;
  /** Dataset the cube came from (for messages and the run record). */
  readonly dataset: string;
}

export interface Hdf5DatasetInfo {
  readonly path: string;
  readonly shape: number[];
  readonly dtype: string;
  readonly attributes: string[];
}

let ready: Promise<unknown> | null = null;
async function h5(): Promise<typeof h5wasm> {
  ready ??= h5wasm.ready;
  await ready;
  return h5wasm;
}

const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Checks the HDF5 superblock before handing the file to the library: the library's own message
 * for a cut-off download is an opaque "name not defined", so the signature and the end-of-file
 * address it stores are read here (HDF5 File Format Specification §II.A, superblock versions 0–3).
 */
function checkSuperblock(file: string): void {
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(96);
    // The superblock sits at 0, 512, 1024, 2048, … (a user block, as MATLAB writes, shifts it).
    for (let at = 0; at < size; at = at === 0 ? 512 : at * 2) {
      const got = readSync(fd, head, 0, head.length, at);
      if (got < 8 || !head.subarray(0, 8).equals(SIGNATURE)) continue;
      const version = head[8];
      let eofAt: number, offsets: number;
      if (version <= 1) {
        offsets = head[13];
        eofAt = 24 + (version === 1 ? 4 : 0) + 2 * offsets;
      } else {
        offsets = head[9];
        eofAt = 12 + 2 * offsets;
      }
      if (offsets !== 8 && offsets !== 4) return; // unusual layout: let the library judge
      // The stored end-of-file address counts from the start of the file, user block included
      // (checked on h5py files with and without a 512-byte user block).
      const needed = offsets === 8 ? Number(head.readBigUInt64LE(eofAt)) : head.readUInt32LE(eofAt);
      if (size < needed) {
        throw new InvalidFileError(file, `the HDF5 file is truncated: it is ${size} bytes, its superblock says ${needed}`, 'Copy or download the file again (the transfer was cut off)', { size, expected: needed });
      }
      return;
    }
    throw new InvalidFileError(file, 'no HDF5 signature (not an HDF5 file, or its first bytes are damaged)', 'Give an HDF5 file (.h5, .hdf5, .nxs, .hspy, MATLAB v7.3 .mat)');
  } finally {
    closeSync(fd);
  }
}

async function openH5(file: string): Promise<InstanceType<typeof h5wasm.File>> {
  checkSuperblock(file);
  const lib = await h5();
  let f: InstanceType<typeof h5wasm.File>;
  try {
    f = new lib.File(resolve(file), 'r');
  } catch (e) {
    throw new InvalidFileError(file, `HDF5 could not open it (${(e as Error).message})`, 'Check that the file is a complete HDF5 file');
  }
  // h5wasm returns a closed handle (file_id < 0) instead of throwing on some corrupt files.
  if (f.file_id < 0n) throw new InvalidFileError(file, 'HDF5 could not open it', 'Check that the file is a complete HDF5 file');
  return f;
}

function isDataset(e: unknown): e is Dataset {
  return e instanceof h5wasm.Dataset;
}
function isGroup(e: unknown): e is Group {
  return e instanceof h5wasm.Group;
}

function attr(obj: { attrs: Record<string, Attribute> }, name: string): unknown {
  const a = obj.attrs[name];
  return a ? a.json_value : undefined;
}
function attrString(obj: { attrs: Record<string, Attribute> }, name: string): string | null {
  const v = attr(obj, name);
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0];
  return null;
}

function dtypeName(d: Dataset): string {
  const m = d.metadata;
  if (m.type === 0) return `${m.signed ? 'int' : 'uint'}${m.size * 8}`;
  if (m.type === 1) return `float${m.size * 8}`;
  if (m.type === 3) return 'string';
  return typeof d.dtype === 'string' ? d.dtype : 'compound';
}

/** Every dataset in the file with its shape and dtype (the `info` command on HDF5 files). */
export async function listHdf5Datasets(file: string): Promise<Hdf5DatasetInfo[]> {
  const f = await openH5(file);
  try {
    const out: Hdf5DatasetInfo[] = [];
    for (const p of f.paths()) {
      const e = f.get(p);
      if (isDataset(e)) out.push({ path: `/${p}`, shape: e.shape ?? [], dtype: dtypeName(e), attributes: Object.keys(e.attrs) });
    }
    return out;
  } finally {
    f.close();
  }
}

/** Numeric values of a dataset as Float64 (integers, floats, 64-bit integers, booleans). */
function numericValues(file: string, d: Dataset): Float64Array {
  const m = d.metadata;
  if (m.type !== 0 && m.type !== 1) throw new CubeFormatError(`${file}: dataset /${d.path.replace(/^\//, '')} holds ${dtypeName(d)} values, not numbers. Pass the spectra dataset with --dataset PATH`, { file, dataset: d.path });
  const v = d.value;
  if (v instanceof Float64Array) return v;
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) return Float64Array.from(v, (x) => Number(x));
  if (ArrayBuffer.isView(v)) return Float64Array.from(v as unknown as ArrayLike<number>);
  if (typeof v === 'number') return Float64Array.of(v);
  throw new CubeFormatError(`${file}: dataset ${d.path} could not be read as numbers`, { file, dataset: d.path });
}

function rankError(file: string, d: Dataset, wanted: string): CubeFormatError {
  const shape = d.shape ?? [];
  return new CubeFormatError(
    `${file}: dataset ${d.path.startsWith('/') ? d.path : `/${d.path}`} has rank ${shape.length} (shape ${shape.join('×') || 'scalar'}); expected ${wanted}. Pass the spectra dataset with --dataset PATH (geoanomaly info ${basename(file)} lists them)`,
    { file, dataset: d.path, shape },
  );
}

/** C-order (rows, cols, channels) — or (rows, cols) as one band — to pixel-interleaved Float32. */
function rowMajorCube(file: string, d: Dataset): { rows: number; cols: number; bands: number; values: Float32Array } {
  const shape = d.shape ?? [];
  if (shape.length !== 3 && shape.length !== 2) throw rankError(file, d, '3 (rows, cols, channels) or 2 (rows, cols)');
  const [rows, cols, bands = 1] = shape;
  // A float32 dataset is used as read: no float64 copy of a 10⁸-value cube.
  const m = d.metadata;
  const v = m.type === 1 && m.size === 4 ? d.value : null;
  if (v instanceof Float32Array) return { rows, cols, bands, values: v };
  return { rows, cols, bands, values: Float32Array.from(numericValues(file, d)) };
}

function maskValues(file: string, d: Dataset, rows: number, cols: number, columnMajor: boolean): Uint8Array {
  const shape = d.shape ?? [];
  const [r, c] = columnMajor ? [shape[1], shape[0]] : [shape[0], shape[1]];
  if (shape.length !== 2 || r !== rows || c !== cols) throw new CubeFormatError(`${file}: truth ${d.path} is ${columnMajor ? [...shape].reverse().join('×') : shape.join('×')} but the cube is ${rows}×${cols}. Give a mask of the cube's size`, { file });
  const v = numericValues(file, d);
  const out = new Uint8Array(rows * cols);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      const q = columnMajor ? v[x * rows + y] : v[y * cols + x];
      if (!Number.isFinite(q)) throw new CubeFormatError(`${file}: the truth mask holds ${q}; expected 0 (background) or non-zero (anomaly)`, { file });
      out[y * cols + x] = q !== 0 ? 1 : 0;
    }
  }
  return out;
}

function datasetAt(file: string, f: Group, path: string, flag: string): Dataset {
  const e = f.get(path.replace(/^\/+/, ''));
  if (!isDataset(e)) {
    const all = f.paths().filter((p) => isDataset(f.get(p))).map((p) => `/${p}`);
    throw new InvalidOptionError(`${file}: no dataset at ${path} (datasets: ${all.join(', ') || 'none'}). Give one of them with ${flag}`);
  }
  return e;
}

function isMatlab73(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(10);
    readSync(fd, b, 0, 10, 0);
    return b.toString('latin1').startsWith('MATLAB 7.3');
  } finally {
    closeSync(fd);
  }
}

export interface Hdf5CubeOptions {
  /** Dataset path of the cube (generic HDF5; overrides the NeXus/HyperSpy/MAT discovery). */
  readonly dataset?: string;
  /** MAT v7.3 variable names. Defaults `data` and `map`. */
  readonly dataKey?: string;
  readonly truthKey?: string;
}

export async function readHdf5Cube(file: string, o: Hdf5CubeOptions = {}): Promise<Hdf5Cube> {
  const ext = extname(file).toLowerCase();
  const matlab = ext === '.mat';
  if (matlab && !isMatlab73(file)) throw new InvalidFileError(file, 'an HDF5 .mat file without the "MATLAB 7.3" header', 'Save it from MATLAB with save -v7.3, or as MAT v5 (save -v7)');
  const f = await openH5(file);
  try {
    if (matlab && !o.dataset) return readMat73(file, f, o);
    if (o.dataset) return fromGeneric(file, datasetAt(file, f, o.dataset, '--dataset PATH'), null);
    if (ext === '.hspy' || f.keys().includes('Experiments')) return readHyperSpy(file, f);
    const nx = findNxData(f);
    if (nx) return readNexus(file, f, nx);
    const rank3 = f.paths().map((p) => f.get(p)).filter((e): e is Dataset => isDataset(e) && (e.shape?.length ?? 0) === 3);
    if (rank3.length === 1) return fromGeneric(file, rank3[0], null);
    const all = f.paths().filter((p) => isDataset(f.get(p))).map((p) => { const d = f.get(p) as Dataset; return `/${p} (${(d.shape ?? []).join('×')})`; });
    throw new InvalidOptionError(`${file}: ${rank3.length === 0 ? 'no rank-3 dataset' : `${rank3.length} rank-3 datasets`} to take as the cube (datasets: ${all.join(', ') || 'none'}). Choose one with --dataset PATH`);
  } finally {
    f.close();
  }
}

/** A MAT v7.3 mask variable (H×W, column-major as MATLAB writes it) checked against the cube size. */
export async function readMat73Mask(file: string, key: string, rows: number, cols: number): Promise<Uint8Array> {
  const f = await openH5(file);
  try {
    const m = f.get(key);
    if (!isDataset(m)) throw new CubeFormatError(`${file}: no variable "${key}" (found: ${f.keys().join(', ') || 'none'}). Save the mask as "${key}"`, { file });
    return maskValues(file, m, rows, cols, true);
  } finally {
    f.close();
  }
}

function fromGeneric(file: string, d: Dataset, axis: SpectralAxis | null): Hdf5Cube {
  const c = rowMajorCube(file, d);
  return { ...c, truth: null, bandNames: null, spectralAxis: axis, pixelSizeUm: null, dataset: d.path.startsWith('/') ? d.path : `/${d.path}` };
}

function readMat73(file: string, f: InstanceType<typeof h5wasm.File>, o: Hdf5CubeOptions): Hdf5Cube {
  const dataKey = o.dataKey ?? 'data';
  const truthKey = o.truthKey ?? 'map';
  const d = f.get(dataKey);
  if (!isDataset(d)) throw new CubeFormatError(`${file}: no variable "${dataKey}" (found: ${f.keys().join(', ') || 'none'}). Save the cube as "${dataKey}" (H×W×B)`, { file });
  const shape = d.shape ?? [];
  if (shape.length !== 3 && shape.length !== 2) throw rankError(file, d, 'an H×W×B (or H×W) MATLAB array');
  // MATLAB's column-major H×W×B is C-order (B, W, H): the flat values are MATLAB's own order.
  const dims = [...shape].reverse();
  const px = matToPixelMajor({ name: dataKey, className: 'double', dims, data: numericValues(file, d) });
  const m = f.get(truthKey);
  const truth = isDataset(m) ? maskValues(file, m, px.rows, px.cols, true) : null;
  return { rows: px.rows, cols: px.cols, bands: px.bands, values: px.values, truth, bandNames: null, spectralAxis: null, pixelSizeUm: null, dataset: `/${dataKey}` };
}

/** The NXdata group of the file's default plot (NeXus `default` attributes), else the first NXdata with a rank-3 signal. */
function findNxData(f: InstanceType<typeof h5wasm.File>): Group | null {
  let g: Group = f;
  for (let depth = 0; depth < 4; depth++) {
    const def = attrString(g, 'default');
    const next = def ? g.get(def) : null;
    if (!isGroup(next)) break;
    g = next;
    if (attrString(g, 'NX_class') === 'NXdata') return g;
  }
  for (const p of f.paths()) {
    const e = f.get(p);
    if (!isGroup(e) || attrString(e, 'NX_class') !== 'NXdata') continue;
    const sig = attrString(e, 'signal');
    const d = sig ? e.get(sig) : null;
    if (isDataset(d) && (d.shape?.length ?? 0) === 3) return e;
  }
  return null;
}

function readNexus(file: string, f: InstanceType<typeof h5wasm.File>, nx: Group): Hdf5Cube {
  const sig = attrString(nx, 'signal');
  const d = sig ? nx.get(sig) : null;
  if (!isDataset(d)) throw new CubeFormatError(`${file}: NXdata ${nx.path} has no signal dataset "${sig ?? ''}". Give the spectra with --dataset PATH`, { file });
  if ((d.shape?.length ?? 0) !== 3) throw rankError(file, d, '3 (y, x, energy) for an XRF map');
  const axesAttr = attr(nx, 'axes');
  const axes = Array.isArray(axesAttr) ? axesAttr.map(String) : typeof axesAttr === 'string' ? axesAttr.split(/[:,]/) : [];
  let axis: SpectralAxis | null = null;
  const B = (d.shape as number[])[2];
  const last = axes[2];
  const e = last && last !== '.' ? nx.get(last) : null;
  if (isDataset(e) && (e.shape ?? []).length === 1 && (e.shape as number[])[0] === B) {
    axis = spectralAxisFromUnit(attrString(e, 'units') ?? (/energy/i.test(last) ? 'keV' : ''), Array.from(numericValues(file, e)));
  }
  // Pixel size from the x axis when it is given in a length unit.
  let pixelSizeUm: number | null = null;
  const xa = axes[1] && axes[1] !== '.' ? nx.get(axes[1]) : null;
  if (isDataset(xa) && ((xa.shape ?? [])[0] ?? 0) > 1) {
    const xv = numericValues(file, xa);
    const scale = lengthToUm(attrString(xa, 'units'));
    if (scale) pixelSizeUm = Math.abs(xv[1] - xv[0]) * scale;
  }
  const c = fromGeneric(file, d, axis);
  return { ...c, pixelSizeUm, bandNames: null };
}

function lengthToUm(unit: string | null): number | null {
  const u = (unit ?? '').trim().toLowerCase();
  if (u === 'mm') return 1000;
  if (u === 'um' || u === 'µm' || u === 'μm' || u === 'micron' || u === 'microns') return 1;
  if (u === 'nm') return 1e-3;
  if (u === 'm') return 1e6;
  return null;
}

function readHyperSpy(file: string, f: InstanceType<typeof h5wasm.File>): Hdf5Cube {
  const exp = f.get('Experiments');
  const names = isGroup(exp) ? exp.keys() : [];
  if (!isGroup(exp) || names.length === 0) throw new CubeFormatError(`${file}: a HyperSpy file without /Experiments/<name>/data. Give the spectra with --dataset PATH`, { file });
  if (names.length > 1) throw new InvalidOptionError(`${file}: ${names.length} HyperSpy signals (${names.join(', ')}); choose one with --dataset /Experiments/<name>/data`);
  const g = exp.get(names[0]);
  const d = isGroup(g) ? g.get('data') : null;
  if (!isGroup(g) || !isDataset(d)) throw new CubeFormatError(`${file}: /Experiments/${names[0]} has no "data" dataset`, { file });
  const shape = d.shape ?? [];
  if (shape.length !== 3) throw rankError(file, d, '3 (y, x, energy): a spectrum image');
  let axis: SpectralAxis | null = null;
  let pixelSizeUm: number | null = null;
  for (let i = 0; i < 3; i++) {
    const a = g.get(`axis-${i}`);
    if (!isGroup(a)) continue;
    const navigate = attr(a, 'navigate');
    const size = Number(attr(a, 'size') ?? shape[i]);
    const scale = Number(attr(a, 'scale') ?? 1);
    const offset = Number(attr(a, 'offset') ?? 0);
    const units = attrString(a, 'units');
    if ((navigate === false || navigate === 0) && size === shape[2]) {
      axis = spectralAxisFromUnit(units, Array.from({ length: size }, (_, k) => offset + k * scale));
    } else if (i === 1) {
      const s = lengthToUm(units);
      if (s) pixelSizeUm = Math.abs(scale) * s;
    }
  }
  const c = fromGeneric(file, d, axis);
  return { ...c, pixelSizeUm };
}
