import { readdirSync, statSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { fromArrayBuffer, fromFile, type GeoTIFF, type GeoTIFFImage } from 'geotiff';
import type { GridSpec } from '../grid/grid-spec.ts';
import { compareGrids } from '../grid/grid-spec.ts';
import type { Crs } from '../grid/crs.ts';
import { crsFromGeoKeys } from '../grid/crs-geokeys.ts';
import { assertBandsHaveData, makeStack, type RasterStack } from '../grid/raster.ts';
import { CrsError, EmptyInputError, GridMismatchError, InvalidFileError } from '../errors.ts';

/** What a GeoTIFF holds besides its pixels. */
export interface GeoTiffInfo {
  readonly grid: GridSpec;
  readonly bandCount: number;
  readonly bandNames: string[];
  /** Unit of each band (GDAL's band unit type, UNITTYPE), null where the file records none. */
  readonly bandUnits: (string | null)[];
  /** Dataset-level GDAL metadata items (`krige` writes KRIGING, VARIOGRAM_<field>, CONTENT …). */
  readonly metadata: Readonly<Record<string, string>>;
  readonly nodata: number | null;
  readonly sampleFormat: 'float' | 'int' | 'uint';
  readonly bitsPerSample: number;
}

const PIXEL_IS_POINT = 2;

function crsOf(keys: Record<string, unknown> | null, file: string): Crs | null {
  const r = crsFromGeoKeys(keys);
  if (!r.crs && r.problem) {
    throw new CrsError(`${file}: its GeoKeys declare a CRS the workbench cannot read (${r.problem}). Re-export it with an EPSG CRS: gdalwarp -t_srs EPSG:NNNN.`, { file, problem: r.problem });
  }
  return r.crs;
}

async function openTiff(file: string): Promise<{ image: GeoTIFFImage; count: number }> {
  if (!existsSync(file)) {
    throw new InvalidFileError(file, 'file not found', 'Check the path');
  }
  const buf = await readFile(file); // async: the app's backend reads rasters on its event loop
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  try {
    const tiff = await fromArrayBuffer(ab);
    const image = await tiff.getImage(0);
    // Touch the pixel layout now so that truncation shows up here, with the file's name.
    image.getWidth();
    image.getHeight();
    return { image, count: await tiff.getImageCount() };
  } catch (e) {
    throw new InvalidFileError(
      file,
      `not a readable GeoTIFF (${(e as Error).message})`,
      'The file is truncated, corrupt or not a TIFF; re-export it as a GeoTIFF (e.g. gdal_translate -of GTiff)',
    );
  }
}

function gridOf(image: GeoTIFFImage, file: string): GridSpec {
  let origin: number[];
  let res: number[];
  try {
    origin = image.getOrigin();
    res = image.getResolution();
  } catch {
    throw new InvalidFileError(file, 'the TIFF has no georeferencing (no tie point / pixel scale / transformation)', 'Georeference it first (e.g. gdal_translate -a_ullr … -a_srs EPSG:NNNN)');
  }
  const keys = image.getGeoKeys() as Record<string, unknown> | null;
  let originX = origin[0];
  let originY = origin[1];
  const cellX = Math.abs(res[0]);
  const cellY = Math.abs(res[1]);
  if (keys && keys.GTRasterTypeGeoKey === PIXEL_IS_POINT) {
    // PixelIsPoint: the tie point is the centre of cell (0,0); GDAL shifts by half a cell likewise.
    originX -= cellX / 2;
    originY += cellY / 2;
  }
  if (res[1] > 0) {
    throw new InvalidFileError(file, 'the raster is south-up (positive y resolution)', 'Flip it to north-up with gdalwarp before importing');
  }
  return {
    originX,
    originY,
    cellSizeX: cellX,
    cellSizeY: cellY,
    rows: image.getHeight(),
    cols: image.getWidth(),
    crs: crsOf(keys, file),
  };
}

async function bandNamesOf(image: GeoTIFFImage, count: number, fallback: string): Promise<string[]> {
  const names: string[] = [];
  for (let s = 0; s < count; s++) {
    const md = (await image.getGDALMetadata(s)) ?? {};
    const d = md.DESCRIPTION;
    names.push(typeof d === 'string' && d.trim() !== '' ? d.trim() : count === 1 ? fallback : `${fallback}_${s + 1}`);
  }
  return names;
}

/** GDAL_METADATA text is XML: geotiff.js hands item text over with its entities still escaped. */
function xmlText(v: unknown): string {
  return String(v).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&').trim();
}

async function bandUnitsOf(image: GeoTIFFImage, count: number): Promise<(string | null)[]> {
  const units: (string | null)[] = [];
  for (let s = 0; s < count; s++) {
    const u = ((await image.getGDALMetadata(s)) ?? {}).UNITTYPE;
    units.push(u !== undefined && u !== null && xmlText(u) !== '' ? xmlText(u) : null);
  }
  return units;
}

async function datasetMetadataOf(image: GeoTIFFImage): Promise<Record<string, string>> {
  const md = (await image.getGDALMetadata(null)) ?? {};
  return Object.fromEntries(Object.entries(md).map(([k, v]) => [k, xmlText(v)]));
}

function sampleFormatOf(image: GeoTIFFImage): 'float' | 'int' | 'uint' {
  const fd = image.getFileDirectory();
  const sf = fd.getValue('SampleFormat') as ArrayLike<number> | number | undefined;
  const v = typeof sf === 'number' ? sf : sf && sf.length > 0 ? sf[0] : 1;
  return v === 3 ? 'float' : v === 2 ? 'int' : 'uint';
}

/** Reads the header of a GeoTIFF (grid, CRS, band names, nodata) without its pixels. */
export async function readGeoTiffInfo(file: string): Promise<GeoTiffInfo> {
  // Header reads only (geotiff.js fromFile fetches the byte ranges it parses): openTiff's whole-file
  // read made every header look-up of a 1.4 GB stack cost 2.8 GB of memory (the file plus its
  // ArrayBuffer copy), the peak of every prediction worker (measured: VmHWM 2.97 GB at the first
  // tile of a 3,000 × 3,000 × 39 stack, flat afterwards).
  if (!existsSync(file)) throw new InvalidFileError(file, 'file not found', 'Check the path');
  let tiff: GeoTIFF;
  let image: GeoTIFFImage;
  try {
    tiff = await fromFile(file);
    image = await tiff.getImage(0);
    // A ranged read of a file that is not a TIFF can parse as an empty directory (geotiff.js
    // reads past the end as zeros, where the whole-file read threw): no size means corrupt.
    if (!(image.getWidth() > 0 && image.getHeight() > 0)) throw new Error('no image size in the first directory');
  } catch (e) {
    throw new InvalidFileError(file, `not a readable GeoTIFF (${(e as Error).message})`, 'The file is truncated, corrupt or not a TIFF; re-export it as a GeoTIFF (e.g. gdal_translate -of GTiff)');
  }
  try {
    const count = image.getSamplesPerPixel();
    const bps = image.getBitsPerSample(0);
    return {
      grid: gridOf(image, file),
      bandCount: count,
      bandNames: await bandNamesOf(image, count, basename(file, extname(file))),
      bandUnits: await bandUnitsOf(image, count),
      metadata: await datasetMetadataOf(image),
      nodata: image.getGDALNoData(),
      sampleFormat: sampleFormatOf(image),
      bitsPerSample: bps,
    };
  } finally {
    await tiff.close();
  }
}

/**
 * Reads a single- or multi-band GeoTIFF into Float32 bands; nodata (and non-finite values)
 * become NaN. Band names come from GDAL band descriptions, else the file name.
 */
export async function readGeoTiff(file: string): Promise<RasterStack & { nodata: number | null }> {
  const { image } = await openTiff(file);
  const grid = gridOf(image, file);
  const count = image.getSamplesPerPixel();
  const nodata = image.getGDALNoData();
  let rasters: ArrayLike<number>[];
  try {
    rasters = (await image.readRasters({ interleave: false })) as unknown as ArrayLike<number>[];
  } catch (e) {
    throw new InvalidFileError(file, `its pixel data cannot be decoded (${(e as Error).message})`, 'The file is truncated or uses an unsupported compression; re-export it with gdal_translate -co COMPRESS=LZW');
  }
  const bands = rasters.map((r) => {
    const out = new Float32Array(r.length);
    for (let i = 0; i < r.length; i++) {
      const v = r[i];
      out[i] = nodata !== null && (v === nodata || Math.fround(v) === Math.fround(nodata)) ? NaN : v;
    }
    return out;
  });
  const names = await bandNamesOf(image, count, basename(file, extname(file)));
  return { ...makeStack(grid, names, bands, file), nodata };
}

/**
 * Reads a folder of single-band GeoTIFFs as one stack: band names are the file names without
 * extension, sorted; every file must share the first file's grid exactly.
 */
export async function readGeoTiffFolder(dir: string): Promise<RasterStack> {
  const files = readdirSync(dir)
    .filter((f) => /\.tiff?$/i.test(f))
    .sort((a, b) => a.localeCompare(b, 'en'));
  if (files.length === 0) {
    throw new EmptyInputError(dir, 'the folder holds no .tif/.tiff files', 'Point to a folder of single-band GeoTIFFs or to a multi-band GeoTIFF');
  }
  const names: string[] = [];
  const bands: Float32Array[] = [];
  let grid: GridSpec | null = null;
  for (const f of files) {
    const path = join(dir, f);
    const s = await readGeoTiff(path);
    if (s.bands.length !== 1) {
      throw new InvalidFileError(path, `has ${s.bands.length} bands; a folder stack needs single-band files`, 'Split it with gdal_translate -b N, or load it on its own as a multi-band stack');
    }
    if (grid === null) grid = s.grid;
    else {
      const r = compareGrids(grid, s.grid);
      if (!r.aligned) {
        throw new GridMismatchError(
          `${path} is not on the grid of ${join(dir, files[0])}: ${r.problems.join('; ')}. Resample it onto the same grid before stacking.`,
          { file: path, reference: join(dir, files[0]), ...r },
        );
      }
    }
    names.push(basename(f, extname(f)));
    bands.push(s.bands[0]);
  }
  return makeStack(grid as GridSpec, names, bands, dir);
}

/**
 * A stack for computation from either a multi-band GeoTIFF or a folder of single-band GeoTIFFs.
 * A band without a single valid value is refused here (EmptyInputError naming the band), before
 * it can turn into NaN patches or an empty variogram downstream.
 */
export async function readStack(path: string): Promise<RasterStack> {
  if (!existsSync(path)) throw new InvalidFileError(path, 'no such file or folder', 'Check the path');
  const stack = statSync(path).isDirectory() ? await readGeoTiffFolder(path) : await readGeoTiff(path);
  assertBandsHaveData(stack);
  return stack;
}
