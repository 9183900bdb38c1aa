import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Feature, Position } from 'geojson';
import { crsFromEpsg, parseCrs } from '../../main/grid/crs.ts';
import { reprojectPoints } from '../../main/grid/reproject.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { writeGeoPackage } from '../../main/io/geopackage-write.ts';
import { readVector, forEachPosition } from '../../main/io/vector.ts';
import { crsToPrjWkt } from '../../main/grid/crs-wkt.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

/**
 * The CRS fixtures of tests/fixtures/crs (made by GDAL/OGR: make_crs_fixtures.py): for each EPSG
 * code, the workbench identifies the CRS of the grid and of both layers, and every GeoTIFF, .prj
 * and GeoPackage it writes is identified as the same code by GDAL (`gdalsrsinfo -o epsg`).
 * Reprojection agrees with gdaltransform to ≤ 0.01 m (no datum shift involved).
 */
const FIX = join(REPO_ROOT, 'tests/fixtures/crs');
const manifest = JSON.parse(readFileSync(join(FIX, 'manifest.json'), 'utf8')) as Record<string, { grid: string; points: string; lines: string; pointsLayer?: string; linesLayer?: string; originX: number; originY: number; cell: number; rows: number; cols: number }>;
const reference = JSON.parse(readFileSync(join(FIX, 'gdaltransform.json'), 'utf8')) as {
  fromLonLat: Record<string, { lonlat: number[][]; projected: number[][] }>;
  pairs: { from: number; to: number; source: number[][]; target: number[][] }[];
};
const out = tempDir('ga-crs-fix-');
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** GDAL's identification of a file's CRS (the last line of `gdalsrsinfo -o epsg`, e.g. "EPSG:3067"). */
function gdalEpsgOf(path: string): string {
  const lines = execFileSync('gdalsrsinfo', ['-o', 'epsg', path], { encoding: 'utf8' }).trim().split('\n');
  return lines[lines.length - 1].trim();
}

function vertices(features: readonly Feature[]): Position[] {
  const v: Position[] = [];
  forEachPosition(features, (p) => v.push(p));
  return v;
}

describe('CRS fixtures made by GDAL: read, identify, write', () => {
  for (const [codeText, m] of Object.entries(manifest)) {
    const code = Number(codeText);
    it(`EPSG:${code}: grid and layers identified; the GeoTIFF, .prj and GeoPackage written are EPSG:${code} to gdalsrsinfo`, async () => {
      const dir = join(FIX, 'sets', codeText);
      const grid = await readGeoTiff(join(dir, m.grid));
      expect(grid.grid.crs?.epsg).toBe(code);
      // The geotransform as GDAL wrote it (exact: multiples of the cell size).
      expect([grid.grid.originX, grid.grid.originY, grid.grid.cellSizeX, grid.grid.rows, grid.grid.cols]).toEqual([m.originX, m.originY, m.cell, m.rows, m.cols]);
      const points = await readVector(join(dir, m.points), { layer: m.pointsLayer });
      const lines = await readVector(join(dir, m.lines), { layer: m.linesLayer });
      expect(points.crs?.epsg).toBe(code);
      expect(lines.crs?.epsg).toBe(code);
      expect(points.features.length).toBe(code === 3067 ? 10 : 6);
      expect(lines.features.map((f) => f.geometry.type)).toEqual(['LineString', 'LineString', 'LineString']);

      const tif = join(out, `${code}.tif`);
      writeGeoTiff(tif, { grid: grid.grid, bandNames: grid.bandNames, bands: grid.bands });
      expect(gdalEpsgOf(tif)).toBe(`EPSG:${code}`);
      const prj = join(out, `${code}.prj`);
      writeFileSync(prj, crsToPrjWkt(points.crs!));
      expect(gdalEpsgOf(prj)).toBe(`EPSG:${code}`);
      const gpkg = join(out, `${code}.gpkg`);
      await writeGeoPackage(gpkg, [{ name: 'points', features: points.features, crs: points.crs }]);
      expect(gdalEpsgOf(gpkg)).toBe(`EPSG:${code}`);
    });
  }

  it('reads the GeoJSON crs member in its URN, EPSG: and CRS84 spellings, and proj4 strings through parseCrs', async () => {
    const file = join(out, 'urn.geojson');
    for (const [name, code] of [['urn:ogc:def:crs:EPSG::3067', 3067], ['urn:ogc:def:crs:EPSG:6.6:3067', 3067], ['EPSG:2056', 2056], ['urn:ogc:def:crs:OGC:1.3:CRS84', 4326]] as const) {
      writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', crs: { type: 'name', properties: { name } }, features: [{ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: code === 4326 ? [26, 64] : code === 3067 ? [450_000, 7_100_000] : [2_600_000, 1_200_000] } }] }));
      expect((await readVector(file)).crs?.epsg).toBe(code);
    }
    // A proj4 string matching a registry entry gets the code GDAL identifies (gdalsrsinfo -o epsg "+proj=…").
    expect(parseCrs('+proj=utm +zone=35 +datum=WGS84 +units=m +no_defs').epsg).toBe(32635);
    // GRS80 UTM 35 without a datum fits ETRS89 / UTM 35N, ETRS-TM35FIN and others alike (GDAL lists six at 70 %): it stays custom.
    expect(parseCrs('+proj=utm +zone=35 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs').epsg).toBeNull();
    expect(parseCrs('+proj=somerc +lat_0=46.9524055555556 +lon_0=7.43958333333333 +k_0=1 +x_0=2600000 +y_0=1200000 +ellps=bessel +towgs84=674.374,15.056,405.346,0,0,0,0 +units=m +no_defs').epsg).toBe(2056);
  });
});

