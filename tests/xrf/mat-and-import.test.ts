import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMatFile, matToPixelMajor, MatVersionError } from '../../main/xrf/mat-v5.ts';
import { readCube, readTruthMask } from '../../main/xrf/cube-import.ts';
import { CubeFormatError, normalizeCube, makeCube } from '../../main/xrf/cube.ts';
import { encodePng, decodePngGrey } from '../../main/xrf/png.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { pixelGrid } from '../../main/xrf/detection-output.ts';
import { InvalidFileError, EmptyInputError } from '../../main/errors.ts';
import { sharedData } from '../helpers/shared-data.ts';

const HYDICE = (): string => sharedData('hyperspectral/HYDICE_data.mat');
const BEACH = (): string => sharedData('hyperspectral/abu-beach-4.mat');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'xrf-import-'));

interface MatCase { name: string; b64: string; rows: number; cols: number; bands: number; pixelMajor: number[]; truth?: number[] }
const matFixture = JSON.parse(readFileSync(new URL('../fixtures/xrf/mat-v5.json', import.meta.url), 'utf8')) as { cases: MatCase[] };

describe('MAT v5 reader', () => {
  // Reference: scipy.io.savemat wrote these files (tests/fixtures/xrf/make-mat-fixture.py); values
  // must match exactly for integers and to Float32 rounding (rel 1e-7) for floating point.
  for (const c of matFixture.cases) {
    it(`reads scipy's ${c.name} file`, async () => {
      const dir = tmp();
      const f = join(dir, `${c.name}.mat`);
      writeFileSync(f, Buffer.from(c.b64, 'base64'));
      const cube = await readCube(f);
      expect([cube.rows, cube.cols, cube.bandCount]).toEqual([c.rows, c.cols, c.bands]);
      c.pixelMajor.forEach((v, i) => expect(Math.abs(cube.pixels[i] - v)).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(v))));
      if (c.truth) expect(Array.from(cube.truth as Uint8Array)).toEqual(c.truth);
      else expect(cube.truth).toBeNull();
    });
  }

  it('skips non-numeric variables and names them', () => {
    const c = matFixture.cases.find((q) => q.name === 'double-with-struct') as MatCase;
    const f = join(tmp(), 's.mat');
    writeFileSync(f, Buffer.from(c.b64, 'base64'));
    const m = readMatFile(f);
    expect([...m.arrays.keys()].sort()).toEqual(['data', 'note']); // char arrays are read as codes
    expect(m.skipped.map((s) => s.name)).toEqual(['meta']);
  });

  it('reads HYDICE and abu-beach-4 with the shapes and values scipy reports', () => {
    // Reference values from scipy.io.loadmat: HYDICE data uint16 100×80×162, d[0,0,0]=33,
    // d[0,0,1]=30, d[-1,-1,-1]=403, 19 anomaly pixels; abu-beach-4 float64 100×100×102,
    // d[0,0,0]=0.04658050619278406, 68 anomaly pixels.
    const h = readMatFile(HYDICE());
    const hd = matToPixelMajor(h.arrays.get('data')!);
    expect([hd.rows, hd.cols, hd.bands]).toEqual([100, 80, 162]);
    expect([hd.values[0], hd.values[1], hd.values[hd.values.length - 1]]).toEqual([33, 30, 403]);
    expect(h.arrays.get('map')!.data.reduce((a, v) => a + v, 0)).toBe(19);
    const b = readMatFile(BEACH());
    const bd = matToPixelMajor(b.arrays.get('data')!);
    expect([bd.rows, bd.cols, bd.bands]).toEqual([100, 100, 102]);
    expect(Math.abs(bd.values[0] - 0.04658050619278406)).toBeLessThan(1e-8);
    expect(b.arrays.get('map')!.className).toBe('logical');
    expect(b.arrays.get('map')!.data.reduce((a, v) => a + v, 0)).toBe(68);
  });

  it('rejects MAT v7.3 (HDF5), truncated and foreign files with named errors', () => {
    const dir = tmp();
    const v73 = Buffer.alloc(1024);
    v73.write('MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 .', 0, 'latin1');
    Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]).copy(v73, 512);
    writeFileSync(join(dir, 'v73.mat'), v73);
    expect(() => readMatFile(join(dir, 'v73.mat'))).toThrow(MatVersionError);
    expect(() => readMatFile(join(dir, 'v73.mat'))).toThrow(/-v7/);
    const good = readFileSync(HYDICE());
    writeFileSync(join(dir, 'cut.mat'), good.subarray(0, 5000));
    expect(() => readMatFile(join(dir, 'cut.mat'))).toThrow(InvalidFileError);
    writeFileSync(join(dir, 'text.mat'), 'x'.repeat(200));
    expect(() => readMatFile(join(dir, 'text.mat'))).toThrow(MatVersionError);
  });

  it('names the missing data variable', async () => {
    await expect(readCube(HYDICE(), { dataKey: 'cube' })).rejects.toThrow(/no numeric variable "cube".*found: data, map/);
  });
});

