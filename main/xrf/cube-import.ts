import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import Papa from 'papaparse';
import { fromArrayBuffer } from 'geotiff';
import type { GridSpec } from '../grid/grid-spec.ts';
import { readGeoTiff } from '../io/geotiff-read.ts';
import { EmptyInputError, InvalidFileError } from '../errors.ts';
import { readMatFile, matToPixelMajor } from './mat-v5.ts';
import { decodePngGrey } from './png.ts';
import { CubeFormatError, dropBands, makeCube, type SpectralAxis, type SpectralCube } from './cube.ts';
import { readHdf5Cube, readMat73Mask } from './hdf5-cube.ts';
import { readEnviCube } from './envi-cube.ts';
import { decodeBmp, elementBandName, readTextMap, tiffPixelSizeUm } from './element-maps.ts';

/**
 * Cube import: MAT v5 and v7.3 (`data` H×W×B, optional `map` H×W truth), HDF5 (`.h5`/`.hdf5`
 * with a dataset path, NeXus `.nxs`, HyperSpy `.hspy`), ENVI (`.hdr` + data file), a multi-band
 * TIFF, a folder of per-element maps (TIFF, PNG, BMP or text matrices, file name = element line),
 * or a CSV of x, y and channels.
 */
export interface CubeImportOptions {
  /** HDF5 dataset path of the cube (`--dataset /entry/data`). Default: found from the file's layout. */
  readonly dataset?: string;
  /** Bands left out after reading (`--drop-bands`), by name: dead channels, sum spectra. */
  readonly dropBands?: readonly string[];
  /** MAT variable holding the cube. Default `data`. */
  readonly dataKey?: string;
  /** MAT variable holding the truth mask. Default `map` (optional in the file). */
  readonly truthKey?: string;
  /** CSV coordinate columns (case-insensitive). Defaults `x` and `y`. */
  readonly xColumn?: string;
  readonly yColumn?: string;
}

interface Plane {
  rows: number;
  cols: number;
  bands: Float32Array[];
  names: string[];
  grid: GridSpec | null;
  pixelSizeUm: number | null;
}

/** What a reader found, before band dropping and the checks of makeCube. */
type CubeParts = Parameters<typeof makeCube>[0] & { bandNames: string[] };

const HDF5_EXT = ['.h5', '.hdf5', '.he5', '.nxs', '.nx5', '.hspy'];
const ENVI_EXT = ['.hdr', '.img', '.dat', '.raw', '.bsq', '.bil', '.bip'];

