import { describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
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
});
