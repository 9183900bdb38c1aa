import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { syntheticSample } from '../../main/xrf/synthetic.ts';
import { normalizeCube } from '../../main/xrf/cube.ts';
import { globalRx, localRx } from '../../main/xrf/rx.ts';
import { pixelGrid } from '../../main/xrf/detection-output.ts';
import { encodePng, decodePngGrey } from '../../main/xrf/png.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { rocAuc } from '../../main/eval/metrics.ts';
import { sharedData } from '../helpers/shared-data.ts';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'xrf-cli-'));

function writeCubeTiff(path: string, s: ReturnType<typeof syntheticSample>): void {
  const { rows, cols, bandCount: B, pixels } = s.cube;
  const bands = Array.from({ length: B }, (_, b) => Float32Array.from({ length: rows * cols }, (_, i) => pixels[i * B + b]));
  writeGeoTiff(path, { grid: pixelGrid(rows, cols), bandNames: s.cube.bandNames, bands });
}

describe('geoanomaly xrf', () => {
  it('scores a TIFF cube against a PNG mask: metrics.json, score GeoTIFF (checked by gdalinfo), PNG maps, ROC and box plot', async () => {
    const dir = tmp();
    const s = syntheticSample({ rows: 32, cols: 36, channels: 20, seed: 8 });
    writeCubeTiff(join(dir, 'cube.tif'), s);
    const truth = s.cube.truth!;
    writeFileSync(join(dir, 'mask.png'), encodePng({ width: 36, height: 32, channels: 1, pixels: Uint8Array.from(truth, (v) => v * 255) }));
    const out = join(dir, 'out');
    const code = await main(['xrf', '--cube', join(dir, 'cube.tif'), '--truth', join(dir, 'mask.png'), '--method', 'rx,lrx', '--out', out]);
    expect(code).toBe(0);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(Object.keys(metrics).sort()).toEqual(['lrx', 'rx']);
    // Reference: the same detectors called directly on the min–max normalised cube (the CLI default);
    // exact for LRX; RX runs as float64 GEMMs on ONNX Runtime in the CLI (scores agree with the JS
    // loops to ~1e-7 relative, tests/xrf/rx-fast.test.ts), so its AUC within 1e-9.
    const x = normalizeCube(s.cube, 'minmax-band');
    const rx = globalRx(x);
    expect(Math.abs(metrics.rx.auc - rocAuc(truth, rx))).toBeLessThanOrEqual(1e-9);
    expect(metrics.lrx.auc).toBe(rocAuc(truth, localRx(x)));
    const info = JSON.parse(execFileSync('gdalinfo', ['-json', '-stats', join(out, 'rx-score.tif')], { encoding: 'utf8' }));
    expect(info.size).toEqual([36, 32]);
    const max = rx.reduce((a, v) => Math.max(a, v), -Infinity);
    // gdalinfo reads the Float32 scores back: relative tolerance 1e-6.
    expect(Math.abs(info.bands[0].maximum - max)).toBeLessThanOrEqual(1e-6 * max);
    const png = decodePngGrey(readFileSync(join(out, 'rx-score.png')));
    expect([png.width, png.height]).toEqual([36, 32]);
    const sep = JSON.parse(readFileSync(join(out, 'separability.json'), 'utf8'));
    expect(sep[0].method).toBe('rx');
    expect(sep[0].anomaly.median).toBeGreaterThan(sep[0].background.median);
    expect(existsSync(join(out, 'separability.png'))).toBe(true);
    const roc = JSON.parse(readFileSync(join(out, 'roc.json'), 'utf8'));
    expect(roc.rx.fpr[0]).toBe(0);
    expect(roc.rx.tpr.at(-1)).toBe(1);
  });

  it('defaults --truth to the .mat file\'s own map (HYDICE RX AUC 0.976 ± 0.002, README)', async () => {
    const out = join(tmp(), 'hydice');
    expect(await main(['xrf', '--cube', sharedData('hyperspectral/HYDICE_data.mat'), '--method', 'rx', '--out', out])).toBe(0);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(Math.abs(metrics.rx.auc - 0.976)).toBeLessThanOrEqual(0.002);
  });

  it('writes no AUC without a truth mask, and rejects bad options with exit code 2', async () => {
    const dir = tmp();
    const s = syntheticSample({ rows: 16, cols: 16, channels: 10, seed: 1 });
    writeCubeTiff(join(dir, 'cube.tif'), s);
    expect(await main(['xrf', '--cube', join(dir, 'cube.tif'), '--method', 'rx', '--out', join(dir, 'o')])).toBe(0);
    const metrics = JSON.parse(readFileSync(join(dir, 'o', 'metrics.json'), 'utf8'));
    expect(metrics.rx.auc).toBeUndefined();
    expect(existsSync(join(dir, 'o', 'rx-score.tif'))).toBe(true);
    expect(await main(['xrf', '--cube', join(dir, 'cube.tif'), '--method', 'msfa', '--epochs', '2', '--seed', '5', '--ablation', 'no-groups', '--out', join(dir, 'm')])).toBe(0);
    const m = JSON.parse(readFileSync(join(dir, 'm', 'metrics.json'), 'utf8'));
    expect([m.msfa.ablation, m.msfa.epochs, m.msfa.seed, m.msfa.auc]).toEqual(['no-groups', 2, 5, undefined]);
    expect(await main(['xrf', '--cube', join(dir, 'cube.tif'), '--method', 'pca', '--out', join(dir, 'o')])).toBe(2);
    expect(await main(['xrf', '--cube', join(dir, 'cube.tif'), '--method', 'rx', '--ablation', 'nothing', '--out', join(dir, 'o')])).toBe(2);
    expect(await main(['xrf', '--cube', join(dir, 'missing.mat'), '--method', 'rx', '--out', join(dir, 'o')])).toBe(1);
  });
});

