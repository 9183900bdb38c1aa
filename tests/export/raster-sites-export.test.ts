import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { crsFromEpsg, parseCrs, type Crs } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { exportRaster } from '../../main/export/raster-export.ts';
import { exportSites } from '../../main/export/sites-export.ts';
import { crsToPrjWkt } from '../../main/grid/crs-wkt.ts';
import { UnknownLayerError } from '../../main/export/export-errors.ts';
import { UnsupportedCrsError } from '../../main/errors.ts';
import { SiteConflictError } from '../../main/sites/site-errors.ts';
import type { SiteCentre } from '../../main/api/contract.ts';
import { gdalEpsg, gdalinfo, gdalStats } from '../helpers/gdal.ts';
import { tempDir } from '../helpers/paths.ts';

/** Raster and site exports, read back with GDAL (gdalinfo -json -stats, ogrinfo, gdalsrsinfo). */
const dir = tempDir('ga-export-');
const grid: GridSpec = { originX: 440_000, originY: 4_640_000, cellSizeX: 500, cellSizeY: 500, rows: 20, cols: 30, crs: crsFromEpsg(32645) };
const n = grid.rows * grid.cols;
const a = Float32Array.from({ length: n }, (_, i) => 0.1 + (i % 7) * 1.25);
const b = Float32Array.from({ length: n }, (_, i) => (i % 11 === 0 ? NaN : Math.sqrt(i)));
const c = Float32Array.from({ length: n }, (_, i) => -3 + i / 100);
const stack = join(dir, 'stack.tif');

