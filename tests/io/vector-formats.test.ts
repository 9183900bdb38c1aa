import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Feature, FeatureCollection, Geometry, Position } from 'geojson';
import { describe, expect, it } from 'vitest';
import { readVector } from '../../main/io/vector.ts';
import { listGeoPackageLayers } from '../../main/io/geopackage-read.ts';
import { writeGeoPackage } from '../../main/io/geopackage-write.ts';
import { InvalidGeometryError } from '../../main/io/geometry-validation.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

/**
 * The GeoPackage, FlatGeobuf and KML readers against GDAL's own writer: every fixture in
 * tests/fixtures/vectors/ is ogr2ogr's copy of a GeoJSON source beside it
 * (make_vector_fixtures.sh), so each layer read must give the source's coordinates back.
 */
const FIX = join(REPO_ROOT, 'tests/fixtures/vectors');
const source = (name: string): FeatureCollection => JSON.parse(readFileSync(join(FIX, name), 'utf8')) as FeatureCollection;

/** Every position of a geometry, flattened in order (rings and parts in file order). */
function positions(g: Geometry | null): Position[] {
  if (!g) return [];
  switch (g.type) {
    case 'Point': return [g.coordinates];
    case 'MultiPoint': case 'LineString': return g.coordinates;
    case 'MultiLineString': case 'Polygon': return g.coordinates.flat();
    case 'MultiPolygon': return g.coordinates.flat(2);
    default: return g.geometries.flatMap(positions);
  }
}

function expectSameFeatures(read: readonly Feature[], src: readonly Feature[], tolerance: number): void {
  expect(read).toHaveLength(src.length);
  for (let i = 0; i < src.length; i++) {
    expect(read[i].geometry?.type).toBe(src[i].geometry?.type);
    const a = positions(read[i].geometry);
    const b = positions(src[i].geometry);
    expect(a).toHaveLength(b.length);
    for (let k = 0; k < b.length; k++) {
      expect(Math.abs(a[k][0] - b[k][0])).toBeLessThanOrEqual(tolerance);
      expect(Math.abs(a[k][1] - b[k][1])).toBeLessThanOrEqual(tolerance);
    }
  }
}

describe('GeoPackage, FlatGeobuf and KML readers (fixtures written by ogr2ogr)', () => {
  it('lists the layers of a GeoPackage with their feature counts and srs', async () => {
    const layers = await listGeoPackageLayers(join(FIX, 'survey.gpkg'));
    expect(layers.map((l) => l.name).sort()).toEqual(['deposits', 'faults', 'intrusions']);
    const count = (n: string): number | undefined => layers.find((l) => l.name === n)?.featureCount;
    expect(count('deposits')).toBe(source('points.geojson').features.length);
    expect(count('faults')).toBe(source('lines.geojson').features.length);
    expect(count('intrusions')).toBe(source('polygons.geojson').features.length);
    for (const l of layers) expect(l.srsName).toMatch(/EPSG:32645/);
  });

  it('reads points, lines and polygons (holes, multi-parts) of a GeoPackage: the GeoJSON coordinates back (GPKG stores doubles: ≤ 1e-9 m)', async () => {
    for (const [layer, file] of [['deposits', 'points.geojson'], ['faults', 'lines.geojson'], ['intrusions', 'polygons.geojson']] as const) {
      const v = await readVector(join(FIX, 'survey.gpkg'), { layer, layerFlag: '--layer' });
      expect(v.crs?.epsg, layer).toBe(32645);
      expectSameFeatures(v.features, source(file).features, 1e-9);
    }
  });

  it('a GeoPackage of several layers needs --layer: the error lists the layers', async () => {
    await expect(readVector(join(FIX, 'survey.gpkg'))).rejects.toThrow(/deposits.*faults.*intrusions|--layer/s);
  });

  it('reads a FlatGeobuf (≤ 1e-9 m) and a KML in WGS 84 (KML writes 7+ decimals: ≤ 1e-7°)', async () => {
    const fgb = await readVector(join(FIX, 'faults.fgb'));
    expect(fgb.crs?.epsg).toBe(32645);
    // ogr2ogr's FlatGeobuf has a spatial index, which stores features in Hilbert order: compare in one order.
    const byStart = (a: Feature, b: Feature): number => positions(a.geometry)[0][0] - positions(b.geometry)[0][0] || positions(a.geometry)[0][1] - positions(b.geometry)[0][1];
    expectSameFeatures([...fgb.features].sort(byStart), [...source('lines.geojson').features].sort(byStart), 1e-9);
    const kml = await readVector(join(FIX, 'showings.kml'));
    expect(kml.crs?.epsg).toBe(4326);
    expectSameFeatures(kml.features, source('lonlat.geojson').features, 1e-7);
  });

  it('writes a GeoPackage that ogrinfo validates (layer, geometry type, count, EPSG) and reads back exactly', async () => {
    const dir = tempDir('ga-gpkg-');
    const src = await readVector(join(FIX, 'points.geojson'));
    const out = join(dir, 'sites.gpkg');
    await writeGeoPackage(out, [{ name: 'sites', features: src.features, crs: src.crs }]);
    const info = execFileSync('ogrinfo', ['-al', '-so', out], { encoding: 'utf8' });
    expect(info).toMatch(/Layer name: sites/);
    expect(info).toMatch(new RegExp(`Feature Count: ${src.features.length}\\b`));
    expect(info).toMatch(/Geometry: (Point|Multi Point|Unknown)/);
    const epsg = execFileSync('gdalsrsinfo', ['-o', 'epsg', out], { encoding: 'utf8' });
    expect(epsg).toMatch(/EPSG:32645/);
    const back = await readVector(out);
    expectSameFeatures(back.features, src.features, 0);
  });
});

describe('strict GeoJSON geometries: a named error naming the file and the feature', () => {
  const cases: Array<[string, Geometry]> = [
    ['a LineString of one point', { type: 'LineString', coordinates: [[500000, 4600000]] }],
    ['a string coordinate', { type: 'Point', coordinates: ['500000', 4600000] as unknown as Position }],
    ['an unclosed polygon ring', { type: 'Polygon', coordinates: [[[0, 0], [10, 0], [10, 10], [0, 10]]] }],
  ];
  for (const [what, geometry] of cases) {
    it(what, async () => {
      const dir = tempDir('ga-badgeom-');
      const file = join(dir, 'bad.geojson');
      const ok: Feature = { type: 'Feature', properties: { id: 'ok' }, geometry: { type: 'Point', coordinates: [1, 2] } };
      writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', features: [ok, { type: 'Feature', properties: { id: 'F2' }, geometry }] }));
      const err = await readVector(file).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidGeometryError);
      expect((err as InvalidGeometryError).file).toBe(file);
      expect((err as InvalidGeometryError).feature).toBe(2);
      expect((err as Error).message).toContain(file);
    });
  }
});
