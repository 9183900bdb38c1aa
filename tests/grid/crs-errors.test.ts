import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../../main/commands/registry.ts';
import { parseCommandArgs } from '../../main/cli/command.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { ImplausibleCoordinatesError, UndeclaredCrsError } from '../../main/grid/reproject.ts';
import { readGeoTiffInfo } from '../../main/io/geotiff-read.ts';
import { readVector } from '../../main/io/vector.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

/**
 * CRS mistakes are named errors naming the probable CRS and a flag that exists on the command
 * (issue 16: --crs for layers that declare none; issue 19: degrees declared as a projected CRS,
 * coordinates outside the CRS's area of use). Each hint's suggested command is then run.
 */
const SET = join(REPO_ROOT, 'tests/fixtures/crs/sets/3067');
const GRID = join(SET, 'grid.tif');
const dir = tempDir('ga-crs-err-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(name: string, argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const cmd = await COMMANDS.find((c) => c.name === name)!.load();
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), progress: () => undefined, signal: new AbortController().signal };
  return { code: await cmd.run(parseCommandArgs(cmd, argv), io), out, err };
}

/** The `--crs EPSG:N` a message suggests, as argv. */
function suggestedCrs(message: string): string[] {
  const m = /--crs (EPSG:\d+)/.exec(message);
  expect(m, message).not.toBeNull();
  return ['--crs', m![1]];
}

/** The fixture's points as GeoJSON, in its own EPSG:3067 coordinates, with the given crs member (or none). */
async function pointsGeoJson(file: string, crsName: string | null, coords?: (p: number[]) => number[]): Promise<string> {
  const layer = await readVector(join(SET, 'points.shp'));
  const features = layer.features.map((f) => ({ ...f, geometry: { type: 'Point', coordinates: coords ? coords((f.geometry as { coordinates: number[] }).coordinates) : (f.geometry as { coordinates: number[] }).coordinates } }));
  writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', ...(crsName ? { crs: { type: 'name', properties: { name: crsName } } } : {}), features }));
  return file;
}

describe('a layer without a CRS', () => {
  it('GeoJSON without crs inside the grid: the error names the grid CRS and sites --crs; that command then succeeds', async () => {
    const deposits = await pointsGeoJson(join(dir, 'nocrs.geojson'), null);
    const out = join(dir, 'sites.geojson');
    const argv = ['--deposits', deposits, '--grid', GRID, '--negatives', 'none', '--out', out];
    const e = await run('sites', argv).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UndeclaredCrsError);
    const msg = (e as Error).message;
    expect(msg).toMatch(/nocrs\.geojson: the layer declares no CRS.*inside the grid's extent.*ETRS89 \/ TM35FIN\(E,N\) \(EPSG:3067\)/);
    const r = await run('sites', [...argv, ...suggestedCrs(msg)]);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).features.length).toBeGreaterThan(0);
  });

  it('faults accepts --crs for an undeclared layer, too, and logs the reprojection of declared layers', async () => {
    const faults = join(dir, 'faults-nocrs.geojson');
    const lines = await readVector(join(SET, 'lines.shp'));
    writeFileSync(faults, JSON.stringify({ type: 'FeatureCollection', features: lines.features }));
    const argv = ['--faults', faults, '--grid', GRID, '--k=-1', '--weight', join(dir, 'w.tif')];
    const e = await run('faults', argv).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UndeclaredCrsError);
    expect(await run('faults', [...argv, ...suggestedCrs((e as Error).message)])).toMatchObject({ code: 0 });
    // Declared lon/lat faults onto the EPSG:3067 grid: reprojected and logged.
    const r = await run('faults', ['--faults', join(REPO_ROOT, 'tests/fixtures/crs/src/3067-lines-lonlat.geojson'), '--grid', GRID, '--k=-1', '--weight', join(dir, 'w2.tif')]);
    expect(r.err).toContain('faults: reprojected 3067-lines-lonlat.geojson from EPSG:4326 to EPSG:3067 (3 features)');
  });

  it('every command that reads a vector layer has --crs, described in its --help', async () => {
    for (const name of ['info', 'krige', 'faults', 'sites', 'evaluate', 'train', 'explain', 'layout', 'report']) {
      const cmd = await COMMANDS.find((c) => c.name === name)!.load();
      expect(cmd.options.crs?.type, name).toBe('string');
      expect(cmd.options.crs?.description, name).toMatch(/CRS/);
    }
  });

  it('a read for a caller without a CRS flag (crsFix: null) names ogr2ogr -a_srs instead of a flag', async () => {
    const grid = (await readGeoTiffInfo(GRID)).grid;
    const file = await pointsGeoJson(join(dir, 'sites-nocrs.geojson'), null);
    const e = await readVector(file, { targetCrs: grid.crs!, grid, crsFix: null }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UndeclaredCrsError);
    expect((e as Error).message).toMatch(/ogr2ogr -a_srs EPSG:3067/);
    expect((e as Error).message).not.toMatch(/--crs/);
  });
});