describe('geoanomaly xrf on instrument formats', () => {
  const F = new URL('../fixtures/xrf/formats/', import.meta.url).pathname;
  it('--dataset picks the HDF5 cube, the truth comes from --truth, spectral-axis.json records the NeXus energies', async () => {
    const out = join(tmp(), 'h5');
    // The truth mask of the generator (make_xrf_formats.py), as a MAT v5 'map'.
    const code = await main(['xrf', '--cube', `${F}cube.h5`, '--dataset', '/entry/data', '--truth', `${F}cube-v5.mat`, '--method', 'rx', '--out', out]);
    expect(code).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    // Reference: RX on the MAT v5 import of the same cube (the same numbers, exactly).
    const { readCube } = await import('../../main/xrf/cube-import.ts');
    const ref = await readCube(`${F}cube-v5.mat`);
    expect(Math.abs(m.rx.auc - rocAuc(ref.truth!, globalRx(normalizeCube(ref, 'minmax-band'))))).toBeLessThanOrEqual(1e-9);
    const outNx = join(tmp(), 'nx');
    expect(await main(['xrf', '--cube', `${F}cube.nxs`, '--method', 'rx', '--out', outNx])).toBe(0);
    const axis = JSON.parse(readFileSync(join(outNx, 'spectral-axis.json'), 'utf8'));
    expect(axis).toMatchObject({ quantity: 'energy', unit: 'keV', values: [6.4, 8.04, 8.63, 3.69], pixelSizeUm: 10 });
  });

  it('--drop-bands removes a NaN band that would otherwise stop the run', async () => {
    const out = join(tmp(), 'nan');
    expect(await main(['xrf', '--cube', `${F}nan-band.h5`, '--method', 'rx', '--out', out])).not.toBe(0);
    expect(await main(['xrf', '--cube', `${F}nan-band.h5`, '--drop-bands', 'band_3', '--method', 'rx', '--out', out])).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'spectral-axis.json'), 'utf8')).bandNames).toEqual(['band_1', 'band_2', 'band_4']);
  });
});

describe('geoanomaly info on instrument formats', () => {
  const F = new URL('../fixtures/xrf/formats/', import.meta.url).pathname;
  const bin = new URL('../../main/cli/bin.mjs', import.meta.url).pathname;
  it('lists the datasets of an HDF5 file with shapes and dtypes (as h5py wrote them), and an ENVI header', () => {
    const h5 = execFileSync(process.execPath, [bin, 'info', `${F}cube.nxs`], { encoding: 'utf8' });
    expect(h5).toMatch(/\/entry\/xrf\/spectra\s+6×5×4\s+int32/);
    expect(h5).toMatch(/\/entry\/xrf\/energy\s+4\s+float64\s+attrs: units/);
    const mat = execFileSync(process.execPath, [bin, 'info', `${F}cube-v73.mat`], { encoding: 'utf8' });
    expect(mat).toMatch(/\/data\s+4×5×6\s+float64/); // MATLAB's H×W×B stored column-major as (B, W, H)
    const envi = execFileSync(process.execPath, [bin, 'info', `${F}envi-bil-int64.hdr`], { encoding: 'utf8' });
    expect(envi).toContain('5 samples × 6 lines × 4 bands, BIL, data type 14, byte order 0, header offset 16');
    expect(envi).toContain('energy 6.4 … 3.69 keV');
  });
});
