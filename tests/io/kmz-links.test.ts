import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FeatureCollection, Geometry, Position } from 'geojson';
import { describe, expect, it } from 'vitest';
import { readVector } from '../../main/io/vector.ts';
import { InvalidFileError } from '../../main/errors.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

/**
 * KMZ whose doc.kml links (NetworkLink/Link/href) to other KML documents inside the archive.
 * showings.kmz is GDAL's own LIBKML output (doc.kml → layers/showings.kml); linked.kmz nests
 * relative links and a loop (make_vector_fixtures.sh). Both must give lonlat.geojson back.
 */
const FIX = join(REPO_ROOT, 'tests/fixtures/vectors');
const source = JSON.parse(readFileSync(join(FIX, 'lonlat.geojson'), 'utf8')) as FeatureCollection;

function positions(g: Geometry): Position[] {
  switch (g.type) {
    case 'Point': return [g.coordinates];
    case 'MultiPoint': case 'LineString': return g.coordinates;
    case 'MultiLineString': case 'Polygon': return g.coordinates.flat();
    case 'MultiPolygon': return g.coordinates.flat(2);
    default: return g.geometries.flatMap(positions);
  }
}

describe('KMZ NetworkLinks inside the archive', () => {
  for (const name of ['showings.kmz', 'linked.kmz']) {
    it(`${name}: the linked documents are read; features, names and coordinates equal lonlat.geojson (KML writes 7+ decimals: ≤ 1e-7°)`, async () => {
      const v = await readVector(join(FIX, name));
      expect(v.crs?.epsg).toBe(4326);
      expect(v.features.map((f) => f.properties?.name)).toEqual(source.features.map((f) => f.properties?.name));
      v.features.forEach((f, i) => {
        expect(f.geometry.type).toBe(source.features[i].geometry.type);
        const a = positions(f.geometry);
        const b = positions(source.features[i].geometry);
        expect(a).toHaveLength(b.length);
        a.forEach((p, k) => {
          expect(Math.abs(p[0] - b[k][0])).toBeLessThanOrEqual(1e-7);
          expect(Math.abs(p[1] - b[k][1])).toBeLessThanOrEqual(1e-7);
        });
      });
    });
  }

  it('a link outside the archive (http://) is a named error naming the link; so is a plain KML with a NetworkLink', async () => {
    const e = await readVector(join(FIX, 'remote-link.kmz')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidFileError);
    expect((e as Error).message).toMatch(/doc\.kml links to "http:\/\/example\.org\/live\/showings\.kml".*Download the linked layer/s);
    const kml = join(tempDir(), 'links.kml');
    writeFileSync(kml, '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document><NetworkLink><Link><href>other.kml</href></Link></NetworkLink></Document></kml>');
    await expect(readVector(kml)).rejects.toThrow(/links to "other\.kml" \(NetworkLink\)/);
  });
});