/** Reads a TIFF with or without georeferencing: georeferenced files keep their grid. */
async function readTiffPlanes(file: string): Promise<Plane> {
  try {
    const s = await readGeoTiff(file);
    return { rows: s.grid.rows, cols: s.grid.cols, bands: s.bands, names: s.bandNames, grid: s.grid, pixelSizeUm: null };
  } catch (e) {
    if (!(e instanceof InvalidFileError) || !/georeferencing/.test(e.message)) throw e;
  }
  // A plain (lab) TIFF: micro-XRF exports rarely carry map coordinates.
  const buf = readFileSync(file);
  const tiff = await fromArrayBuffer(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
  const image = await tiff.getImage(0);
  const rasters = (await image.readRasters({ interleave: false })) as unknown as ArrayLike<number>[];
  const stem = basename(file, extname(file));
  // Instruments record the pixel size in the TIFF resolution tags (pixels per cm or inch).
  const fd = image.fileDirectory as unknown as { getValue?: (tag: string) => unknown };
  const xres = fd.getValue?.('XResolution') as ArrayLike<number> | number | undefined;
  const unit = fd.getValue?.('ResolutionUnit') as number | undefined;
  return {
    rows: image.getHeight(),
    cols: image.getWidth(),
    bands: rasters.map((r) => Float32Array.from(r)),
    names: rasters.map((_, i) => (rasters.length === 1 ? stem : `${stem}_${i + 1}`)),
    grid: null,
    pixelSizeUm: tiffPixelSizeUm(xres, unit),
  };
}

function planesToCube(p: Plane, source: string, truth: Uint8Array | null): CubeParts {
  const B = p.bands.length;
  const n = p.rows * p.cols;
  const pixels = new Float32Array(n * B);
  for (let b = 0; b < B; b++) {
    const band = p.bands[b];
    for (let i = 0; i < n; i++) pixels[i * B + b] = band[i];
  }
  return { rows: p.rows, cols: p.cols, bandCount: B, bandNames: p.names, pixels, truth, grid: p.grid, source, pixelSizeUm: p.pixelSizeUm };
}

function defaultNames(B: number): string[] {
  return Array.from({ length: B }, (_, b) => `band_${b + 1}`);
}

function readMatCube(file: string, o: CubeImportOptions): CubeParts {
  const dataKey = o.dataKey ?? 'data';
  const truthKey = o.truthKey ?? 'map';
  const mat = readMatFile(file);
  const a = mat.arrays.get(dataKey);
  if (!a) {
    const present = [...mat.arrays.keys(), ...mat.skipped.map((s) => `${s.name} (${s.reason})`)];
    throw new CubeFormatError(`${file}: no numeric variable "${dataKey}" (found: ${present.join(', ') || 'none'}). Save the cube as "${dataKey}" (H×W×B) or pass its variable name`, { file, present });
  }
  if (a.dims.length < 2 || a.dims.length > 3) throw new CubeFormatError(`${file}: "${dataKey}" is ${a.dims.join('×')}; expected H×W×B`, { file, dims: a.dims });
  const cube = matToPixelMajor(a);
  let truth: Uint8Array | null = null;
  const m = mat.arrays.get(truthKey);
  if (m) truth = maskFromMat(file, m.dims, m.data, cube.rows, cube.cols, truthKey);
  return { rows: cube.rows, cols: cube.cols, bandCount: cube.bands, bandNames: defaultNames(cube.bands), pixels: cube.values, truth, grid: null, source: file };
}

function maskFromMat(file: string, dims: number[], data: Float64Array, rows: number, cols: number, key: string): Uint8Array {
  if (dims.length !== 2 || dims[0] !== rows || dims[1] !== cols) {
    throw new CubeFormatError(`${file}: truth "${key}" is ${dims.join('×')} but the cube is ${rows}×${cols}. Give a mask of the cube's size`, { file, dims, rows, cols });
  }
  const out = new Uint8Array(rows * cols);
  for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) out[r * cols + c] = binaryValue(file, data[c * rows + r]);
  return out;
}

function binaryValue(file: string, v: number): number {
  if (!Number.isFinite(v)) throw new CubeFormatError(`${file}: the truth mask holds ${v}; expected 0 (background) or non-zero (anomaly)`, { file });
  return v !== 0 ? 1 : 0;
}

function readCsvCube(file: string, o: CubeImportOptions): CubeParts {
  const text = readFileSync(file, 'utf8');
  const parsed = Papa.parse<string[]>(text.trim(), { skipEmptyLines: true });
  const rowsIn = parsed.data;
  if (rowsIn.length < 2) throw new EmptyInputError(file, 'the CSV has no data rows', 'Export one row per pixel: x, y, then one column per channel');
  const header = rowsIn[0].map((h) => h.trim());
  const lower = header.map((h) => h.toLowerCase());
  const xi = lower.indexOf((o.xColumn ?? 'x').toLowerCase());
  const yi = lower.indexOf((o.yColumn ?? 'y').toLowerCase());
  if (xi < 0 || yi < 0) throw new CubeFormatError(`${file}: no "${o.xColumn ?? 'x'}" / "${o.yColumn ?? 'y'}" columns (header: ${header.join(', ')}). Name the pixel coordinate columns x and y`, { file, header });
  const chanIdx = header.map((_, i) => i).filter((i) => i !== xi && i !== yi);
  if (chanIdx.length === 0) throw new EmptyInputError(file, 'the CSV has coordinates but no channel columns', 'Add one column per channel');
  const xs: number[] = [];
  const ys: number[] = [];
  const vals: number[][] = [];
  for (let r = 1; r < rowsIn.length; r++) {
    const row = rowsIn[r];
    if (row.length !== header.length) throw new CubeFormatError(`${file}: line ${r + 1} has ${row.length} fields, the header ${header.length}`, { file, line: r + 1 });
    const num = (i: number): number => {
      const v = Number(row[i]);
      if (row[i].trim() === '' || !Number.isFinite(v)) throw new CubeFormatError(`${file}: line ${r + 1}, column "${header[i]}" holds "${row[i]}", not a number`, { file, line: r + 1, column: header[i] });
      return v;
    };
    xs.push(num(xi));
    ys.push(num(yi));
    vals.push(chanIdx.map(num));
  }
  // Pixel positions: the distinct x and y values must form a regular lattice.
  const axis = (v: number[], name: string): Map<number, number> => {
    const u = [...new Set(v)].sort((a, b) => a - b);
    const step = u.length > 1 ? u[1] - u[0] : 1;
    u.forEach((q, k) => {
      if (Math.abs(q - (u[0] + k * step)) > 1e-6 * Math.max(1, Math.abs(step))) {
        throw new CubeFormatError(`${file}: the ${name} coordinates are not a regular grid (value ${q} where ${u[0] + k * step} was expected). Export every pixel on a regular raster`, { file });
      }
    });
    return new Map(u.map((q, k) => [q, k]));
  };
  const xmap = axis(xs, 'x');
  const ymap = axis(ys, 'y');
  const cols = xmap.size;
  const rows = ymap.size;
  const B = chanIdx.length;
  if (rows * cols !== xs.length) throw new CubeFormatError(`${file}: ${xs.length} pixel rows do not fill the ${rows}×${cols} grid their x/y values span (${rows * cols}); pixels are missing or duplicated`, { file, rows, cols, count: xs.length });
  const pixels = new Float32Array(rows * cols * B);
  const seen = new Uint8Array(rows * cols);
  xs.forEach((x, k) => {
    // Image convention of micro-XRF stages: y grows downward, so row = rank of y.
    const p = (ymap.get(ys[k]) as number) * cols + (xmap.get(x) as number);
    if (seen[p]) throw new CubeFormatError(`${file}: pixel x=${x}, y=${ys[k]} appears twice`, { file });
    seen[p] = 1;
    for (let b = 0; b < B; b++) pixels[p * B + b] = vals[k][b];
  });
  return { rows, cols, bandCount: B, bandNames: chanIdx.map((i) => header[i]), pixels, truth: null, grid: null, source: file };
}