beforeAll(() => writeGeoTiff(stack, { grid, bandNames: ['a', 'b', 'c'], bands: [a, b, c] }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Min, max, mean of the finite values, in double precision (the reference for GDAL's statistics). */
function stats(v: Float32Array): { min: number; max: number; mean: number } {
  let min = Infinity, max = -Infinity, sum = 0, k = 0;
  for (const x of v) if (Number.isFinite(x)) { min = Math.min(min, x); max = Math.max(max, x); sum += x; k++; }
  return { min, max, mean: sum / k };
}

describe('raster layer → GeoTIFF', () => {
  it('writes the chosen bands in the chosen order; gdalinfo reads names, grid, EPSG, nodata and statistics', async () => {
    const out = join(dir, 'cb.tif');
    const r = await exportRaster(stack, out, ['c', 'b']);
    expect(r.bandNames).toEqual(['c', 'b']);
    const info = gdalinfo(out);
    expect(info.size).toEqual([30, 20]);
    expect(info.geoTransform).toEqual([440_000, 500, 0, 4_640_000, 0, -500]);
    expect(gdalEpsg(info)).toBe(32645);
    expect(info.bands.map((x) => x.description)).toEqual(['c', 'b']);
    // Statistics of the Float32 values (relative tolerance 1e-6: GDAL sums in double as we do).
    for (const [i, v] of [c, b].entries()) {
      const s = gdalStats(info.bands[i]);
      const ref = stats(v);
      expect(s.min).toBeCloseTo(ref.min, 5);
      expect(s.max).toBeCloseTo(ref.max, 5);
      expect(Math.abs(s.mean - ref.mean)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(ref.mean)));
    }
    // NaN cells became nodata: band b has 600/11 rounded up = 55 of them → 545/600 valid
    // (GDAL prints the percentage to 0.01: tolerance 0.005).
    expect(Math.abs(gdalStats(info.bands[1]).validPercent - (545 / 600) * 100)).toBeLessThanOrEqual(0.005);
    expect(info.bands[1].noDataValue).toBe(-9999);
  });

  it('all bands by default; an unknown band is named with the bands that exist', async () => {
    const out = join(dir, 'all.tif');
    expect((await exportRaster(stack, out)).bandNames).toEqual(['a', 'b', 'c']);
    expect(gdalinfo(out).bands).toHaveLength(3);
    await expect(exportRaster(stack, join(dir, 'bad.tif'), ['Au'])).rejects.toThrow(UnknownLayerError);
    await expect(exportRaster(stack, join(dir, 'bad.tif'), ['Au'])).rejects.toThrow(/no band\(s\) "Au" \(bands: a, b, c\)/);
    await expect(exportRaster(stack, join(dir, 'bad.png'))).rejects.toThrow(/\.tif or \.tiff/);
    expect(existsSync(join(dir, 'bad.tif'))).toBe(false);
  });
});

// Two positive and one negative site; one positive in the grid corner (its block is clipped to 2 × 2).
const centres: SiteCentre[] = [
  { id: 'U1', x: 440_250, y: 4_639_750, label: 1, source: 'user' },
  { id: 'U2', x: 447_750, y: 4_632_250, label: 1, source: 'deposit' },
  { id: 'U3', x: 452_250, y: 4_634_750, label: 0, source: 'auto' },
];

interface OgrFeature {
  [k: string]: string | number;
  x: number;
  y: number;
}

/** Features of `ogrinfo -al -q` (GDAL 3.6 has no -json for vectors): attributes and POINT coordinates. */
function ogrFeatures(file: string): OgrFeature[] {
  const out = execFileSync('ogrinfo', ['-al', '-q', file], { encoding: 'utf8' });
  return out.split(/OGRFeature\([^)]*\):\d+\n/).slice(1).map((block) => {
    const f: OgrFeature = { x: NaN, y: NaN };
    for (const line of block.split('\n')) {
      const attr = /^\s+(\w+) \((Real|Integer|String)\) = (.*)$/.exec(line);
      if (attr) f[attr[1]] = attr[2] === 'String' ? attr[3] : Number(attr[3]);
      const pt = /POINT \(([-\d.e+]+) ([-\d.e+]+)\)/.exec(line);
      if (pt) [f.x, f.y] = [Number(pt[1]), Number(pt[2])];
    }
    return f;
  });
}

describe('sites → GeoJSON and ESRI Shapefile', () => {
  it('the shapefile holds the GeoJSON export cell for cell (ogrinfo: points, attributes, CRS = EPSG:32645)', async () => {
    const shp = join(dir, 'sites', 'sites.shp');
    const gj = join(dir, 'sites', 'sites.geojson');
    const rs = await exportSites(shp, stack, centres);
    const rg = await exportSites(gj, stack, centres);
    expect(rs.files.map((f) => f.slice(-4))).toEqual(['.shp', '.shx', '.dbf', '.prj']);
    // 9 + 4 (corner block clipped) + 9 cells.
    expect([rs.cells, rs.positiveBlocks, rs.negativeBlocks]).toEqual([22, 2, 1]);
    expect(rg.cells).toBe(22);

    const summary = execFileSync('ogrinfo', ['-al', '-so', shp], { encoding: 'utf8' });
    expect(summary).toMatch(/Geometry: Point/);
    expect(summary).toMatch(/Feature Count: 22/);
    expect(summary).toMatch(/ID\["EPSG",32645\]\]\s*$/m);
    for (const field of ['label', 'siteId', 'groupId', 'source', 'centre', 'row', 'col']) expect(summary).toMatch(new RegExp(`^${field}: `, 'm'));
    expect(execFileSync('gdalsrsinfo', ['-e', '-o', 'epsg', join(dir, 'sites', 'sites.prj')], { encoding: 'utf8' })).toMatch(/EPSG:32645/);

    // Reference: the GeoJSON export (main/sites/sites-geojson.ts format) of the same centres.
    const ref = (JSON.parse(readFileSync(gj, 'utf8')) as { features: { geometry: { coordinates: number[] }; properties: Record<string, string | number | boolean> }[] }).features;
    const got = ogrFeatures(shp);
    expect(got).toHaveLength(ref.length);
    got.forEach((f, i) => {
      const p = ref[i].properties;
      // Coordinates exact (cell centres are multiples of 250 m: exact in float64).
      expect([f.x, f.y]).toEqual(ref[i].geometry.coordinates);
      expect([f.label, f.siteId, f.groupId, f.source, f.row, f.col]).toEqual([p.label, p.siteId, p.groupId, p.source, p.row, p.col]);
      // dBase logical field, read by GDAL 3.6 as the string T/F.
      expect(f.centre).toBe(p.centre ? 'T' : 'F');
    });
  });

  it('writes a Web Mercator .prj (EPSG:3857, which GDAL identifies) like any other CRS', async () => {
    const merc = join(dir, 'merc.tif');
    writeGeoTiff(merc, { grid: { ...grid, originX: 9_700_000, originY: 5_000_000, crs: crsFromEpsg(3857) }, bandNames: ['a'], bands: [a] });
    const shp = join(dir, 'merc', 'sites.shp');
    await exportSites(shp, merc, [{ id: 'U1', x: 9_700_250, y: 4_999_750, label: 1, source: 'user' }]);
    // Reference: GDAL's identification of the .prj it reads (gdalsrsinfo -o epsg).
    const epsg = execFileSync('gdalsrsinfo', ['-o', 'epsg', join(dir, 'merc', 'sites.prj')], { encoding: 'utf8' }).trim();
    expect(epsg).toBe('EPSG:3857');
    // The point itself, read back by OGR, exact (a cell centre on a 500 m grid).
    const json = JSON.parse(execFileSync('ogr2ogr', ['-f', 'GeoJSON', '/vsistdout/', shp], { encoding: 'utf8' })) as { features: { geometry: { coordinates: number[] } }[] };
    // The site's block is 2×2 cells of 500 m (the stack's grid), each written as its cell centre.
    expect(json.features.map((f) => f.geometry.coordinates)).toEqual([[9_700_250, 4_999_750], [9_700_750, 4_999_750], [9_700_250, 4_999_250], [9_700_750, 4_999_250]]);
  });

  it('refuses what it cannot write: a custom CRS whose projection has no WKT writer, conflicting blocks, wrong extension', async () => {
    // Robinson as a bare proj4 string: no EPSG code, and no .prj / GeoKeys writer for the projection.
    const robinCrs = parseCrs('+proj=robin +lon_0=0 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs');
    expect(robinCrs.epsg).toBeNull();
    expect(() => crsToPrjWkt(robinCrs)).toThrow(UnsupportedCrsError);
    const robin = join(dir, 'robin.tif');
    expect(() => writeGeoTiff(robin, { grid: { ...grid, crs: robinCrs }, bandNames: ['a'], bands: [a] })).toThrow(/robin projection has no GeoTIFF GeoKeys/);
    expect(existsSync(robin)).toBe(false);
    const touching: SiteCentre[] = [centres[1], { ...centres[2], x: 448_750, y: 4_632_250 }];
    await expect(exportSites(join(dir, 'c.shp'), stack, touching)).rejects.toThrow(SiteConflictError);
    await expect(exportSites(join(dir, 'c.kml'), stack, centres)).rejects.toThrow(/\.geojson, \.gpkg \(GeoPackage\) or \.shp/);
  });
});