describe('reprojection against gdaltransform', () => {
  // Lon/lat (EPSG:4326) → each fixture CRS. Reference: gdaltransform -s_srs EPSG:4326 -t_srs EPSG:N,
  // run by make_crs_fixtures.py. Tolerance 0.01 m (issue 16) where no datum shift is involved;
  // CH1903/CH1903+ (21781, 2056) involve a Helmert shift, which proj4js applies like PROJ's
  // 3-parameter transformation: checked to 0.01 m as well, as measured.
  for (const [codeText, r] of Object.entries(reference.fromLonLat)) {
    const code = Number(codeText);
    it(`EPSG:4326 → EPSG:${code}: every vertex within 0.01 m of gdaltransform`, async () => {
      const logs: string[] = [];
      const target = crsFromEpsg(code);
      const pts = await readVector(join(FIX, 'src', `${code}-points-lonlat.geojson`), { targetCrs: target, log: (l) => logs.push(l) });
      const lines = await readVector(join(FIX, 'src', `${code}-lines-lonlat.geojson`), { targetCrs: target, log: (l) => logs.push(l) });
      expect(logs).toEqual([
        `reprojected ${code}-points-lonlat.geojson from EPSG:4326 to EPSG:${code} (${pts.features.length} features)`,
        `reprojected ${code}-lines-lonlat.geojson from EPSG:4326 to EPSG:${code} (3 features)`,
      ]);
      const got = [...vertices(pts.features), ...vertices(lines.features)];
      expect(got).toHaveLength(r.projected.length);
      let worst = 0;
      got.forEach((p, i) => (worst = Math.max(worst, Math.hypot(p[0] - r.projected[i][0], p[1] - r.projected[i][1]))));
      expect(worst).toBeLessThanOrEqual(0.01);
    });
  }
  for (const pair of reference.pairs) {
    it(`EPSG:${pair.from} → EPSG:${pair.to} (projected to projected): within 0.01 m of gdaltransform`, () => {
      const logs: string[] = [];
      const r = reprojectPoints('pts.csv', pair.source.map((p) => p[0]), pair.source.map((p) => p[1]), crsFromEpsg(pair.from), crsFromEpsg(pair.to), (l) => logs.push(l));
      expect(logs).toEqual([`reprojected pts.csv from EPSG:${pair.from} to EPSG:${pair.to} (${pair.source.length} points)`]);
      const worst = Math.max(...r.x.map((x, i) => Math.hypot(x - pair.target[i][0], r.y[i] - pair.target[i][1])));
      expect(worst).toBeLessThanOrEqual(0.01);
    });
  }
});

describe('user-defined projected CRSs in GeoTIFF GeoKeys (ProjectedCSTypeGeoKey 32767)', () => {
  // GDAL writes a CRS without an EPSG code as user-defined GeoKeys; we read them, write them back,
  // and GDAL reads our file as the same projection (gdalsrsinfo -o proj4, parameter by parameter).
  const cases = [
    '+proj=tmerc +lat_0=0 +lon_0=25.5 +k=0.9996 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs',
    '+proj=lcc +lat_0=63 +lon_0=26 +lat_1=61 +lat_2=65 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs',
    '+proj=laea +lat_0=64 +lon_0=26 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs',
  ];
  const params = (s: string): Record<string, string> =>
    Object.fromEntries(s.split(/\s+/).filter((t) => t.startsWith('+') && !/^\+(no_defs|type|towgs84|wktext)/.test(t)).map((t) => { const [k, v = ''] = t.split('='); return [k, v]; }));
  for (const def of cases) {
    it(`${def.split(' ')[0]}: GDAL's 32767 GeoKeys read; ours read back by GDAL as the same projection`, async () => {
      const src = join(out, `ud-src-${def.split(' ')[0].slice(6)}.tif`);
      execFileSync('gdal_translate', ['-q', '-a_srs', def, '-a_ullr', '440000', '7100000', '446000', '7095000', join(FIX, 'sets/3067/grid.tif'), src]);
      const r = await readGeoTiff(src);
      expect(r.grid.crs).not.toBeNull();
      const back = join(out, `ud-back-${def.split(' ')[0].slice(6)}.tif`);
      writeGeoTiff(back, { grid: r.grid, bandNames: r.bandNames, bands: r.bands });
      const got = params(execFileSync('gdalsrsinfo', ['-o', 'proj4', back], { encoding: 'utf8' }).trim());
      const want = params(execFileSync('gdalsrsinfo', ['-o', 'proj4', src], { encoding: 'utf8' }).trim());
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      // Numeric parameters to 1e-9 relative (GeoKeys are doubles; GDAL prints 15 digits).
      for (const [k, v] of Object.entries(want)) {
        if (Number.isFinite(Number(v)) && v !== '') expect(Math.abs(Number(got[k]) - Number(v))).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(Number(v))));
        else expect(got[k]).toBe(v);
      }
    });
  }
});
