import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { krigeGrid } from '../../main/kriging/krige-grid.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { Rng } from '../../main/util/rng.ts';
import { krigeCommand } from '../../main/cli/commands/krige.ts';
import { parseCommandArgs } from '../../main/cli/command.ts';
import { CrsError, InvalidOptionError } from '../../main/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'krige-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The real `geoanomaly` executable in a child process (asynchronous: vitest's RPC must keep running). */
async function cli(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, ['main/cli/bin.mjs', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
    return { status: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { status: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** The krige command in this process (no tsx start-up per call); throws what the CLI would report. */
async function krigeInProcess(...argv: string[]): Promise<{ out: string[]; err: string[] }> {
  const out: string[] = [], err: string[] = [];
  const code = await krigeCommand.run(parseCommandArgs(krigeCommand, argv), { out: (l) => out.push(l), err: (l) => err.push(l), progress: () => {}, signal: new AbortController().signal });
  expect(code).toBe(0);
  return { out, err };
}

interface GdalBand { description: string; minimum?: number; maximum?: number; metadata?: Record<string, Record<string, string>> }
function gdalinfo(file: string): { size: number[]; bands: GdalBand[]; geoTransform: number[]; coordinateSystem: { wkt: string }; metadata: Record<string, Record<string, string>> } {
  return JSON.parse(execFileSync('gdalinfo', ['-json', '-stats', file], { encoding: 'utf8' }));
}

describe('geoanomaly krige (CLI)', () => {
  it('grids all 39 elements of the demo survey into one 39-band GeoTIFF, with variances and LOO-CV', async () => {
    const demo = join(dir, 'demo');
    const gen = await cli('demo-data', '--out', demo, '--samples', '600', '--seed', '3');
    expect(gen.status, gen.stderr).toBe(0);
    const header = readFileSync(join(demo, 'samples.csv'), 'utf8').split('\n')[0].split(',');
    const elements = header.slice(3).map((h) => h.replace(/_(ppm|ppb|pct)$/, ''));
    expect(elements).toHaveLength(39);
    const out = join(demo, 'grids.tif'), vout = join(demo, 'var.tif'), cvOut = join(demo, 'cv.json');
    const r = await cli('krige', '--samples', join(demo, 'samples.csv'), '--x', 'x', '--y', 'y', '--crs', 'EPSG:32645', '--fields', 'all',
      '--cell', '2000', '--log', '--nmax', '24', '--out', out, '--variance', vout, '--cv', cvOut);
    expect(r.status, r.stderr).toBe(0);
    const info = gdalinfo(out);
    expect(info.bands.map((b) => b.description)).toEqual(elements);
    expect(info.geoTransform[1]).toBe(2000);
    expect(info.geoTransform[5]).toBe(-2000);
    expect(info.coordinateSystem.wkt).toMatch(/UTM zone 45N/);
    for (const b of info.bands) {
      // Back-transformed concentrations are positive and finite everywhere (no nodata cells).
      expect(b.minimum!).toBeGreaterThan(0);
      expect(Number.isFinite(b.maximum!)).toBe(true);
    }
    expect(info.metadata['']?.VARIOGRAM_Cu).toMatch(/^(sph|exp|gau):/);
    expect(gdalinfo(vout).bands).toHaveLength(39);
    const cv = JSON.parse(readFileSync(cvOut, 'utf8')) as { elements: { name: string; summary: { n: number; rmse: number; scale: string }; points: unknown[] }[] };
    expect(cv.elements.map((e) => e.name)).toEqual(elements);
    for (const e of cv.elements) {
      expect(e.summary.scale).toBe('log');
      expect(e.summary.n).toBeGreaterThan(500);
      expect(e.points.length).toBeGreaterThanOrEqual(e.summary.n);
    }
    expect(r.stdout).toMatch(/wrote .*grids\.tif/);
  });

  it('with a fixed --variogram and --like writes exactly what krigeGrid computes (bit-identical Float32)', async () => {
    const rng = new Rng(9);
    const rows = ['east,north,Cu_ppm,Zn_ppm'];
    const n = 150;
    const x: number[] = [], y: number[] = [], cu: number[] = [], zn: number[] = [];
    for (let i = 0; i < n; i++) {
      x.push(Math.round(rng.range(500000, 505000)));
      y.push(Math.round(rng.range(4000000, 4004000)));
      cu.push(Number((20 + 10 * Math.sin(x[i] / 700) + rng.normal(0, 1)).toFixed(3)));
      zn.push(Number((50 + 5 * Math.cos(y[i] / 500) + rng.normal(0, 1)).toFixed(3)));
      rows.push(`${x[i]},${y[i]},${cu[i]},${zn[i]}`);
    }
    const csv = join(dir, 'pts.csv');
    writeFileSync(csv, rows.join('\n') + '\n');
    const first = join(dir, 'first.tif');
    const spec = 'sph:0.5:20:1800';
    const r = await krigeInProcess('--samples', csv, '--x', 'east', '--y', 'north', '--crs', 'EPSG:32645', '--fields', 'Cu,Zn', '--cell', '250',
      '--extent', '500000,4000000,505000,4004000', '--variogram', spec, '--out', first);
    expect(r.out).toContain(`wrote ${first}`);
    const second = join(dir, 'second.tif');
    await krigeInProcess('--samples', csv, '--x', 'east', '--y', 'north', '--crs', 'EPSG:32645', '--fields', 'Cu', '--like', first,
      '--variogram', spec, '--nmax', '12', '--threads', '1', '--out', second);
    const a = await readGeoTiff(first);
    expect(a.bandNames).toEqual(['Cu', 'Zn']);
    expect([a.grid.rows, a.grid.cols]).toEqual([16, 20]);
    const model = { type: 'sph' as const, nugget: 0.5, psill: 20, rangeM: 1800 };
    const input = { x: Float64Array.from(x), y: Float64Array.from(y), fields: [{ name: 'Cu', values: Float64Array.from(cu) }, { name: 'Zn', values: Float64Array.from(zn) }] };
    const ref = await krigeGrid(input, { ...a.grid, crs: crsFromEpsg(32645) }, { variogram: model, threads: 1 });
    expect(Buffer.from(a.bands[0].buffer, a.bands[0].byteOffset, a.bands[0].byteLength).equals(Buffer.from(ref.prediction.bands[0].buffer))).toBe(true);
    expect(Buffer.from(a.bands[1].buffer, a.bands[1].byteOffset, a.bands[1].byteLength).equals(Buffer.from(ref.prediction.bands[1].buffer))).toBe(true);
    const b = await readGeoTiff(second);
    expect(b.grid).toEqual(a.grid);
    const ref12 = await krigeGrid({ ...input, fields: [input.fields[0]] }, { ...a.grid, crs: crsFromEpsg(32645) }, { variogram: model, nmax: 12, threads: 1 });
    expect(Buffer.from(b.bands[0].buffer, b.bands[0].byteOffset, b.bands[0].byteLength).equals(Buffer.from(ref12.prediction.bands[0].buffer))).toBe(true);
  });

  it('explains usage errors with named errors: unknown field, missing grid, bad variogram, geographic CRS', async () => {
    const csv = join(dir, 'pts.csv');
    expect(existsSync(csv)).toBe(true);
    const base = ['--samples', csv, '--x', 'east', '--y', 'north', '--crs', 'EPSG:32645', '--out', join(dir, 'x.tif')];
    await expect(krigeInProcess(...base, '--fields', 'Au', '--cell', '100')).rejects.toThrow(/no numeric column "Au".*numeric columns: Cu, Zn/);
    await expect(krigeInProcess(...base, '--fields', 'Cu')).rejects.toThrow(InvalidOptionError);
    await expect(krigeInProcess(...base, '--fields', 'Cu')).rejects.toThrow(/--cell METRES/);
    await expect(krigeInProcess(...base, '--fields', 'Cu', '--cell', '100', '--variogram', 'sph:0.1:1')).rejects.toThrow(/MODEL:NUGGET:PSILL:RANGE/);
    await expect(krigeInProcess('--samples', csv, '--x', 'east', '--y', 'north', '--crs', 'EPSG:4326', '--fields', 'Cu', '--cell', '100', '--out', join(dir, 'x.tif')))
      .rejects.toThrow(CrsError);
    expect(existsSync(join(dir, 'x.tif'))).toBe(false);
  });
});
