import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { readCube, readTruthMask } from '../../main/xrf/cube-import.ts';
import { CubeFormatError, NonFiniteBandError, type SpectralCube } from '../../main/xrf/cube.ts';
import { listHdf5Datasets } from '../../main/xrf/hdf5-cube.ts';
import { elementBandName, parseTextMap, tiffPixelSizeUm } from '../../main/xrf/element-maps.ts';
import { InvalidFileError, InvalidOptionError } from '../../main/errors.ts';

// Fixtures: tests/fixtures/xrf/make_xrf_formats.py (h5py, GDAL's ENVI/GTiff/BMP drivers, scipy's
// savemat) writes ONE integer cube (6×5×4, counts 0…250) in every format. The reference is the
// MAT v5 import of scipy's file; every other import must equal it value for value (tolerance 0:
// every value is an integer that all the data types hold exactly).
const F = new URL('../fixtures/xrf/formats/', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(`${F}manifest.json`, 'utf8')) as { rows: number; cols: number; bands: number; energyKeV: number[]; bandNames: string[] };

async function reference(): Promise<SpectralCube> {
  return readCube(`${F}cube-v5.mat`);
}

function expectSameCube(c: SpectralCube, ref: SpectralCube): void {
  expect([c.rows, c.cols, c.bandCount]).toEqual([ref.rows, ref.cols, ref.bandCount]);
  expect(Array.from(c.pixels)).toEqual(Array.from(ref.pixels));
}

describe('HDF5 cubes (h5wasm) against the MAT v5 import of the same cube', () => {
  it('MATLAB v7.3: column-major (B, W, H) dataset and map give the v5 cube and truth', async () => {
    const ref = await reference();
    const c = await readCube(`${F}cube-v73.mat`);
    expectSameCube(c, ref);
    expect(Array.from(c.truth as Uint8Array)).toEqual(Array.from(ref.truth as Uint8Array));
    expect((ref.truth as Uint8Array).reduce((a, v) => a + v, 0)).toBe(2); // truth[2,3] and truth[4,1] in the generator
    // The same file as a --truth mask for another cube of that size.
    expect(Array.from(await readTruthMask(`${F}cube-v73.mat`, 6, 5))).toEqual(Array.from(ref.truth as Uint8Array));
    await expect(readTruthMask(`${F}cube-v73.mat`, 5, 6)).rejects.toThrow(/truth \/?map is 6×5 but the cube is 5×6/);
  });

  it('generic HDF5 with --dataset /entry/data, and the only rank-3 dataset without it', async () => {
    const ref = await reference();
    expectSameCube(await readCube(`${F}cube.h5`, { dataset: '/entry/data' }), ref);
    expectSameCube(await readCube(`${F}cube.h5`), ref);
    await expect(readCube(`${F}cube.h5`, { dataset: '/entry/nothing' })).rejects.toThrow(/no dataset at \/entry\/nothing.*\/entry\/data/);
  });

  it('NeXus: the NXdata signal is the spectra, its energy axis and units travel with the cube', async () => {
    const ref = await reference();
    const c = await readCube(`${F}cube.nxs`);
    expectSameCube(c, ref);
    expect(c.spectralAxis?.quantity).toBe('energy');
    expect(c.spectralAxis?.unit).toBe('keV');
    expect(c.spectralAxis?.values).toEqual(manifest.energyKeV); // float64 in the file: exact
    // x axis step 0.01 mm (generator) = 10 µm; tolerance for the binary rounding of 0.01.
    expect(Math.abs((c.pixelSizeUm as number) - 10)).toBeLessThan(1e-9);
  });

  it('HyperSpy .hspy: /Experiments/<name>/data and the non-navigation axis as energy', async () => {
    const ref = await reference();
    const c = await readCube(`${F}cube.hspy`);
    expectSameCube(c, ref);
    expect(c.spectralAxis?.unit).toBe('keV');
    // offset 1.0 + k·0.02 keV (generator's axis-2); rel 1e-12.
    c.spectralAxis?.values.forEach((v, k) => expect(Math.abs(v - (1 + 0.02 * k))).toBeLessThan(1e-12));
    expect(c.pixelSizeUm).toBe(10);
  });

  it('info lists every dataset with shape and dtype (what h5py wrote)', async () => {
    const list = await listHdf5Datasets(`${F}cube.nxs`);
    const byPath = new Map(list.map((d) => [d.path, d]));
    expect(byPath.get('/entry/xrf/spectra')).toMatchObject({ shape: [6, 5, 4], dtype: 'int32' });
    expect(byPath.get('/entry/xrf/energy')).toMatchObject({ shape: [4], dtype: 'float64' });
    expect(byPath.get('/entry/instrument/monitor')).toMatchObject({ shape: [30], dtype: 'float64' });
  });

  it('bad HDF5 input: truncated, wrong rank, NaN band, each a named error with the fix', async () => {
    await expect(readCube(`${F}truncated.h5`)).rejects.toThrow(InvalidFileError);
    await expect(readCube(`${F}truncated.h5`)).rejects.toThrow(/truncated\.h5: the HDF5 file is truncated: it is \d+ bytes, its superblock says \d+\. Copy or download/);
    await expect(readCube(`${F}wrong-rank.h5`, { dataset: '/entry/data' })).rejects.toThrow(CubeFormatError);
    await expect(readCube(`${F}wrong-rank.h5`, { dataset: '/entry/data4d' })).rejects.toThrow(/wrong-rank\.h5: dataset \/entry\/data4d has rank 4 \(shape 2×2×2×2\).*--dataset PATH/);
    await expect(readCube(`${F}wrong-rank.h5`)).rejects.toThrow(InvalidOptionError);
    await expect(readCube(`${F}nan-band.h5`)).rejects.toThrow(NonFiniteBandError);
    await expect(readCube(`${F}nan-band.h5`)).rejects.toThrow(/nan-band\.h5: band "band_3" holds no finite value.*--drop-bands band_3/);
    // The fix works: dropping the dead band leaves the other three bands of the reference.
    const ref = await reference();
    const c = await readCube(`${F}nan-band.h5`, { dropBands: ['band_3'] });
    expect(c.bandNames).toEqual(['band_1', 'band_2', 'band_4']);
    for (let i = 0; i < c.rows * c.cols; i++) {
      expect([c.pixels[i * 3], c.pixels[i * 3 + 1], c.pixels[i * 3 + 2]]).toEqual([ref.pixels[i * 4], ref.pixels[i * 4 + 1], ref.pixels[i * 4 + 3]]);
    }
  });
});

