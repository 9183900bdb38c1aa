import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createHandlers, dispatch } from '../../main/api/handlers.ts';
import { readCube } from '../../main/xrf/cube-import.ts';
import { REPO_ROOT, tempDir } from '../helpers/paths.ts';
import { sharedData } from '../helpers/shared-data.ts';

/**
 * Issue 19: the app's backend reads user files on its event loop, so the readers it calls use
 * fs/promises (never readFileSync), and every format's path is checked first: a FIFO (which
 * would block a read forever) or /dev/zero (which would fill memory) gets NotARegularFileError,
 * within a deadline, and the next request is answered.
 */
const dir = tempDir('ga-async-reads-');
const { handlers, jobs, autosaver } = createHandlers({ dataDir: join(dir, 'data'), host: 'browser', emit: () => undefined, autosaveDelayMs: 60_000 });
afterAll(() => {
  autosaver.dispose();
  jobs.cancelAll();
  rmSync(dir, { recursive: true, force: true });
});

/** A request, or 'blocked' if it has not answered within `ms` (a FIFO read would never answer). */
async function within(ms: number, name: string, params: Record<string, unknown>): Promise<Awaited<ReturnType<typeof dispatch>> | 'blocked'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'blocked'>((res) => (timer = setTimeout(() => res('blocked'), ms)));
  try {
    return await Promise.race([dispatch(handlers, name, params), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

describe('user-file reads of the app backend', () => {
  it('the readers the API calls read with fs/promises, not readFileSync', () => {
    for (const f of ['main/io/table.ts', 'main/io/vector.ts', 'main/io/geopackage-read.ts', 'main/io/flatgeobuf.ts', 'main/io/kml.ts', 'main/io/geotiff-read.ts', 'main/xrf/cube-import.ts']) {
      expect(readFileSync(join(REPO_ROOT, f), 'utf8'), f).not.toMatch(/readFileSync\(/);
    }
  });

  it('reads a MAT v5 cube asynchronously with the same values (HYDICE, 100×80×162)', async () => {
    const c = await readCube(sharedData('hyperspectral/HYDICE_data.mat'));
    expect([c.rows, c.cols, c.bandCount]).toEqual([100, 80, 162]);
    expect(c.truth?.reduce((a, v) => a + v, 0)).toBeGreaterThan(0);
  });

  const fifos = ['layer.gpkg', 'layer.kml', 'layer.fgb', 'layer.zip', 'layer.shp', 'cube.mat', 'cube.csv', 'cube.hdr'];
  execFileSync('mkfifo', fifos.map((f) => join(dir, f)));
  symlinkSync('/dev/zero', join(dir, 'zero.mat'));
  symlinkSync('/dev/zero', join(dir, 'zero.gpkg'));
  const cases: { name: string; request: string; params: Record<string, unknown> }[] = [
    ...['layer.gpkg', 'layer.kml', 'layer.fgb', 'layer.zip', 'layer.shp', 'zero.gpkg'].map((f) => ({ name: `importLayer (vector) ${f}`, request: 'importLayer', params: { kind: 'vector', path: join(dir, f) } })),
    ...['cube.mat', 'cube.csv', 'cube.hdr', 'zero.mat'].map((f) => ({ name: `xrfCubeInfo ${f}`, request: 'xrfCubeInfo', params: { path: join(dir, f) } })),
  ];
  for (const c of cases) {
    it(`${c.name} (FIFO or /dev/zero) → NotARegularFileError, and the next request is answered`, async () => {
      const r = await within(10_000, c.request, c.params);
      expect(r).not.toBe('blocked');
      expect(r).toMatchObject({ ok: false, error: { name: 'NotARegularFileError' } });
      expect(await within(10_000, 'listJobs', {})).toMatchObject({ ok: true });
    });
  }
});