async function readImagePlane(file: string): Promise<Plane> {
  const name = basename(file, extname(file));
  if (/\.png$/i.test(file)) {
    const png = decodePngGrey(readFileSync(file), file);
    return { rows: png.height, cols: png.width, bands: [Float32Array.from(png.values)], names: [name], grid: null, pixelSizeUm: null };
  }
  if (/\.bmp$/i.test(file)) {
    const m = decodeBmp(readFileSync(file), file);
    return { rows: m.rows, cols: m.cols, bands: [m.values], names: [name], grid: null, pixelSizeUm: m.pixelSizeUm };
  }
  if (/\.txt$/i.test(file)) {
    const m = readTextMap(file);
    return { rows: m.rows, cols: m.cols, bands: [m.values], names: [name], grid: null, pixelSizeUm: m.pixelSizeUm };
  }
  return readTiffPlanes(file);
}

async function readFolderCube(dir: string): Promise<CubeParts> {
  const files = readdirSync(dir)
    .filter((f) => /\.(tiff?|png|bmp|txt)$/i.test(f))
    .sort((a, b) => a.localeCompare(b, 'en'));
  if (files.length === 0) throw new EmptyInputError(dir, 'the folder holds no .tif/.tiff/.png/.bmp/.txt element maps', 'Put one single-band map per element line in the folder (e.g. Fe-Ka.tif)');
  const acc: Plane = { rows: 0, cols: 0, bands: [], names: [], grid: null, pixelSizeUm: null };
  const seen = new Map<string, string>();
  for (const f of files) {
    const path = join(dir, f);
    const p = await readImagePlane(path);
    if (p.bands.length !== 1) throw new CubeFormatError(`${path} has ${p.bands.length} bands; a folder of element maps needs single-band images`, { file: path });
    if (acc.bands.length === 0) {
      acc.rows = p.rows;
      acc.cols = p.cols;
      acc.grid = p.grid;
    } else if (p.rows !== acc.rows || p.cols !== acc.cols) {
      throw new CubeFormatError(`${path} is ${p.rows}×${p.cols} pixels but ${join(dir, files[0])} is ${acc.rows}×${acc.cols}; every element map must have the same size`, { file: path });
    }
    // "Fe-Ka", "Fe_Ka" and "Fe Ka" name the same band: two files for one line are ambiguous.
    const band = elementBandName(f);
    const twin = seen.get(band);
    if (twin) throw new CubeFormatError(`${dir}: ${twin} and ${f} are both the ${band} map. Keep one of them in the folder`, { file: dir, band });
    seen.set(band, f);
    acc.pixelSizeUm ??= p.pixelSizeUm;
    acc.bands.push(p.bands[0]);
    acc.names.push(band);
  }
  return planesToCube(acc, dir, null);
}