describe('ENVI (.hdr + .img) against the MAT v5 import', () => {
  const cases = ['bsq-int16', 'bil-float32', 'bip-uint16', 'bsq-byte', 'bil-int32', 'bip-float64', 'bsq-uint32', 'bil-int64', 'bip-float32-be', 'bsq-uint64-be'];
  for (const name of cases) {
    it(`${name}: values, band names and spectral axis`, async () => {
      const ref = await reference();
      // Open through the header for one half, through the data file for the other.
      const c = await readCube(`${F}envi-${name}.${name.includes('int') ? 'hdr' : 'img'}`);
      expectSameCube(c, ref);
      expect(c.bandNames).toEqual(manifest.bandNames);
      if (name === 'bip-float32-be') expect(c.spectralAxis).toEqual({ quantity: 'wavelength', unit: 'nm', values: [450, 550, 650, 750] });
      else expect(c.spectralAxis).toEqual({ quantity: 'energy', unit: 'keV', values: manifest.energyKeV });
    });
  }

  it('a header whose size does not match the data file is a named error with both sizes', async () => {
    await expect(readCube(`${F}envi-short.hdr`)).rejects.toThrow(CubeFormatError);
    await expect(readCube(`${F}envi-short.hdr`)).rejects.toThrow(/envi-short\.img: the data file is 230 bytes but its header .*envi-short\.hdr describes 240 \(5 samples × 6 lines × 4 bands × 2 bytes of int16\)/);
  });
});

describe('element-map folders of benchtop instruments', () => {
  it('maps file names to element lines', () => {
    expect(['Fe-Ka.tif', 'Cu_Ka.bmp', 'Fe Ka.txt', 'fe_ka.txt', 'Pb-La1.tif', 'Fe.tif', 'Fe-Kα.txt', 'sum spectrum.tif'].map(elementBandName))
      .toEqual(['Fe-Ka', 'Cu-Ka', 'Fe-Ka', 'Fe-Ka', 'Pb-La1', 'Fe', 'Fe-Ka', 'sum spectrum']);
  });

  for (const [dir, pixel] of [['elements-tif', 10], ['elements-bmp', null], ['elements-txt', 25]] as const) {
    it(`${dir}: each element map equals the MAT band of that element; pixel size ${pixel ?? 'absent'}`, async () => {
      const ref = await reference();
      const c = await readCube(`${F}${dir}`);
      expect([c.rows, c.cols, c.bandCount]).toEqual([ref.rows, ref.cols, ref.bandCount]);
      expect([...c.bandNames].sort()).toEqual([...manifest.bandNames].sort());
      for (const [k, name] of c.bandNames.entries()) {
        const b = manifest.bandNames.indexOf(name);
        for (let i = 0; i < c.rows * c.cols; i++) expect(c.pixels[i * c.bandCount + k]).toBe(ref.pixels[i * ref.bandCount + b]);
      }
      expect(c.pixelSizeUm).toBe(pixel);
    });
  }

  it('text maps: header lines, pixel size units, ragged rows rejected', () => {
    expect(parseTextMap('Map Fe\nPixel size = 0.02 mm\n1;2\n3;4\n', 'a.txt')).toMatchObject({ rows: 2, cols: 2, pixelSizeUm: 20 });
    expect(() => parseTextMap('1 2 3\n4 5\n', 'b.txt')).toThrow(/b\.txt: line 2 has 2 values, the first matrix line 3/);
    expect(tiffPixelSizeUm([1000, 1], 3)).toBe(10);
    expect(tiffPixelSizeUm([72, 1], 2)).toBeNull(); // the screen default, not a measurement
  });
});
