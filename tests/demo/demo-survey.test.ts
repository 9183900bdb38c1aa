import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
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
