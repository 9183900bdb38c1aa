import { describe, expect, it, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../main/cli/main.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import type { GridSpec } from '../../main/grid/grid-spec.ts';
import { readGeoTiffInfo } from '../../main/io/geotiff-read.ts';
import { writeJsonAtomic } from '../../main/util/atomic-write.ts';
import { InvalidFileError } from '../../main/errors.ts';
import { buildSites } from '../../main/sites/build-sites.ts';
import { readSitesGeoJson, sitesFromFeatures, writeSitesGeoJson } from '../../main/sites/sites-geojson.ts';
import { SiteConflictError, SitesOutsideGridError } from '../../main/sites/site-errors.ts';
import { pointSegmentDistanceSq } from '../../main/faults/segment-index.ts';
import { tempDir } from '../helpers/paths.ts';
import { tianshan } from '../helpers/shared-data.ts';

const grid: GridSpec = { originX: 500_000, originY: 4_600_000, cellSizeX: 1000, cellSizeY: 1000, rows: 30, cols: 40, crs: crsFromEpsg(32645) };

function capture(): { err: () => string; out: () => string; restore: () => void } {
  const e: string[] = [];
  const o: string[] = [];
  const se = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (e.push(String(s)), true));
  const so = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (o.push(String(s)), true));
  return { err: () => e.join(''), out: () => o.join(''), restore: () => (se.mockRestore(), so.mockRestore()) };
}

describe('sites GeoJSON', () => {
  it('round-trips every property; GDAL reads the points and the CRS', async () => {
    const dir = tempDir();
    const { set } = buildSites(grid, { depositCells: [5 * 40 + 5, 6 * 40 + 6], negatives: { kind: 'auto', seed: 4 } });
    const path = join(dir, 'sites.geojson');
    writeSitesGeoJson(path, set);
    const back = await readSitesGeoJson(path, grid);
    expect(back.sites).toEqual(set.sites);
    const info = execFileSync('ogrinfo', ['-so', '-al', path], { encoding: 'utf8' });
    expect(info).toMatch(new RegExp(`Feature Count: ${set.sites.length}`));
    expect(info).toMatch(/ID\["EPSG",32645\]/);
    expect(info).toMatch(/siteId: String/);
  });

  it('names the feature for a bad label, a non-point, a point outside and two sites in one cell', () => {
    const pt = (x: number, y: number, props: Record<string, unknown>) => ({ type: 'Feature' as const, properties: props, geometry: { type: 'Point' as const, coordinates: [x, y] } });
    expect(() => sitesFromFeatures(grid, [pt(500_500, 4_599_500, { label: 2 })], 's.geojson')).toThrow(InvalidFileError);
    expect(() => sitesFromFeatures(grid, [pt(500_500, 4_599_500, { label: 2 })], 's.geojson')).toThrow(/feature 1 has label 2/);
    expect(() => sitesFromFeatures(grid, [{ type: 'Feature', properties: { label: 1 }, geometry: { type: 'LineString', coordinates: [[0, 0], [1, 1]] } }])).toThrow(/not a Point/);
    expect(() => sitesFromFeatures(grid, [pt(500_500, 4_599_500, { label: 1 }), pt(0, 0, { label: 0 })], 's.geojson')).toThrow(SitesOutsideGridError);
    expect(() => sitesFromFeatures(grid, [pt(500_500, 4_599_500, { label: 1 }), pt(500_600, 4_599_400, { label: 0 })], 's.geojson')).toThrow(SiteConflictError);
    const s = sitesFromFeatures(grid, [pt(500_500, 4_599_500, { label: '1' }), pt(503_500, 4_590_500, { label: 0, siteId: 7, source: 'auto' })]);
    expect(s.sites.map((x) => [x.row, x.col, x.label, x.siteId, x.groupId, x.source])).toEqual([[0, 0, 1, 'F1', 'F1', 'user'], [9, 3, 0, '7', '7', 'auto']]);
  });
});

