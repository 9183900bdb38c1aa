import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fromFile, type GeoTIFF, type GeoTIFFImage } from 'geotiff';
import type { GridSpec } from '../grid/grid-spec.ts';
import { compareGrids } from '../grid/grid-spec.ts';
import { readGeoTiffInfo } from '../io/geotiff-read.ts';
import { readStudyMask } from '../eval/study-mask.ts';
import { BandMismatchError, EmptyInputError, GridMismatchError, InvalidFileError } from '../errors.ts';

/**
 * A raster stack read in row windows rather than whole, so prediction over a 2,000 × 2,000 × 39
 * grid never holds the full stack in memory: geotiff.js reads only the strips/tiles a window
 * touches from the file. Accepts a multi-band GeoTIFF or a folder of single-band GeoTIFFs.
 */
export interface StackSource {
  readonly path: string;
  readonly grid: GridSpec;
  readonly bandNames: string[];
  /** Rows [rowStart, rowEnd) of the given bands (by index), Float32 with NaN for nodata. */
  readRows(rowStart: number, rowEnd: number, bands: readonly number[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

interface Part {
  tiff: GeoTIFF;
  image: GeoTIFFImage;
  /** Sample index inside this file for each band this part provides. */
  samples: number[];
  nodata: number | null;
}

async function openPart(file: string): Promise<Part> {
  try {
    const tiff = await fromFile(file);
    const image = await tiff.getImage(0);
    return { tiff, image, samples: [], nodata: image.getGDALNoData() };
  } catch (e) {
    throw new InvalidFileError(file, `not a readable GeoTIFF (${(e as Error).message})`, 'Re-export it as a GeoTIFF (gdal_translate -of GTiff)');
  }
}

/**
 * Opens a stack for row reads; with `mask` (a study-area mask, main/eval/study-mask.ts) every cell
 * outside the mask reads as nodata (NaN), so a masked cell is nodata in every window and map.
 */
export async function openStackSource(path: string, options: { readonly mask?: string | null } = {}): Promise<StackSource> {
  const source = await openUnmaskedStackSource(path);
  if (!options.mask) return source;
  return maskedStackSource(source, (await readStudyMask(options.mask, source.grid)).cells);
}

/** A source whose cells outside `inside` (1 = in the study area) read as NaN. */
export function maskedStackSource(source: StackSource, inside: Uint8Array): StackSource {
  const cols = source.grid.cols;
  return {
    ...source,
    async readRows(rowStart, rowEnd, bands) {
      const out = await source.readRows(rowStart, rowEnd, bands);
      const at = rowStart * cols;
      for (const b of out) for (let i = 0; i < b.length; i++) if (!inside[at + i]) b[i] = NaN;
      return out;
    },
    close: () => source.close(),
  };
}

async function openUnmaskedStackSource(path: string): Promise<StackSource> {
  if (!existsSync(path)) throw new InvalidFileError(path, 'no such file or folder', 'Check the path');
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => /\.tiff?$/i.test(f))
        .sort((a, b) => a.localeCompare(b, 'en'))
        .map((f) => join(path, f))
    : [path];
  if (files.length === 0) throw new EmptyInputError(path, 'the folder holds no .tif/.tiff files', 'Point to a folder of single-band GeoTIFFs or a multi-band GeoTIFF');
  const bandNames: string[] = [];
  const where: { part: number; sample: number }[] = [];
  const parts: Part[] = [];
  let grid: GridSpec | null = null;
  for (const f of files) {
    const info = await readGeoTiffInfo(f);
    if (grid === null) grid = info.grid;
    else {
      const r = compareGrids(grid, info.grid);
      if (!r.aligned) throw new GridMismatchError(`${f} is not on the grid of ${files[0]}: ${r.problems.join('; ')}`, { file: f, ...r });
    }
    const part = await openPart(f);
    parts.push(part);
    info.bandNames.forEach((n, s) => {
      bandNames.push(files.length > 1 ? basename(f, extname(f)) : n);
      where.push({ part: parts.length - 1, sample: s });
    });
  }
  const g = grid as GridSpec;
  return {
    path,
    grid: g,
    bandNames,
    async readRows(rowStart, rowEnd, bands) {
      const out: Float32Array[] = [];
      for (const b of bands) {
        const { part, sample } = where[b];
        const p = parts[part];
        const data = (await p.image.readRasters({ window: [0, rowStart, g.cols, rowEnd], samples: [sample], interleave: false })) as unknown as ArrayLike<number>[];
        const src = data[0];
        const f = new Float32Array(src.length);
        const nd = p.nodata;
        for (let i = 0; i < src.length; i++) {
          const v = src[i];
          f[i] = nd !== null && (v === nd || Math.fround(v) === Math.fround(nd)) ? NaN : v;
        }
        out.push(f);
      }
      return out;
    },
    async close() {
      for (const p of parts) await p.tiff.close();
    },
  };
}

/** Indices of `wanted` band names in the source, or a BandMismatchError listing the differences. */
export function matchBands(source: { bandNames: readonly string[]; path: string }, wanted: readonly string[]): number[] {
  const missing = wanted.filter((w) => !source.bandNames.includes(w));
  if (missing.length > 0) {
    throw new BandMismatchError(
      `${source.path} lacks band(s) ${missing.join(', ')} that the model was trained on (it has ${source.bandNames.join(', ')}). ` +
        'Bands are matched by name: rename the bands/files or give the stack the model was trained with.',
      { missing, found: source.bandNames },
    );
  }
  return wanted.map((w) => source.bandNames.indexOf(w));
}
