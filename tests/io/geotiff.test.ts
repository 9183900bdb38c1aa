import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readGeoTiff, readGeoTiffFolder, readGeoTiffInfo, readStack } from '../../main/io/geotiff-read.ts';
import { GeoTiffWriter, writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { bandStats, type RasterStack } from '../../main/grid/raster.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { Rng } from '../../main/util/rng.ts';
import { EmptyInputError, GridMismatchError, InvalidFileError } from '../../main/errors.ts';
import { gdalEpsg, gdalinfo, gdalStats } from '../helpers/gdal.ts';
import { tempDir } from '../helpers/paths.ts';
import { tianshan } from '../helpers/shared-data.ts';

const grid: GridSpec = { originX: 565321, originY: 4624025, cellSizeX: 1000, cellSizeY: 1000, rows: 37, cols: 53, crs: crsFromEpsg(32645) };

function randomStack(names: string[], seed: number): RasterStack {
  const rng = new Rng(seed);
  const bands = names.map(() => Float32Array.from({ length: grid.rows * grid.cols }, () => rng.normal(5, 2)));
  return { grid, bandNames: names, bands };
}

describe('GeoTIFF writer, checked by gdalinfo (GDAL 3, an independent reader)', () => {
  it('writes a multi-band Float32 stack with geotransform, EPSG, nodata, band descriptions and exact statistics', () => {
    const dir = tempDir();
    const stack = randomStack(['Au', 'Cu', 'As'], 1);
    stack.bands[1][7] = NaN; // one nodata cell
    const path = join(dir, 'stack.tif');
    writeGeoTiff(path, stack, { nodata: -9999 });
    const info = gdalinfo(path);
    expect(info.size).toEqual([grid.cols, grid.rows]);
    expect(info.geoTransform).toEqual([565321, 1000, 0, 4624025, 0, -1000]);
    expect(gdalEpsg(info)).toBe(32645);
    expect(info.bands.map((b) => b.description)).toEqual(['Au', 'Cu', 'As']);
    info.bands.forEach((b, i) => {
      expect(b.type).toBe('Float32');
      expect(b.noDataValue).toBe(-9999);
      const s = bandStats(stack.bands[i]);
      const g = gdalStats(b);
      // gdalinfo computes in double from the same float32 values and prints 14 significant digits:
      // min/max to 1e-12 relative, mean/std to 1e-9 relative.
      expect(Math.abs(g.min / s.min - 1)).toBeLessThan(1e-12);
      expect(Math.abs(g.max / s.max - 1)).toBeLessThan(1e-12);
      expect(Math.abs((g.mean - s.mean) / s.mean)).toBeLessThan(1e-9);
      expect(Math.abs((g.std - s.std) / s.std)).toBeLessThan(1e-9);
      expect(g.validPercent).toBeCloseTo((100 * s.validCount) / (grid.rows * grid.cols), 2);
    });
    expect(readdirSync(dir)).toEqual(['stack.tif']); // no temporary file left behind
  });

  it('round-trips through our reader: values, NaN nodata, names, grid', async () => {
    const dir = tempDir();
    const stack = randomStack(['Ag', 'Zn'], 2);
    stack.bands[0][0] = NaN;
    writeGeoTiff(join(dir, 'rt.tif'), stack);
    const back = await readGeoTiff(join(dir, 'rt.tif'));
    expect(back.bandNames).toEqual(['Ag', 'Zn']);
    expect(back.nodata).toBe(-9999);
    expect(back.grid).toEqual(grid);
    expect(Number.isNaN(back.bands[0][0])).toBe(true);
    for (let i = 1; i < 50; i++) expect(back.bands[0][i]).toBe(stack.bands[0][i]); // exact float32
  });

  it('streams rows in any order and leaves nothing behind when aborted', () => {
    const dir = tempDir();
    const w = new GeoTiffWriter(join(dir, 'streamed.tif'), grid, ['p']);
    const full = randomStack(['p'], 3).bands[0];
    for (let r = grid.rows - 1; r >= 0; r -= 1) w.writeRows(0, r, full.subarray(r * grid.cols, (r + 1) * grid.cols));
    w.close();
    const info = gdalinfo(join(dir, 'streamed.tif'));
    expect(Math.abs(gdalStats(info.bands[0]).mean / bandStats(full).mean - 1)).toBeLessThan(1e-9);
    const a = new GeoTiffWriter(join(dir, 'aborted.tif'), grid, ['p']);
    a.writeRows(0, 0, full.subarray(0, grid.cols));
    a.abort();
    expect(readdirSync(dir)).toEqual(['streamed.tif']);
  });

  it('reads the Tianshan case study folder as one 39-band stack with names from file names', async () => {
    const s = await readGeoTiffFolder(tianshan('elements'));
    expect(s.bands).toHaveLength(39);
    expect(s.bandNames[0]).toBe('Ag');
    expect(s.bandNames[38]).toBe('Zr');
    expect([...s.bandNames]).toEqual([...s.bandNames].sort((a, b) => a.localeCompare(b, 'en')));
    expect(s.grid.rows).toBe(117);
    expect(s.grid.cols).toBe(289);
    expect(s.grid.crs?.epsg).toBe(32645);
    expect(s.grid.originX).toBe(565321);
    expect(s.grid.originY).toBeCloseTo(4624025, 4);
    const info = gdalinfo(tianshan('elements/Au.tif'));
    const au = s.bands[s.bandNames.indexOf('Au')];
    expect(Math.abs(bandStats(au).mean / gdalStats(info.bands[0]).mean - 1)).toBeLessThan(1e-9);
  });

  it('readStack accepts a multi-band file or a folder; a folder with a misaligned file is a GridMismatchError', async () => {
    const dir = tempDir();
    writeGeoTiff(join(dir, 'a.tif'), randomStack(['a'], 4));
    writeGeoTiff(join(dir, 'b.tif'), randomStack(['b'], 5));
    const s = await readStack(dir);
    expect(s.bandNames).toEqual(['a', 'b']);
    const shifted = { ...randomStack(['c'], 6), grid: { ...grid, originX: grid.originX + 500 } };
    writeGeoTiff(join(dir, 'c.tif'), shifted);
    await expect(readStack(dir)).rejects.toThrow(GridMismatchError);
    await expect(readStack(dir)).rejects.toThrow(/c\.tif.*500\.000 m east.*0\.500 columns/);
  });

  it('gives a named error naming the file for truncated, non-TIFF, missing and empty inputs', async () => {
    const dir = tempDir();
    writeGeoTiff(join(dir, 'good.tif'), randomStack(['x'], 7));
    const bytes = readFileSync(join(dir, 'good.tif'));
    writeFileSync(join(dir, 'truncated.tif'), bytes.subarray(0, 2000));
    writeFileSync(join(dir, 'text.tif'), 'this is not a tiff');
    await expect(readGeoTiff(join(dir, 'truncated.tif'))).rejects.toThrow(InvalidFileError);
    await expect(readGeoTiff(join(dir, 'truncated.tif'))).rejects.toThrow(/truncated\.tif/);
    await expect(readGeoTiffInfo(join(dir, 'text.tif'))).rejects.toThrow(/text\.tif: not a readable GeoTIFF/);
    await expect(readGeoTiff(join(dir, 'nope.tif'))).rejects.toThrow(/nope\.tif: file not found/);
    const nanBand = randomStack(['ok', 'allnan'], 8);
    nanBand.bands[1].fill(NaN);
    writeGeoTiff(join(dir, 'nanband.tif'), nanBand);
    await expect(readStack(join(dir, 'nanband.tif'))).rejects.toThrow(EmptyInputError);
    await expect(readStack(join(dir, 'nanband.tif'))).rejects.toThrow(/nanband\.tif: band "allnan" holds no valid value/);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    await expect(readStack(empty)).rejects.toThrow(EmptyInputError);
  });

  it('reads integer label rasters (uint8) and GDAL nodata', async () => {
    const dir = tempDir();
    copyFileSync(tianshan('label/Au_deposits0.tif'), join(dir, 'dep.tif'));
    const s = await readGeoTiff(join(dir, 'dep.tif'));
    const ones = Array.from(s.bands[0]).filter((v) => v === 1).length;
    expect(ones).toBe(10); // the README: 10 known deposit cells
    const info = await readGeoTiffInfo(join(dir, 'dep.tif'));
    expect(info.sampleFormat).toBe('uint');
    expect(info.bitsPerSample).toBe(8);
    expect(existsSync(join(dir, 'dep.tif'))).toBe(true);
  });
});