describe('krige takes any EPSG CRS', () => {
  it('krige --crs EPSG:21781 (Swiss LV03, issue 16) grids a table in that CRS; the stack is EPSG:21781 to GDAL', async () => {
    const pts = await readVector(join(REPO_ROOT, 'tests/fixtures/crs/sets/21781/points.shp'));
    const csv = join(dir, 'lv03.csv');
    writeFileSync(csv, 'x,y,Cu\n' + pts.features.map((f, i) => { const c = (f.geometry as { coordinates: number[] }).coordinates; return `${c[0]},${c[1]},${10 + i}`; }).join('\n') + '\n');
    const out = join(dir, 'lv03.tif');
    expect((await run('krige', ['--samples', csv, '--x', 'x', '--y', 'y', '--crs', 'EPSG:21781', '--fields', 'Cu', '--cell', '1000', '--variogram', 'sph:0:10:5000', '--out', out])).code).toBe(0);
    expect(execFileSync('gdalsrsinfo', ['-o', 'epsg', out], { encoding: 'utf8' }).trim().split('\n').pop()).toBe('EPSG:21781');
  });

  it('a lon/lat table without --like: a CrsError that names --like', async () => {
    const e = await run('krige', ['--samples', join(SET, 'samples-lonlat.csv'), '--x', 'lon', '--y', 'lat', '--crs', 'EPSG:4326', '--fields', 'Cu', '--cell', '500', '--out', join(dir, 'x.tif')]).catch((x: unknown) => x);
    expect((e as Error).message).toMatch(/\(degrees\); kriging needs metres\. Give --like GRID\.tif/);
  });
});

