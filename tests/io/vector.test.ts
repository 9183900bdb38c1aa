import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readVector, layerPoints } from '../../main/io/vector.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { CrsError, EmptyInputError, InvalidFileError } from '../../main/errors.ts';
import { tempDir } from '../helpers/paths.ts';

const fc = {
  type: 'FeatureCollection',
  crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32645' } },
  features: [
    { type: 'Feature', properties: { id: 'F1', favourable: 1 }, geometry: { type: 'LineString', coordinates: [[500000, 4600000], [501000, 4601500], [502500, 4602000]] } },
    { type: 'Feature', properties: { id: 'D1', favourable: 0 }, geometry: { type: 'Point', coordinates: [500500, 4600700] } },
  ],
};

/** Shapefiles are made by GDAL's ogr2ogr from GeoJSON at test time: no binary fixtures committed. */
function makeShapefile(dir: string, name: string, geometry: 'LineString' | 'Point'): string {
  const src = join(dir, `${name}.geojson`);
  writeFileSync(src, JSON.stringify({ ...fc, features: fc.features.filter((f) => f.geometry.type === geometry) }));
  execFileSync('ogr2ogr', ['-f', 'ESRI Shapefile', join(dir, `${name}.shp`), src]);
  return join(dir, `${name}.shp`);
}

describe('vector layers', () => {
  it('reads GeoJSON with its declared CRS, keeping coordinates', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f.geojson'), JSON.stringify(fc));
    const l = await readVector(join(dir, 'f.geojson'));
    expect(l.crs?.epsg).toBe(32645);
    expect(l.features).toHaveLength(2);
    expect(layerPoints(l)).toEqual({ x: [500500], y: [4600700], feature: [1] });
  });

  it('reads a Shapefile written by ogr2ogr in its own CRS (.prj → EPSG), and the same zipped', async () => {
    const dir = tempDir();
    const shp = makeShapefile(dir, 'faults', 'LineString');
    const l = await readVector(shp);
    expect(l.crs?.epsg).toBe(32645);
    expect((l.features[0].geometry as { coordinates: unknown }).coordinates).toEqual(fc.features[0].geometry.coordinates);
    expect(l.features[0].properties?.id).toBe('F1');
    const files = readdirSync(dir).filter((f) => f.startsWith('faults.'));
    execFileSync('python3', ['-c', `import zipfile,sys\nz=zipfile.ZipFile(sys.argv[1],'w')\nfor f in sys.argv[2:]: z.write(f, f.split('/')[-1])`, join(dir, 'faults.zip'), ...files.filter((f) => !f.endsWith('.geojson')).map((f) => join(dir, f))]);
    const z = await readVector(join(dir, 'faults.zip'));
    expect((z.features[0].geometry as { coordinates: unknown }).coordinates).toEqual(fc.features[0].geometry.coordinates);
    expect(z.crs?.epsg).toBe(32645);
  });

  it('refuses a shapefile without .prj unless a CRS is declared', async () => {
    const dir = tempDir();
    const shp = makeShapefile(dir, 'pts', 'Point');
    rmSync(join(dir, 'pts.prj'));
    const err = await readVector(shp).catch((e) => e);
    expect(err).toBeInstanceOf(CrsError);
    expect(err.message).toMatch(/pts\.shp: the shapefile has no \.prj.*declare the CRS/);
    const ok = await readVector(shp, { assumeCrs: crsFromEpsg(32645) });
    expect(ok.features).toHaveLength(1);
  });

  it('reprojects on request and names bad or empty files', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f.geojson'), JSON.stringify(fc));
    const l = await readVector(join(dir, 'f.geojson'), { targetCrs: crsFromEpsg(4326) });
    const p = l.features[1].geometry as { coordinates: number[] };
    expect(p.coordinates[0]).toBeGreaterThan(80);
    expect(p.coordinates[0]).toBeLessThan(90);
    writeFileSync(join(dir, 'empty.geojson'), JSON.stringify({ type: 'FeatureCollection', features: [] }));
    await expect(readVector(join(dir, 'empty.geojson'))).rejects.toThrow(EmptyInputError);
    writeFileSync(join(dir, 'broken.geojson'), '{"type": "FeatureCollection", "features": [');
    await expect(readVector(join(dir, 'broken.geojson'))).rejects.toThrow(InvalidFileError);
    writeFileSync(join(dir, 'noprj.geojson'), JSON.stringify({ ...fc, crs: undefined }));
    await expect(readVector(join(dir, 'noprj.geojson'), { targetCrs: crsFromEpsg(4326) })).rejects.toThrow(/declares no CRS/);
    writeFileSync(join(dir, 'junk.zip'), 'not a zip');
    await expect(readVector(join(dir, 'junk.zip'))).rejects.toThrow(InvalidFileError);
  });
});