describe('geoanomaly sites', () => {
  it('case study: 84 positives and 90 negatives with --align-by-index 0,0 and --negative-value 0', async () => {
    const dir = tempDir();
    const out = join(dir, 'sites.geojson');
    const args = ['sites', '--deposits', tianshan('label/Au_deposits0.tif'), '--grid', tianshan('elements/Au.tif'),
      '--negatives', tianshan('label/non_deposits.tif'), '--negative-value', '0', '--out', out];
    let io = capture();
    let code = await main(args);
    io.restore();
    expect(code).toBe(1);
    expect(io.err()).toMatch(/GridMismatchError: .*Au_deposits0\.tif is not aligned with the reference grid/);
    io = capture();
    code = await main([...args, '--align-by-index', '0,0']);
    io.restore();
    expect(code, io.err()).toBe(0);
    expect(io.err()).toMatch(/paired by index \(0,0\) although origin differs/);
    expect(io.out()).toMatch(/84 positives in 10 blocks \(10 deposit cells\), 90 negatives in 10 blocks/);
    const g = (await readGeoTiffInfo(tianshan('elements/Au.tif'))).grid;
    const set = await readSitesGeoJson(out, g);
    expect(set.sites.filter((s) => s.label === 1).length).toBe(84);
    expect(set.sites.filter((s) => s.label === 0).length).toBe(90);
    expect(set.sites.filter((s) => s.label === 0).every((s) => s.source === 'user')).toBe(true);
    expect(JSON.parse(readFileSync(out, 'utf8')).crs.properties.name).toBe('urn:ogc:def:crs:EPSG::32645');
  });

  it('automatic negatives with faults: seeded (same seed → same file), as many blocks as deposits', async () => {
    const dir = tempDir();
    const faults = join(dir, 'faults.geojson');
    writeJsonAtomic(faults, {
      type: 'FeatureCollection',
      crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32645' } },
      features: [{ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[565_321, 4_560_000], [700_000, 4_600_000]] } }],
    });
    const base = ['sites', '--deposits', tianshan('label/Au_deposits0.tif'), '--grid', tianshan('elements/Au.tif'),
      '--align-by-index', '0,0', '--faults', faults, '--min-fault-dist', '3000', '--min-deposit-dist', '15000', '--seed', '5'];
    const io = capture();
    const a = await main([...base, '--out', join(dir, 'a.geojson')]);
    const b = await main([...base, '--out', join(dir, 'b.geojson')]);
    const c = await main([...base.slice(0, -1), '6', '--out', join(dir, 'c.geojson')]);
    io.restore();
    expect([a, b, c]).toEqual([0, 0, 0]);
    const fa = readFileSync(join(dir, 'a.geojson'), 'utf8');
    expect(readFileSync(join(dir, 'b.geojson'), 'utf8')).toBe(fa);
    expect(readFileSync(join(dir, 'c.geojson'), 'utf8')).not.toBe(fa);
    const feats = JSON.parse(fa).features as { geometry: { coordinates: [number, number] }; properties: { label: number; source: string; centre: boolean } }[];
    const negCentres = feats.filter((f) => f.properties.label === 0 && f.properties.centre).map((f) => f.geometry.coordinates);
    const depCentres = feats.filter((f) => f.properties.label === 1 && f.properties.centre).map((f) => f.geometry.coordinates);
    expect(negCentres.length).toBe(10);
    expect(depCentres.length).toBe(10);
    // Rules checked independently at the centres: brute-force distances to the fault and the deposits.
    for (const [x, y] of negCentres) {
      expect(Math.sqrt(pointSegmentDistanceSq(x, y, 565_321, 4_560_000, 700_000, 4_600_000))).toBeGreaterThanOrEqual(3000);
      for (const [dx, dy] of depCentres) expect(Math.hypot(x - dx, y - dy)).toBeGreaterThanOrEqual(15000);
    }
    expect(feats.filter((f) => f.properties.label === 0).every((f) => f.properties.source === 'auto')).toBe(true);
  });
});
