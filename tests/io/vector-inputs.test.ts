import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FeatureCollection, Position } from 'geojson';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../helpers/run-command.ts';
import { infoCommand } from '../../main/cli/commands/info.ts';
import { sitesCommand } from '../../main/cli/commands/sites.ts';
import { faultsCommand } from '../../main/cli/commands/faults.ts';
import { evaluateCommand } from '../../main/cli/commands/evaluate.ts';
import { layoutCommand } from '../../main/cli/commands/layout.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { readGeoTiff } from '../../main/io/geotiff-read.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { cellOf, type GridSpec } from '../../main/grid/grid-spec.ts';
import { EmptyInputError, InvalidOptionError } from '../../main/errors.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

/**
 * Vector inputs of the commands: --layer / --INPUT-layer for multi-layer GeoPackages (checked
 * against GDAL's ogrinfo and against the GeoJSON each layer was made from), and empty layers.
 */
const FIX = join(REPO_ROOT, 'tests/fixtures/vectors');
const SURVEY = join(FIX, 'survey.gpkg');

/** A 250 m grid in EPSG:32645 around the fixtures' coordinates (x 499000…507000, y 4599500…4610000). */
const GRID: GridSpec = { originX: 499000, originY: 4610000, cellSizeX: 250, cellSizeY: 250, rows: 42, cols: 32, crs: crsFromEpsg(32645) };

function gridFile(dir: string): string {
  const path = join(dir, 'grid.tif');
  writeGeoTiff(path, { grid: GRID, bandNames: ['Au'], bands: [Float32Array.from({ length: GRID.rows * GRID.cols }, (_, i) => i % 7)] });
  return path;
}

/** `ogrinfo -so FILE LAYER` (GDAL): geometry, feature count and the EPSG code of the layer SRS. */
function ogrLayerSummary(file: string, layer: string): { geometry: string; count: number; epsg: number | null } {
  const text = execFileSync('ogrinfo', ['-so', file, layer], { encoding: 'utf8' });
  const geometry = /^Geometry: (.+)$/m.exec(text)?.[1] ?? '';
  const count = Number(/^Feature Count: (\d+)$/m.exec(text)?.[1]);
  const ids = [...text.matchAll(/ID\["EPSG",(\d+)\]/g)];
  return { geometry, count, epsg: ids.length ? Number(ids[ids.length - 1][1]) : null };
}

/** ogrinfo's geometry wording → the GeoPackage geometry_type_name ("Line String" → LINESTRING, "Unknown (any)" → GEOMETRY). */
const ogrType = (g: string): string => (g === 'Unknown (any)' ? 'GEOMETRY' : g.replace(/\s+/g, '').toUpperCase());

describe('--layer: GeoPackages holding several layers', () => {
  it('info FILE.gpkg lists each layer with geometry type, feature count and CRS as ogrinfo -so reports them', async () => {
    const r = await runCommand(infoCommand, [SURVEY]);
    expect(r.code).toBe(0);
    const names = execFileSync('ogrinfo', ['-so', SURVEY], { encoding: 'utf8' }).match(/^\d+: (\S+)/gm)?.map((l) => l.replace(/^\d+: /, '')) ?? [];
    expect(names.sort()).toEqual(['deposits', 'faults', 'intrusions']);
    expect(r.out[0]).toMatch(/GeoPackage, 3 feature layer\(s\)/);
    for (const name of names) {
      const ogr = ogrLayerSummary(SURVEY, name);
      const row = r.out.find((l) => new RegExp(`^  ${name}\\s`).test(l));
      expect(row, name).toBeDefined();
      const [, type, count] = /^\s+\S+\s+(\S+)\s+(\d+)\s/.exec(row as string) ?? [];
      expect(type, name).toBe(ogrType(ogr.geometry));
      expect(Number(count), name).toBe(ogr.count);
      expect(row).toContain(`EPSG:${ogr.epsg}`);
    }
    expect(r.out.join('\n')).toMatch(/--layer NAME/);
    const one = await runCommand(infoCommand, [SURVEY, '--layer', 'faults']);
    expect(one.out.join('\n')).toMatch(/vector layer faults[\s\S]*features:\s+2 \(1 LineString, 1 MultiLineString\)/);
  });

  it('sites: a multi-layer GeoPackage without a layer flag is a named error listing the layers and the flag; with --layer it reads that layer', async () => {
    const dir = tempDir();
    const grid = gridFile(dir);
    const base = ['--deposits', SURVEY, '--grid', grid, '--negatives', 'none', '--out', join(dir, 'sites.geojson')];
    const e = await runCommand(sitesCommand, base).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect((e as Error).message).toContain(SURVEY);
    expect((e as Error).message).toMatch(/deposits \(GEOMETRY\), faults \(GEOMETRY\), intrusions \(GEOMETRY\)/);
    expect((e as Error).message).toMatch(/--deposits-layer NAME/);
    // The deposit cells expected: the GeoJSON source of the layer (points.geojson), placed on the grid here.
    const src = JSON.parse(readFileSync(join(FIX, 'points.geojson'), 'utf8')) as FeatureCollection;
    const pts: Position[] = src.features.flatMap((f) => (f.geometry.type === 'Point' ? [f.geometry.coordinates] : f.geometry.type === 'MultiPoint' ? f.geometry.coordinates : []));
    const cells = new Set(pts.map(([x, y]) => { const c = cellOf(GRID, x, y); return c.row * GRID.cols + c.col; }));
    for (const flags of [['--layer', 'deposits'], ['--deposits-layer', 'deposits']]) {
      const ok = await runCommand(sitesCommand, [...base, ...flags, '--block-radius', '0']);
      expect(ok.code).toBe(0);
      expect(ok.out[0]).toContain(`(${cells.size} deposit cells)`);
    }
  });

  it('faults: --faults-layer reads the fault layer of a GeoPackage; the distance raster equals the one from its GeoJSON source (exactly)', async () => {
    const dir = tempDir();
    const grid = gridFile(dir);
    const e = await runCommand(faultsCommand, ['--faults', SURVEY, '--grid', grid, '--k=-1', '--distance', join(dir, 'x.tif')]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect((e as Error).message).toMatch(/--faults-layer NAME/);
    await runCommand(faultsCommand, ['--faults', SURVEY, '--faults-layer', 'faults', '--deposits', SURVEY, '--deposits-layer', 'deposits', '--grid', grid, '--distance', join(dir, 'gpkg.tif')]);
    await runCommand(faultsCommand, ['--faults', join(FIX, 'lines.geojson'), '--deposits', join(FIX, 'points.geojson'), '--grid', grid, '--distance', join(dir, 'json.tif')]);
    const a = (await readGeoTiff(join(dir, 'gpkg.tif'))).bands[0];
    const b = (await readGeoTiff(join(dir, 'json.tif'))).bands[0];
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Math.max(...a)).toBeGreaterThan(0);
  });
});

