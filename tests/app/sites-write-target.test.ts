import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { writeSiteCentres } from '../../main/api/site-requests.ts';
import { createHandlers, dispatch } from '../../main/api/handlers.ts';
import { tempDir } from '../helpers/paths.ts';

/** writeSites (issue 19): only GeoJSON extensions, never over a file the user did not choose. */
const work = tempDir('ga-sites-target-');
afterAll(() => rmSync(work, { recursive: true, force: true }));
const grid = { originX: 500000, originY: 4600000, cellSizeX: 100, cellSizeY: 100, rows: 20, cols: 30, crs: crsFromEpsg(32645) };
const gridFile = join(work, 'grid.tif');
writeGeoTiff(gridFile, { grid, bandNames: ['b'], bands: [new Float32Array(grid.rows * grid.cols).fill(1)] });
const centres = [{ id: 'U1', x: grid.originX + 550, y: grid.originY - 550, label: 1 as const, source: 'user' as const }];

describe('writeSites target rules (main/api/sites-write-target.ts)', () => {
  it('refuses extensions other than .geojson / .json, writing nothing', async () => {
    for (const name of ['sites.shp', 'sites.gpkg', 'notes.txt', 'passwd', 'sites.tif']) {
      await expect(writeSiteCentres(join(work, name), gridFile, centres)).rejects.toMatchObject({ name: 'SitesWriteRefusedError', details: { problem: 'extension' } });
    }
  });

  it('writes a new file, and replaces its own sites file again (project / run sites path)', async () => {
    const p = join(work, 'survey.sites.geojson');
    await writeSiteCentres(p, gridFile, centres);
    const moved = [{ ...centres[0], x: centres[0].x + 1000 }];
    const w = await writeSiteCentres(p, gridFile, moved);
    expect(w.cells).toBe(9);
    expect(readFileSync(p, 'utf8')).toContain('"siteId"');
  });

  it('never replaces another existing file unless the user confirmed it (replace: true)', async () => {
    const other = join(work, 'deposits.geojson');
    const original = JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: { name: 'Au-1' }, geometry: { type: 'Point', coordinates: [0, 0] } }] });
    writeFileSync(other, original);
    await expect(writeSiteCentres(other, gridFile, centres)).rejects.toMatchObject({ name: 'SitesWriteRefusedError', details: { problem: 'would-replace-other-file' } });
    expect(readFileSync(other, 'utf8')).toBe(original);
    const notJson = join(work, 'config.json');
    writeFileSync(notJson, '{"a": 1}');
    await expect(writeSiteCentres(notJson, gridFile, centres)).rejects.toMatchObject({ details: { problem: 'would-replace-other-file' } });
    await writeSiteCentres(other, gridFile, centres, 1, true);
    expect(readFileSync(other, 'utf8')).toContain('"siteId"');
  });

  it('refuses a folder and a link to a device even with replace', async () => {
    mkdirSync(join(work, 'folder.geojson'));
    await expect(writeSiteCentres(join(work, 'folder.geojson'), gridFile, centres, 1, true)).rejects.toMatchObject({ details: { problem: 'not-a-regular-file' } });
    symlinkSync('/dev/null', join(work, 'null.geojson'));
    await expect(writeSiteCentres(join(work, 'null.geojson'), gridFile, centres, 1, true)).rejects.toMatchObject({ details: { problem: 'not-a-regular-file' } });
  });

  it('crosses the contract as a named error with the file and the fix', async () => {
    const { handlers, jobs, autosaver } = createHandlers({ dataDir: join(work, 'data'), host: 'browser', emit: () => undefined, autosaveDelayMs: 60_000 });
    const r = await dispatch(handlers, 'writeSites', { path: join(work, 'x.shp'), gridSource: gridFile, sites: centres });
    expect(r).toMatchObject({ ok: false, error: { name: 'SitesWriteRefusedError', details: { file: join(work, 'x.shp') } } });
    expect((r as { error: { message: string } }).error.message).toMatch(/Save as NAME\.geojson/);
    autosaver.dispose();
    jobs.cancelAll();
  });
});
