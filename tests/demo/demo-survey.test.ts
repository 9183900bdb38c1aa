import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { writeDemoSurvey } from '../../main/demo/demo-survey.ts';
import { readSampleTable } from '../../main/io/table.ts';
import { readVector } from '../../main/io/vector.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { gdalinfo, gdalEpsg } from '../helpers/gdal.ts';
import { tempDir } from '../helpers/paths.ts';

describe('demo survey generator', () => {
  it('is deterministic per seed: same seed → byte-identical files; another seed → different data', () => {
    const a = tempDir();
    const b = tempDir();
    const c = tempDir();
    writeDemoSurvey(a, { seed: 11 });
    writeDemoSurvey(b, { seed: 11 });
    writeDemoSurvey(c, { seed: 12 });
    const files = readdirSync(a).sort();
    expect(files).toEqual(['anomaly-truth.tif', 'demo.json', 'deposits.geojson', 'faults.geojson', 'samples.csv']);
    for (const f of files) expect(readFileSync(join(b, f)).equals(readFileSync(join(a, f)))).toBe(true);
    expect(readFileSync(join(c, 'samples.csv')).equals(readFileSync(join(a, 'samples.csv')))).toBe(false);
  });

  it('writes files the app itself reads: 39 censored log-normal elements, faults, deposits, a valid truth GeoTIFF', async () => {
    const dir = tempDir();
    const files = writeDemoSurvey(dir, { seed: 3 });
    const t = await readSampleTable(files.samples, { x: 'x', y: 'y', crs: crsFromEpsg(32645) });
    expect(t.columns).toHaveLength(39);
    expect(t.rowCount).toBeGreaterThanOrEqual(3000);
    expect(t.units.Au).toBe('ppb');
    expect(t.units.SiO2).toBe('%');
    const totalCensored = Object.values(t.censored).reduce((s, v) => s + v, 0);
    const totalMissing = Object.values(t.missing).reduce((s, v) => s + v, 0);
    expect(totalCensored).toBeGreaterThan(0);
    expect(totalMissing).toBeGreaterThan(0);
    // Log-normal backgrounds: log values are far less skewed than raw values.
    const skew = (v: number[]): number => {
      const m = v.reduce((s, x) => s + x, 0) / v.length;
      const sd = Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / v.length);
      return v.reduce((s, x) => s + ((x - m) / sd) ** 3, 0) / v.length;
    };
    const cu = Array.from(t.values.Cu).filter(Number.isFinite);
    expect(skew(cu)).toBeGreaterThan(1);
    expect(Math.abs(skew(cu.map(Math.log)))).toBeLessThan(1);
    // Correlated element groups: Ni–Cr (mafic) correlate strongly in log space; Ni–Th do not.
    const corr = (p: string, q: string): number => {
      const a: number[] = [];
      const b: number[] = [];
      t.values[p].forEach((v, i) => {
        const w = t.values[q][i];
        if (Number.isFinite(v) && Number.isFinite(w)) {
          a.push(Math.log(v));
          b.push(Math.log(w));
        }
      });
      const ma = a.reduce((s, x) => s + x, 0) / a.length;
      const mb = b.reduce((s, x) => s + x, 0) / b.length;
      let sab = 0;
      let saa = 0;
      let sbb = 0;
      for (let i = 0; i < a.length; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) ** 2;
        sbb += (b[i] - mb) ** 2;
      }
      return sab / Math.sqrt(saa * sbb);
    };
    expect(corr('Ni', 'Cr')).toBeGreaterThan(0.4);
    expect(Math.abs(corr('Ni', 'Th'))).toBeLessThan(corr('Ni', 'Cr') / 2);
    const faults = await readVector(files.faults);
    expect(faults.crs?.epsg).toBe(32645);
    expect(faults.features.filter((f) => f.properties?.favourable === true)).toHaveLength(3);
    const deposits = await readVector(files.deposits);
    expect(deposits.features).toHaveLength(40);
    const manifest = JSON.parse(readFileSync(files.manifest, 'utf8'));
    expect(manifest.truth.powerLawK).toBe(-0.7);
    const truth = await readGeoTiff(files.truth);
    const info = gdalinfo(files.truth);
    expect(gdalEpsg(info)).toBe(32645);
    expect(info.size).toEqual([truth.grid.cols, truth.grid.rows]);
    // Halos peak at deposits: the truth raster is high at deposit cells.
    const g = truth.grid;
    let atDeposits = 0;
    for (const f of deposits.features) {
      const [x, y] = (f.geometry as { coordinates: number[] }).coordinates;
      const r = Math.floor((g.originY - y) / g.cellSizeY);
      const c = Math.floor((x - g.originX) / g.cellSizeX);
      atDeposits += truth.bands[0][r * g.cols + c];
    }
    const meanAll = truth.bands[0].reduce((s, v) => s + v, 0) / truth.bands[0].length;
    expect(atDeposits / 40).toBeGreaterThan(3 * meanAll);
  });
});

