import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createHandlers } from '../../main/api/handlers.ts';
import type { RunRecord } from '../../main/api/contract.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { emptyProject } from '../../main/project/project-file.ts';
import { tempDir } from '../helpers/paths.ts';

/** The api hands readable names (main/util/display-names.ts) with layers and runs; the file-derived name stays. */
const dir = tempDir('ga-names-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readable names through the api', () => {
  it('importLayer returns displayName beside the timestamped name; openProject names the runs', async () => {
    const { handlers } = createHandlers({ dataDir: join(dir, 'data'), host: 'browser', emit: () => undefined, autosaveDelayMs: 60_000 });
    mkdirSync(join(dir, 'runs'), { recursive: true });
    const grid = { originX: 0, originY: 400, cellSizeX: 100, cellSizeY: 100, rows: 4, cols: 4, crs: crsFromEpsg(32645) };
    const band = new Float32Array(16).fill(0.5);
    const prob = join(dir, 'runs', 'predict-2026-12-03T07-12-00-000Z.tif');
    writeGeoTiff(prob, { grid, bandNames: ['p_gk-dcn', 'sd_gk-dcn'], bands: [band, band] });
    const kriged = join(dir, 'runs', 'krige-2026-12-03T07-11-05-966Z.tif');
    writeGeoTiff(kriged, { grid, bandNames: ['Au', 'Cu'], bands: [band, band] });
    const a = await handlers.importLayer({ kind: 'raster', path: prob });
    expect([a.name, a.displayName]).toEqual(['predict-2026-12-03T07-12-00-000Z', 'GK-DCN probability']);
    const b = await handlers.importLayer({ kind: 'raster', path: kriged });
    expect([b.name, b.displayName]).toEqual(['krige-2026-12-03T07-11-05-966Z', 'Kriged Au, Cu']);

    const run = (id: string, options: RunRecord['request']['options']): RunRecord => ({ id, kind: 'train', startedAt: '2026-12-03T07:00:00.000Z', finishedAt: '2026-12-03T07:01:00.000Z', request: { options }, outputs: [] });
    const path = join(dir, 'p.gaproj');
    await handlers.saveProject({ path, document: { ...emptyProject('names'), runs: [run('r1', { model: 'cnn', folds: '5', repeats: '1' }), { ...run('r2', { model: 'gk-dcn' }), displayName: 'Mine' }] } });
    const opened = await handlers.openProject({ path });
    expect(opened.document.runs.map((r) => r.displayName)).toEqual(['Training run 1: CNN (5-fold)', 'Mine']);
  });
});
