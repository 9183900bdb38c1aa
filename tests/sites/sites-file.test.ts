import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FeatureCollection, Point } from 'geojson';
import { describe, expect, it } from 'vitest';
import { sitesCommand } from '../../main/cli/commands/sites.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { readSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { exportSites } from '../../main/export/sites-export.ts';
import { InvalidOptionError } from '../../main/errors.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';
import { runCommand } from '../helpers/run-command.ts';

/**
 * Sites written as GeoPackage (and Shapefile) besides GeoJSON. GDAL is the reference: its
 * GeoPackage validator (validate_gpkg.py of osgeo_utils, Debian python3-gdal), ogrinfo, and
 * ogr2ogr's conversion of our .gpkg back to GeoJSON, which must equal our own GeoJSON output.
 */
const FIX = join(REPO_ROOT, 'tests/fixtures/vectors');
const GRID: GridSpec = { originX: 499000, originY: 4610000, cellSizeX: 250, cellSizeY: 250, rows: 42, cols: 32, crs: crsFromEpsg(32645) };

function gridFile(dir: string): string {
  const path = join(dir, 'grid.tif');
  writeGeoTiff(path, { grid: GRID, bandNames: ['Au'], bands: [new Float32Array(GRID.rows * GRID.cols).fill(1)] });
  return path;
}

const validateGpkg = (file: string): string =>
  execFileSync('/usr/bin/python3', ['-m', 'osgeo_utils.samples.validate_gpkg', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

type Row = { x: number; y: number; p: Record<string, unknown> };
const rowsOf = (fc: FeatureCollection<Point>): Row[] =>
  fc.features.map((f) => ({ x: f.geometry.coordinates[0], y: f.geometry.coordinates[1], p: f.properties ?? {} })).sort((a, b) => a.x - b.x || a.y - b.y);

describe('sites --out SITES.gpkg', () => {
  it('writes a GeoPackage GDAL validates; ogr2ogr gives back our GeoJSON (coordinates exact, every attribute)', async () => {
    const dir = tempDir();
    const grid = gridFile(dir);
    const args = ['--deposits', join(FIX, 'points.geojson'), '--grid', grid, '--negatives', 'auto', '--seed', '3', '--min-deposit-dist', '500'];
    await runCommand(sitesCommand, [...args, '--out', join(dir, 'sites.geojson')]);
    const r = await runCommand(sitesCommand, [...args, '--out', join(dir, 'sites.gpkg')]);
    expect(r.out.at(-1)).toBe(`wrote ${join(dir, 'sites.gpkg')}`);
    expect(validateGpkg(join(dir, 'sites.gpkg'))).toBe(''); // validate_gpkg.py prints nothing and exits 0 for a valid file
    const mine = JSON.parse(readFileSync(join(dir, 'sites.geojson'), 'utf8')) as FeatureCollection<Point>;
    const info = execFileSync('ogrinfo', ['-so', join(dir, 'sites.gpkg'), 'sites'], { encoding: 'utf8' });
    expect(info).toMatch(/^Geometry: Point$/m);
    expect(info).toMatch(new RegExp(`^Feature Count: ${mine.features.length}$`, 'm'));
    expect(execFileSync('gdalsrsinfo', ['-o', 'epsg', join(dir, 'sites.gpkg')], { encoding: 'utf8' })).toMatch(/EPSG:32645/);
    execFileSync('ogr2ogr', ['-f', 'GeoJSON', join(dir, 'by-gdal.geojson'), join(dir, 'sites.gpkg'), 'sites']);
    const gdal = JSON.parse(readFileSync(join(dir, 'by-gdal.geojson'), 'utf8')) as FeatureCollection<Point>;
    const a = rowsOf(gdal);
    const b = rowsOf(mine);
    expect(a).toHaveLength(b.length);
    for (let i = 0; i < b.length; i++) {
      expect(a[i].x).toBe(b[i].x); // doubles both ways: exact
      expect(a[i].y).toBe(b[i].y);
      for (const k of ['label', 'siteId', 'groupId', 'source', 'row', 'col']) expect(a[i].p[k], k).toEqual(b[i].p[k]);
      expect(Boolean(a[i].p.centre)).toBe(b[i].p.centre); // GDAL writes GeoPackage BOOLEAN as JSON true/false
    }
    // Every command reading sites reads the GeoPackage: the same sites as from the GeoJSON.
    const fromGpkg = await readSitesGeoJson(join(dir, 'sites.gpkg'), GRID);
    const fromJson = await readSitesGeoJson(join(dir, 'sites.geojson'), GRID);
    expect(fromGpkg.sites).toEqual(fromJson.sites);
  });

  it('writes a Shapefile that ogrinfo reads with the same count; refuses an unknown extension before any work', async () => {
    const dir = tempDir();
    const grid = gridFile(dir);
    const args = ['--deposits', join(FIX, 'points.geojson'), '--grid', grid, '--negatives', 'none'];
    await runCommand(sitesCommand, [...args, '--out', join(dir, 'sites.shp')]);
    const info = execFileSync('ogrinfo', ['-so', '-al', join(dir, 'sites.shp')], { encoding: 'utf8' });
    const fromJson = (await runCommand(sitesCommand, [...args, '--out', join(dir, 'sites.geojson')]), JSON.parse(readFileSync(join(dir, 'sites.geojson'), 'utf8')) as FeatureCollection);
    expect(info).toMatch(new RegExp(`^Feature Count: ${fromJson.features.length}$`, 'm'));
    const e = await runCommand(sitesCommand, [...args, '--out', join(dir, 'sites.kml')]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect((e as Error).message).toMatch(/\.gpkg.*--out/);
  });

  it('exportSites (the app\'s sites export) writes .gpkg that GDAL validates, with the cells of its .geojson', async () => {
    const dir = tempDir();
    const grid = gridFile(dir);
    const centres = [
      { id: 'a', x: 501000, y: 4605000, label: 1 as const, source: 'user' as const },
      { id: 'b', x: 504000, y: 4602000, label: 0 as const, source: 'user' as const },
    ];
    const g = await exportSites(join(dir, 'x.gpkg'), grid, centres);
    expect(g.format).toBe('geopackage');
    expect(validateGpkg(join(dir, 'x.gpkg'))).toBe('');
    await exportSites(join(dir, 'x.geojson'), grid, centres);
    const a = await readSitesGeoJson(join(dir, 'x.gpkg'), GRID);
    const b = await readSitesGeoJson(join(dir, 'x.geojson'), GRID);
    expect(a.sites).toEqual(b.sites);
    expect(a.sites).toHaveLength(18); // two 3×3 blocks inside the grid
  });
});