describe('demo survey regimes (skill benchmark options)', () => {
  it('without options writes exactly the files of the version before the options existed (sha256 of seed 7)', () => {
    // Hashes of the files written by main/demo/demo-survey.ts before the regime options were added
    // (commit 0e28292, seed 7), measured with sha256sum.
    const expected: Record<string, string> = {
      'anomaly-truth.tif': 'c299971bed41e0f01af4e161fde613800ca709230484da96f157e607e5b7d3b7',
      'demo.json': '766dd3f4a6a9f67f26b85e485632f48cf2ced693ec3b396da9a242092d4ad7eb',
      'deposits.geojson': '7aa5acb2445665bf75dd514637ad277810dbebc6ccffeb2b88816358b4df3dc9',
      'faults.geojson': '76795f9fd3fbee66bb21472c61bf0a6a8a3b3a1d8428275bb0c6cf2a4e056ea8',
      'samples.csv': '265b9bebf1457b98874348a07b3bb675d6d03d376e4516239ee27c59dc61e142',
    };
    const d = tempDir();
    writeDemoSurvey(d, { seed: 7 });
    for (const [f, h] of Object.entries(expected)) expect(createHash('sha256').update(readFileSync(join(d, f))).digest('hex'), f).toBe(h);
  });

  it('isotropic, uniform, noisy with decoys: decoys raise the samples but not the truth, deposits ignore the faults', async () => {
    const base = tempDir();
    const iso = tempDir();
    writeDemoSurvey(base, { seed: 3, haloAlongM: 1200, haloAcrossM: 1200, faultControl: 0 });
    writeDemoSurvey(iso, { seed: 3, haloAlongM: 1200, haloAcrossM: 1200, faultControl: 0, decoyCount: 6 });
    const meta = JSON.parse(readFileSync(join(iso, 'demo.json'), 'utf8')) as { truth: { decoys: { x: number; y: number }[]; faultControl: number; haloSigmaAlongM: number } };
    expect(meta.truth.decoys).toHaveLength(6);
    expect(meta.truth.faultControl).toBe(0);
    expect(meta.truth.haloSigmaAlongM).toBe(1200);
    // Same deposits and truth (decoys are not mineralisation); different samples.
    expect(readFileSync(join(iso, 'deposits.geojson')).equals(readFileSync(join(base, 'deposits.geojson')))).toBe(true);
    expect(readFileSync(join(iso, 'anomaly-truth.tif')).equals(readFileSync(join(base, 'anomaly-truth.tif')))).toBe(true);
    expect(readFileSync(join(iso, 'samples.csv')).equals(readFileSync(join(base, 'samples.csv')))).toBe(false);
    // The truth raster still carries the deposits’ halos.
    const truth = await readGeoTiff(join(iso, 'anomaly-truth.tif'));
    expect(truth.bands[0].some((v) => v > 0.3)).toBe(true);
  });

  it('refuses out-of-range regime options with the flag to fix', () => {
    expect(() => writeDemoSurvey(tempDir(), { faultControl: 1.5 })).toThrow(/--fault-control/);
    expect(() => writeDemoSurvey(tempDir(), { decoyCount: -1 })).toThrow(/--decoys/);
  });
});