describe('--layer on evaluate and layout', () => {
  it('evaluate: --deposits-layer gives the same evaluation as the layer\'s GeoJSON source; without it a named error', async () => {
    const dir = tempDir();
    const map = gridFile(dir);
    const e = await runCommand(evaluateCommand, ['--map', map, '--deposits', SURVEY, '--out', join(dir, 'x.json')]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidOptionError);
    expect((e as Error).message).toMatch(/--deposits-layer NAME/);
    await runCommand(evaluateCommand, ['--map', map, '--deposits', SURVEY, '--deposits-layer', 'deposits', '--ca-segments', '2', '--out', join(dir, 'gpkg.json')]);
    await runCommand(evaluateCommand, ['--map', map, '--deposits', join(FIX, 'points.geojson'), '--ca-segments', '2', '--out', join(dir, 'json.json')]);
    const a = JSON.parse(readFileSync(join(dir, 'gpkg.json'), 'utf8')) as { auc: number };
    const b = JSON.parse(readFileSync(join(dir, 'json.json'), 'utf8')) as { auc: number };
    expect(a.auc).toBe(b.auc);
    expect(Number.isFinite(a.auc)).toBe(true);
  });

  it('layout: a GeoPackage overlay needs --faults-layer (or --layer); with it the page is written', async () => {
    const dir = tempDir();
    const raster = gridFile(dir);
    const base = ['--raster', raster, '--faults', SURVEY, '--dpi', '36', '--out', join(dir, 'page.png')];
    await expect(runCommand(layoutCommand, base)).rejects.toThrow(/choose one with --faults-layer NAME/);
    const ok = await runCommand(layoutCommand, [...base, '--faults-layer', 'faults', '--deposits', SURVEY, '--deposits-layer', 'deposits']);
    expect(ok.out[0]).toMatch(/^wrote .*page\.png: PNG A4/);
  });
});

describe('empty layers', () => {
  it('a FeatureCollection with no features: sites refuses it naming the file and the fix; info says "0 features"', async () => {
    const dir = tempDir();
    const grid = gridFile(dir);
    const empty = join(dir, 'empty.geojson');
    writeFileSync(empty, JSON.stringify({ type: 'FeatureCollection', crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32645' } }, features: [] }));
    const e = await runCommand(sitesCommand, ['--deposits', empty, '--grid', grid, '--negatives', 'none', '--out', join(dir, 's.geojson')]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EmptyInputError);
    expect((e as Error).message).toContain(empty);
    expect((e as Error).message).toMatch(/0 features.*Export the layer again with its features/s);
    const i = await runCommand(infoCommand, [empty]);
    expect(i.code).toBe(0);
    expect(i.out.join('\n')).toMatch(/features:\s+0 features — the layer is empty/);
  });
});