describe('.prj WKT', () => {
  // Reference: GDAL's own reading of each .prj (gdalsrsinfo -o proj4), compared parameter by parameter.
  const cases: [string, Crs, string][] = [
    ['WGS 84', crsFromEpsg(4326), '+proj=longlat +datum=WGS84 +no_defs'],
    ['UTM 50S', crsFromEpsg(32750), '+proj=utm +zone=50 +south +datum=WGS84 +units=m +no_defs'],
    ['CGCS2000 GK CM 87E', crsFromEpsg(4538), '+proj=tmerc +lat_0=0 +lon_0=87 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs'],
    ['tmerc proj4', parseCrs('+proj=tmerc +lat_0=0 +lon_0=9 +k=0.9996 +x_0=500000 +y_0=0 +datum=WGS84 +units=m +no_defs'), '+proj=utm +zone=32 +datum=WGS84 +units=m +no_defs'],
  ];
  for (const [name, crs, proj] of cases) {
    it(`${name}: GDAL reads the .prj as ${proj}`, () => {
      const prj = join(dir, `${name.replace(/\W+/g, '_')}.prj`);
      execFileSync('sh', ['-c', `cat > "${prj}"`], { input: crsToPrjWkt(crs) });
      const got = execFileSync('gdalsrsinfo', ['-o', 'proj4', prj], { encoding: 'utf8' }).trim();
      const norm = (s: string): string[] => s.split(/\s+/).filter((t) => !/^\+(towgs84|no_defs|type)/.test(t)).sort();
      expect(norm(got)).toEqual(norm(proj));
    });
  }
});