describe('cube import', () => {
  it('reads a CSV of x, y, channels into the same cube as its pixels', async () => {
    const dir = tmp();
    const lines = ['y,x,Fe,Cu'];
    // Rows are shuffled on purpose: placement must come from x/y, not order.
    const cells: string[] = [];
    for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) cells.push(`${y * 0.5},${10 + x * 2},${y * 10 + x},${-x}`);
    lines.push(...cells.reverse());
    writeFileSync(join(dir, 'c.csv'), lines.join('\n'));
    const cube = await readCube(join(dir, 'c.csv'));
    expect([cube.rows, cube.cols, cube.bandCount, cube.bandNames]).toEqual([3, 4, 2, ['Fe', 'Cu']]);
    expect(cube.pixels[(2 * 4 + 3) * 2]).toBe(23);
    expect(cube.pixels[(1 * 4 + 2) * 2 + 1]).toBe(-2);
  });

  it('rejects inconsistent CSVs with CubeFormatError', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'missing.csv'), 'x,y,a\n0,0,1\n1,0,2\n0,1,3\n');
    await expect(readCube(join(dir, 'missing.csv'))).rejects.toThrow(CubeFormatError);
    writeFileSync(join(dir, 'dup.csv'), 'x,y,a\n0,0,1\n0,0,2\n1,0,3\n');
    await expect(readCube(join(dir, 'dup.csv'))).rejects.toThrow(CubeFormatError);
    writeFileSync(join(dir, 'bad.csv'), 'x,y,a\n0,0,1\n1,0,abc\n');
    await expect(readCube(join(dir, 'bad.csv'))).rejects.toThrow(/"abc", not a number/);
    writeFileSync(join(dir, 'nocoord.csv'), 'u,v,a\n0,0,1\n');
    await expect(readCube(join(dir, 'nocoord.csv'))).rejects.toThrow(/no "x" \/ "y" columns/);
    writeFileSync(join(dir, 'empty.csv'), 'x,y,a\n');
    await expect(readCube(join(dir, 'empty.csv'))).rejects.toThrow(EmptyInputError);
  });

  it('reads a multi-band TIFF and a folder of element maps (TIFF and PNG) consistently', async () => {
    const dir = tmp();
    const rows = 3, cols = 5;
    const a = Float32Array.from({ length: 15 }, (_, i) => i);
    const b = Float32Array.from({ length: 15 }, (_, i) => 100 - i);
    writeGeoTiff(join(dir, 'stack.tif'), { grid: pixelGrid(rows, cols), bandNames: ['Fe', 'Cu'], bands: [a, b] });
    const s = await readCube(join(dir, 'stack.tif'));
    expect([s.rows, s.cols, s.bandCount, s.bandNames]).toEqual([3, 5, 2, ['Fe', 'Cu']]);
    expect(Array.from(s.pixels.subarray(0, 4))).toEqual([0, 100, 1, 99]);
    const folder = join(dir, 'maps');
    mkdirSync(folder);
    writeGeoTiff(join(folder, 'Fe.tif'), { grid: pixelGrid(rows, cols), bandNames: ['Fe'], bands: [a] });
    writeFileSync(join(folder, 'K.png'), encodePng({ width: cols, height: rows, channels: 1, pixels: Uint8Array.from({ length: 15 }, (_, i) => 2 * i) }));
    const f = await readCube(folder);
    expect(f.bandNames).toEqual(['Fe', 'K']);
    expect(Array.from(f.pixels.subarray(26, 30))).toEqual([13, 26, 14, 28]);
    writeFileSync(join(folder, 'Zn.png'), encodePng({ width: 2, height: 2, channels: 1, pixels: new Uint8Array(4) }));
    await expect(readCube(folder)).rejects.toThrow(/every element map must have the same size/);
  });

  it('reads truth masks from PNG, TIFF and .mat and checks their size', async () => {
    const dir = tmp();
    const px = Uint8Array.from({ length: 12 }, (_, i) => (i % 5 === 0 ? 255 : 0));
    writeFileSync(join(dir, 'm.png'), encodePng({ width: 4, height: 3, channels: 1, pixels: px }));
    expect(Array.from(await readTruthMask(join(dir, 'm.png'), 3, 4))).toEqual(Array.from(px, (v) => (v ? 1 : 0)));
    writeGeoTiff(join(dir, 'm.tif'), { grid: pixelGrid(3, 4), bandNames: ['m'], bands: [Float32Array.from(px)] });
    expect(Array.from(await readTruthMask(join(dir, 'm.tif'), 3, 4))).toEqual(Array.from(px, (v) => (v ? 1 : 0)));
    await expect(readTruthMask(join(dir, 'm.png'), 4, 3)).rejects.toThrow(CubeFormatError);
    const mask = await readTruthMask(HYDICE(), 100, 80);
    expect(mask.reduce((s, v) => s + v, 0)).toBe(19);
    await expect(readTruthMask(HYDICE(), 80, 100)).rejects.toThrow(/is 100×80 but the cube is 80×100/);
  });

  it('PNG encode/decode round-trips RGB and grey images', () => {
    const rgb = Uint8Array.from({ length: 7 * 5 * 3 }, (_, i) => (i * 37) % 256);
    const back = decodePngGrey(encodePng({ width: 7, height: 5, channels: 3, pixels: rgb }));
    expect(Array.from(back.values)).toEqual(Array.from({ length: 35 }, (_, i) => rgb[i * 3]));
    expect(() => decodePngGrey(Buffer.from('not a png'))).toThrow(InvalidFileError);
  });

  it('normalises bands and rejects non-finite cubes', () => {
    const cube = makeCube({ rows: 1, cols: 3, bandCount: 2, pixels: Float32Array.from([0, 10, 5, 20, 10, 30]), truth: null, grid: null, source: 't' });
    expect(Array.from(normalizeCube(cube, 'minmax-band').pixels)).toEqual([0, 0, 0.5, 0.5, 1, 1]);
    expect(Array.from(normalizeCube(cube, 'closure').pixels).map((v) => +v.toFixed(6))).toEqual([0, 1, 0.2, 0.8, 0.25, 0.75]);
    const z = normalizeCube(cube, 'zscore-band').pixels;
    expect(Math.abs(z[0] + z[2] + z[4])).toBeLessThan(1e-6); // mean 0 (tolerance 1e-6, float32)
    expect(() => makeCube({ rows: 1, cols: 2, bandCount: 1, pixels: Float32Array.from([1, NaN]), truth: null, grid: null, source: 't' })).toThrow(CubeFormatError);
  });
});
