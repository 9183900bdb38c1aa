import { describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gdalinfo, gdalStats } from '../helpers/gdal.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';

/**
 * Issue 16's end-to-end run on the EPSG:3067 (ETRS-TM35FIN) set made by GDAL: a GDAL GeoTIFF
 * grid, ESRI-.prj shapefiles of faults and deposits, a lon/lat (EPSG:4326) sample table and lon/lat
 * deposits that are reprojected on the fly. info → krige → faults → sites → train (2 epochs) →
 * predict → layout through the real CLI; every raster and the sites file are EPSG:3067 to GDAL.
 */
const SET = join(REPO_ROOT, 'tests/fixtures/crs/sets/3067');
const LONLAT_DEPOSITS = join(REPO_ROOT, 'tests/fixtures/crs/src/3067-points-lonlat.geojson');

async function geoanomaly(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  // Asynchronous, as tests/cli/demo-pipeline.test.ts: a synchronous child would block vitest's worker.
  return promisify(execFile)(process.execPath, [join(REPO_ROOT, 'main/cli/bin.mjs'), ...args], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }).catch(
    (e: { code?: number; stderr?: string }) => {
      throw new Error(`geoanomaly ${args[0]} exited ${e.code}: ${String(e.stderr).slice(-2000)}`);
    },
  );
}

const gdalEpsgOf = (path: string): string => execFileSync('gdalsrsinfo', ['-o', 'epsg', path], { encoding: 'utf8' }).trim().split('\n').pop()!.trim();

describe('EPSG:3067 end to end', () => {
  it('info → krige (lon/lat table) → faults → sites → train → predict → layout', async () => {
    const out = tempDir('ga-crs-e2e-');
    for (const f of ['grid.tif', 'points.shp', 'lines.shp']) {
      expect((await geoanomaly('info', join(SET, f))).stdout).toMatch(/CRS:\s+ETRS89 \/ TM35FIN\(E,N\) \(EPSG:3067\)/);
    }
    const stack = join(out, 'stack.tif');
    const k = await geoanomaly('krige', '--samples', join(SET, 'samples-lonlat.csv'), '--x', 'lon', '--y', 'lat', '--crs', 'EPSG:4326', '--like', join(SET, 'grid.tif'), '--fields', 'Cu,Zn', '--out', stack);
    expect(k.stderr).toContain('krige: reprojected samples-lonlat.csv from EPSG:4326 to EPSG:3067 (60 points)');
    expect(gdalEpsgOf(stack)).toBe('EPSG:3067');
    // The --like grid's geotransform, exactly (GDAL's reading of both files).
    expect(gdalinfo(stack).geoTransform).toEqual(gdalinfo(join(SET, 'grid.tif')).geoTransform);

    const f = await geoanomaly('faults', '--faults', join(SET, 'lines.shp'), '--grid', stack, '--deposits', LONLAT_DEPOSITS, '--weight', join(out, 'w.tif'), '--report', join(out, 'powerlaw.json'));
    expect(f.stderr).toContain('faults: reprojected 3067-points-lonlat.geojson from EPSG:4326 to EPSG:3067 (10 features)');
    const law = JSON.parse(readFileSync(join(out, 'powerlaw.json'), 'utf8')) as { k: number; depositCells: number };
    expect(law.depositCells).toBe(10);
    expect(Number.isFinite(law.k)).toBe(true);
    expect(gdalEpsgOf(join(out, 'w.tif'))).toBe('EPSG:3067');

    const sites = join(out, 'sites.geojson');
    await geoanomaly('sites', '--deposits', join(SET, 'points.shp'), '--grid', stack, '--faults', join(SET, 'lines.shp'), '--min-deposit-dist', '1000', '--min-fault-dist', '0', '--out', sites);
    expect(gdalEpsgOf(sites)).toBe('EPSG:3067');

    const run = join(out, 'run');
    await geoanomaly('train', '--stack', stack, '--sites', sites, '--model', 'cnn', '--epochs', '2', '--folds', '2', '--patch-size', '5', '--seed', '1', '--out', run);
    expect(existsSync(join(run, 'metrics.json'))).toBe(true);

    const prob = join(out, 'prob.tif');
    await geoanomaly('predict', '--run', run, '--stack', stack, '--out', prob, '--threads', '1');
    const info = gdalinfo(prob);
    expect(gdalEpsgOf(prob)).toBe('EPSG:3067');
    expect(info.bands[0].description).toBe('p_cnn');
    const s = gdalStats(info.bands[0]);
    expect(s.min).toBeGreaterThanOrEqual(0);
    expect(s.max).toBeLessThanOrEqual(1);

    const page = join(out, 'page.png');
    const l = await geoanomaly('layout', '--raster', prob, '--deposits', LONLAT_DEPOSITS, '--faults', join(SET, 'lines.shp'), '--sites', sites, '--dpi', '72', '--out', page);
    expect(l.stderr).toContain('reprojected 3067-points-lonlat.geojson from EPSG:4326 to EPSG:3067 (10 features)');
    // PNG signature and IHDR size: A4 landscape at 72 DPI.
    const png = readFileSync(page);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([842, 595]);
  }, 600_000);
});