describe('coordinates implausible for the declared CRS (issue 19)', () => {
  it('krige: lon/lat samples declared as EPSG:3067 → names EPSG:4326; the suggested --crs with --like reprojects and kriges', async () => {
    const samples = join(SET, 'samples-lonlat.csv');
    const out = join(dir, 'k.tif');
    const e = await run('krige', ['--samples', samples, '--x', 'lon', '--y', 'lat', '--crs', 'EPSG:3067', '--fields', 'Cu', '--cell', '500', '--out', out]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ImplausibleCoordinatesError);
    const msg = (e as Error).message;
    expect(msg).toMatch(/samples-lonlat\.csv \(columns lon\/lat\): every coordinate lies within ±180\/±90.*probable CRS is EPSG:4326/);
    // Issue 19's own case: lon/lat declared as WGS 84 / UTM 45N gave a 1×1-cell map; now the same named error.
    const e45 = await run('krige', ['--samples', samples, '--x', 'lon', '--y', 'lat', '--crs', 'EPSG:32645', '--fields', 'Cu', '--cell', '0.01', '--out', out]).catch((x: unknown) => x);
    expect(e45).toBeInstanceOf(ImplausibleCoordinatesError);
    expect((e45 as Error).message).toMatch(/WGS 84 \/ UTM zone 45N \(EPSG:32645\), which is projected\. The probable CRS is EPSG:4326/);
    const r = await run('krige', ['--samples', samples, '--x', 'lon', '--y', 'lat', ...suggestedCrs(msg), '--fields', 'Cu', '--like', GRID, '--out', out, '--variogram', 'sph:0.5:20:4000']);
    expect(r.code).toBe(0);
    expect(r.err).toContain('krige: reprojected samples-lonlat.csv from EPSG:4326 to EPSG:3067 (60 points)');
  });

  it('a vector layer declared projected but holding degrees → names EPSG:4326 and ogr2ogr -a_srs (--crs does not override a declared CRS)', async () => {
    const file = join(dir, 'deg-as-3067.geojson');
    writeFileSync(file, readFileSync(join(REPO_ROOT, 'tests/fixtures/crs/src/3067-points-lonlat.geojson'), 'utf8').replace('{"type": "FeatureCollection",', '{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3067"}},'));
    expect((await readVector(join(REPO_ROOT, 'tests/fixtures/crs/src/3067-points-lonlat.geojson'))).crs?.epsg).toBe(4326);
    const e = await readVector(file).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ImplausibleCoordinatesError);
    expect((e as Error).message).toMatch(/deg-as-3067\.geojson: every coordinate lies within ±180\/±90.*EPSG:3067.*probable CRS is EPSG:4326 \(WGS 84 longitude\/latitude\): give ogr2ogr -a_srs EPSG:4326/);
  });

  it('outside the area of use: EPSG:3067 coordinates declared as EPSG:2056 → names the grid CRS (EPSG:3067)', async () => {
    const file = await pointsGeoJson(join(dir, 'fin-as-swiss.geojson'), 'urn:ogc:def:crs:EPSG::2056');
    const grid = (await readGeoTiffInfo(GRID)).grid;
    const e = await readVector(file, { targetCrs: grid.crs!, grid }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ImplausibleCoordinatesError);
    expect((e as Error).message).toMatch(/outside the area of use of CH1903\+ \/ LV95 \(EPSG:2056\).*probable CRS is the grid's.*give ogr2ogr -a_srs EPSG:3067/);
  });

  it('projected numbers declared as lon/lat (CRS84) → names the grid CRS', async () => {
    const file = await pointsGeoJson(join(dir, 'm-as-crs84.geojson'), 'urn:ogc:def:crs:OGC:1.3:CRS84');
    const grid = (await readGeoTiffInfo(GRID)).grid;
    const e = await readVector(file, { targetCrs: grid.crs!, grid }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ImplausibleCoordinatesError);
    expect((e as Error).message).toMatch(/the CRS is WGS 84 \(EPSG:4326\) \(degrees\).*beyond ±180\/±90.*give ogr2ogr -a_srs EPSG:3067/);
    // Sanity: the same points in their own CRS read fine and lie in EPSG:3067's area of use.
    expect((await readVector(join(SET, 'points.shp'), { targetCrs: crsFromEpsg(3067), grid })).features).toHaveLength(10);
  });
});

describe('the app shows reprojections', () => {
  it('getVectorData of a lon/lat layer in an EPSG:3067 project returns the reprojection message the app logs', async () => {
    const { createHandlers } = await import('../../main/api/handlers.ts');
    const { handlers, jobs } = createHandlers({ dataDir: tempDir('ga-crs-app-'), host: 'browser', emit: () => undefined, autosaveDelayMs: 60_000 });
    try {
      const v = await handlers.getVectorData({ source: join(REPO_ROOT, 'tests/fixtures/crs/src/3067-lines-lonlat.geojson'), targetCrs: 'EPSG:3067' });
      expect(v.reprojected).toBe('reprojected 3067-lines-lonlat.geojson from EPSG:4326 to EPSG:3067 (3 features)');
      expect(v.crs?.epsg).toBe(3067);
      const same = await handlers.getVectorData({ source: join(SET, 'lines.shp'), targetCrs: 'EPSG:3067' });
      expect(same.reprojected).toBeNull();
    } finally {
      jobs.cancelAll();
    }
  });
});
