import { describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { compositeRgba, writeSyntheticXrfSample, xrfComposite, xrfCubeInfo } from '../../main/api/xrf-requests.ts';
import { createHandlers, dispatch } from '../../main/api/handlers.ts';
import { makeCube } from '../../main/xrf/cube.ts';
import { readCube, readTruthMask } from '../../main/xrf/cube-import.ts';
import { syntheticSample } from '../../main/xrf/synthetic.ts';
import { tempDir } from '../helpers/paths.ts';

describe('Micro-XRF panel requests (main/api/xrf-requests.ts)', () => {
  it('RGB composite: each band stretched between its numpy percentiles, clipped, alpha 255', () => {
    // 2 × 3 pixels, 3 bands: band 0 = [0, 1, 2, 3, 4, 10], band 1 constant 5, band 2 = 10 − band 0.
    const b0 = [0, 1, 2, 3, 4, 10];
    const pixels = Float32Array.from(b0.flatMap((v) => [v, 5, 10 - v]));
    const cube = makeCube({ rows: 2, cols: 3, bandCount: 3, pixels, truth: null, grid: null, source: 'test' });
    const c = compositeRgba(cube, [0, 1, 2], [2, 98]);
    // Reference: numpy.percentile([0,1,2,3,4,10], [2, 98]) = [0.1, 9.4];
    // np.round((np.clip(v, lo, hi) − lo)/(hi − lo)·255) = [0, 25, 52, 80, 107, 255]. Exact (integers).
    expect(c.ranges[0][0]).toBeCloseTo(0.1, 12);
    expect(c.ranges[0][1]).toBeCloseTo(9.4, 12);
    expect(Array.from({ length: 6 }, (_, i) => c.rgba[i * 4])).toEqual([0, 25, 52, 80, 107, 255]);
    // A constant band has no spread: it maps to 0 instead of dividing by zero.
    expect(Array.from({ length: 6 }, (_, i) => c.rgba[i * 4 + 1])).toEqual([0, 0, 0, 0, 0, 0]);
    // Band 2 mirrors band 0: its percentiles are 10 − those of band 0 in reverse.
    expect(c.ranges[2][0]).toBeCloseTo(0.6, 12);
    expect(Array.from({ length: 6 }, (_, i) => c.rgba[i * 4 + 3])).toEqual([255, 255, 255, 255, 255, 255]);
    expect(() => compositeRgba(cube, [0, 1, 3], [2, 98])).toThrow(/band index 3 is outside 0…2/);
    expect(() => compositeRgba(cube, [0, 1, 2], [98, 2])).toThrow(/percentiles/);
  });

  it('writes the synthetic sample as a cube TIFF and truth TIFF that read back as the generator’s cube (exact)', async () => {
    const dataDir = tempDir('xrf-req-');
    try {
      const f = writeSyntheticXrfSample(dataDir, { seed: 3, rows: 24, cols: 20, channels: 12 });
      const ref = syntheticSample({ seed: 3, rows: 24, cols: 20, channels: 12 }).cube;
      const cube = await readCube(f.cube);
      expect([cube.rows, cube.cols, cube.bandCount]).toEqual([24, 20, 12]);
      expect(cube.bandNames).toEqual(ref.bandNames);
      expect(Buffer.from(cube.pixels.buffer).equals(Buffer.from(ref.pixels.buffer))).toBe(true);
      expect(Array.from(await readTruthMask(f.truth, 24, 20))).toEqual(Array.from(ref.truth ?? []));
      // Same parameters again: the files are reused.
      expect(writeSyntheticXrfSample(dataDir, { seed: 3, rows: 24, cols: 20, channels: 12 })).toEqual(f);
      const info = await xrfCubeInfo(f.cube);
      expect(info).toMatchObject({ rows: 24, cols: 20, bandCount: 12, ownTruthPixels: null, georeferenced: false }) // identity pixel grid, no CRS;
      const comp = await xrfComposite(f.cube, [11, 5, 0]);
      expect(comp.rgba).toBeInstanceOf(Uint8ClampedArray);
      expect(comp.rgba.length).toBe(24 * 20 * 4);
      expect(comp.bandNames).toEqual([ref.bandNames[11], ref.bandNames[5], ref.bandNames[0]]);
      expect(() => writeSyntheticXrfSample(dataDir, { rows: 4 })).toThrow(/rows must be an integer ≥ 8/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('is reachable through the contract; a missing cube is named', async () => {
    const dataDir = tempDir('xrf-req-h-');
    try {
      const { handlers } = createHandlers({ dataDir, host: 'browser', emit: () => {} });
      const r = await dispatch(handlers, 'xrfSyntheticSample', { seed: 1, rows: 16, cols: 16, channels: 8 });
      expect(r.ok).toBe(true);
      const files = (r as { result: { cube: string } }).result;
      const info = await dispatch(handlers, 'xrfCubeInfo', { path: files.cube });
      expect((info as { result: { bandCount: number } }).result.bandCount).toBe(8);
      const missing = await dispatch(handlers, 'xrfCubeInfo', { path: `${dataDir}/nope.mat` });
      expect(missing.ok).toBe(false);
      expect((missing as { error: { name: string; message: string } }).error).toMatchObject({ name: 'InvalidFileError' });
      expect((missing as { error: { message: string } }).error.message).toContain('nope.mat');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('viewer queries through the contract: pixel spectrum, region mean, element map, spectra CSV (NeXus fixture with an energy axis)', async () => {
    const dataDir = tempDir('xrf-req-v-');
    try {
      const { handlers } = createHandlers({ dataDir, host: 'browser', emit: () => {} });
      // tests/fixtures/xrf/make_xrf_formats.py: a 6×5×4 integer cube, energies 6.40, 8.04, 8.63, 3.69 keV.
      const nxs = new URL('../fixtures/xrf/formats/cube.nxs', import.meta.url).pathname;
      const cube = await readCube(nxs);
      const B = 4;
      const call = async <T>(name: Parameters<typeof dispatch>[1], p: unknown): Promise<T> => {
        const r = await dispatch(handlers, name, p as never);
        if (!r.ok) throw new Error(JSON.stringify((r as { error: unknown }).error));
        return (r as { result: T }).result;
      };
      const px = await call<{ spectrum: number[]; background: number[]; score: number | null; axis: { title: string; values: number[] } }>('xrfPixelSpectrum', { path: nxs, row: 2, col: 3 });
      // Exact: integer counts; the background without a score map is the scene mean (sums of 30 integers / 30).
      expect(px.spectrum).toEqual(Array.from(cube.pixels.subarray((2 * 5 + 3) * B, (2 * 5 + 4) * B)));
      for (let b = 0; b < B; b++) {
        let sum = 0;
        for (let i = 0; i < 30; i++) sum += cube.pixels[i * B + b];
        expect(px.background[b]).toBe(sum / 30);
      }
      expect(px.score).toBeNull();
      expect(px.axis).toMatchObject({ title: 'energy (keV)', values: [6.4, 8.04, 8.63, 3.69] });
      const reg = await call<{ mean: number[]; pixelCount: number }>('xrfRegionSpectrum', { path: nxs, row0: 4, col0: 3, row1: 1, col1: 0 });
      expect(reg.pixelCount).toBe(16);
      for (let b = 0; b < B; b++) {
        let sum = 0;
        for (let r = 1; r <= 4; r++) for (let c = 0; c <= 3; c++) sum += cube.pixels[(r * 5 + c) * B + b];
        expect(reg.mean[b]).toBe(sum / 16);
      }
      const map = await call<{ values: Float32Array; name: string; min: number; max: number }>('xrfElementMap', { path: nxs, band: 2 });
      expect(Array.from(map.values)).toEqual(Array.from({ length: 30 }, (_, i) => cube.pixels[i * B + 2]));
      const out = `${dataDir}/spectra.csv`;
      await call('xrfExportSpectra', { path: nxs, out, spectra: [{ label: 'pixel, r2 c3', values: px.spectrum }, { label: 'region', values: reg.mean }] });
      const lines = readFileSync(out, 'utf8').trim().split('\n');
      expect(lines[0]).toBe('band,energy (keV),"pixel, r2 c3",region');
      expect(lines[1]).toBe(`band_1,6.4,${px.spectrum[0]},${reg.mean[0]}`);
      // A generic HDF5 file read through an explicit dataset: the same cube (generator: /entry/data).
      const h5 = new URL('../fixtures/xrf/formats/cube.h5', import.meta.url).pathname;
      const info = await call<{ dataset: string | null; rows: number; bandCount: number }>('xrfCubeInfo', { path: h5, dataset: '/entry/data' });
      expect(info).toMatchObject({ dataset: '/entry/data', rows: 6, bandCount: 4 });
      expect((await call<{ spectrum: number[] }>('xrfPixelSpectrum', { path: h5, dataset: '/entry/data', row: 2, col: 3 })).spectrum).toEqual(px.spectrum);
      const wrong = await dispatch(handlers, 'xrfCubeInfo', { path: h5, dataset: '/entry/energy' });
      expect(wrong.ok).toBe(false);
      expect((wrong as { error: { message: string } }).error.message).toMatch(/dataset \/entry\/energy has rank 1/);
      const bad = await dispatch(handlers, 'xrfPixelSpectrum', { path: nxs, row: 6, col: 0 });
      expect(bad.ok).toBe(false);
      expect((bad as { error: { message: string } }).error.message).toMatch(/pixel \(row 6, col 0\) is outside the 6×5 cube/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('an xrf job on a HyperSpy file runs in a worker thread (h5wasm there too) and writes the energy axis', async () => {
    const dataDir = tempDir('xrf-req-job-');
    const events: { name: string; payload: unknown }[] = [];
    const { handlers, jobs } = createHandlers({ dataDir, host: 'browser', emit: (name, payload) => events.push({ name, payload }) });
    try {
      const hspy = new URL('../fixtures/xrf/formats/cube.hspy', import.meta.url).pathname;
      const out = `${dataDir}/run`;
      const { jobId } = await handlers.xrf({ options: { cube: hspy, method: 'rx', out } });
      await jobs.settled(jobId);
      const mine = events.filter((e) => (e.payload as { jobId?: string }).jobId === jobId);
      expect(mine.at(-1)?.name, JSON.stringify(mine.at(-1)?.payload)).toBe('jobDone');
      const axis = JSON.parse(readFileSync(`${out}/spectral-axis.json`, 'utf8')) as { quantity: string; unit: string; values: number[] };
      // HyperSpy axis-2 of the generator: offset 1.0 keV, scale 0.02 keV; rel 1e-12.
      expect([axis.quantity, axis.unit]).toEqual(['energy', 'keV']);
      axis.values.forEach((v, k) => expect(Math.abs(v - (1 + 0.02 * k))).toBeLessThan(1e-12));
      expect(Object.keys(JSON.parse(readFileSync(`${out}/metrics.json`, 'utf8')) as object)).toEqual(['rx']);
    } finally {
      jobs.cancelAll();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