function isMatlab73(file: string): boolean {
  return readFileSync(file).subarray(0, 10).toString('latin1') === 'MATLAB 7.3';
}

async function readHdf5Parts(file: string, o: CubeImportOptions): Promise<CubeParts> {
  const h = await readHdf5Cube(file, { dataset: o.dataset, dataKey: o.dataKey, truthKey: o.truthKey });
  const names = h.bandNames ?? defaultNames(h.bands);
  return { rows: h.rows, cols: h.cols, bandCount: h.bands, bandNames: names, pixels: h.values, truth: h.truth, grid: null, source: file, spectralAxis: h.spectralAxis, pixelSizeUm: h.pixelSizeUm };
}

function readEnviParts(file: string): CubeParts {
  const e = readEnviCube(file);
  const axis: SpectralAxis | null = e.header.spectralAxis;
  return { rows: e.rows, cols: e.cols, bandCount: e.bands, bandNames: e.header.bandNames ?? defaultNames(e.bands), pixels: e.values, truth: null, grid: null, source: file, spectralAxis: axis, pixelSizeUm: e.header.pixelSizeUm };
}

async function readParts(path: string, options: CubeImportOptions): Promise<CubeParts> {
  if (statSync(path).isDirectory()) return readFolderCube(path);
  const ext = extname(path).toLowerCase();
  if (ext === '.mat') return isMatlab73(path) ? readHdf5Parts(path, options) : readMatCube(path, options);
  if (HDF5_EXT.includes(ext)) return readHdf5Parts(path, options);
  if (ENVI_EXT.includes(ext)) return readEnviParts(path);
  if (ext === '.tif' || ext === '.tiff') return planesToCube(await readTiffPlanes(path), path, null);
  if (ext === '.csv') return readCsvCube(path, options);
  throw new InvalidFileError(path, `unknown cube format "${ext}"`, 'Give a MAT file (.mat v5 or v7.3), HDF5 (.h5/.hdf5 with --dataset, .nxs, .hspy), ENVI (.hdr + .img), a multi-band TIFF, a CSV of x, y, channels, or a folder of element maps');
}

/** Reads a spectral cube from any supported file or folder (see CubeImportOptions). */
export async function readCube(path: string, options: CubeImportOptions = {}): Promise<SpectralCube> {
  if (!existsSync(path)) throw new InvalidFileError(path, 'no such file or folder', 'Check the path');
  const parts = await readParts(path, options);
  return makeCube(dropBands(parts, options.dropBands ?? []));
}

/** Reads a truth mask (TIFF, PNG or .mat variable `map`) and checks it against the cube size. */
export async function readTruthMask(path: string, rows: number, cols: number, matKey = 'map'): Promise<Uint8Array> {
  if (!existsSync(path)) throw new InvalidFileError(path, 'no such file', 'Check the truth mask path');
  const ext = extname(path).toLowerCase();
  let values: ArrayLike<number>;
  let r: number, c: number;
  if (ext === '.mat' && isMatlab73(path)) {
    return readMat73Mask(path, matKey, rows, cols);
  } else if (ext === '.mat') {
    const mat = readMatFile(path);
    const m = mat.arrays.get(matKey);
    if (!m) throw new CubeFormatError(`${path}: no variable "${matKey}" (found: ${[...mat.arrays.keys()].join(', ') || 'none'}). Save the mask as "${matKey}"`, { file: path });
    return maskFromMat(path, m.dims, m.data, rows, cols, matKey);
  } else if (ext === '.png') {
    const png = decodePngGrey(readFileSync(path), path);
    [values, r, c] = [png.values, png.height, png.width];
  } else if (ext === '.tif' || ext === '.tiff') {
    const p = await readTiffPlanes(path);
    if (p.bands.length !== 1) throw new CubeFormatError(`${path}: a truth mask needs one band, this file has ${p.bands.length}`, { file: path });
    [values, r, c] = [p.bands[0], p.rows, p.cols];
  } else {
    throw new InvalidFileError(path, `unknown mask format "${ext}"`, 'Give the mask as a TIFF, PNG or .mat file');
  }
  if (r !== rows || c !== cols) throw new CubeFormatError(`${path}: the mask is ${r}×${c} pixels but the cube is ${rows}×${cols}. Give a mask of the cube's size`, { file: path });
  const out = new Uint8Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = binaryValue(path, values[i]);
  return out;
}
