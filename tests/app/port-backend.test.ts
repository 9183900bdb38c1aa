import { describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { serveOverPort, type PortReply } from '../../main/api/port-backend.ts';
import { writeGeoTiff } from '../../main/io/geotiff-write.ts';
import { crsFromEpsg } from '../../main/grid/crs.ts';
import { emptyProject } from '../../main/project/project-file.ts';
import { tempDir } from '../helpers/paths.ts';

/**
 * The Electron utility-process backend, driven through a real MessagePort (structured clone,
 * like Electron's parentPort) instead of Electron itself.
 */
describe('backend over a message port', () => {
  it('answers requests with typed arrays intact and flushes the autosave on shutdown', async () => {
    const dir = tempDir('ga-port-');
    const { port1, port2 } = new MessageChannel();
    let shutDown = false;
    serveOverPort({ on: (_e, l) => port2.on('message', (data) => l({ data })), postMessage: (m) => port2.postMessage(m) }, { dataDir: dir, host: 'electron', autosaveDelayMs: 60_000 }, () => (shutDown = true));
    const replies = new Map<number, PortReply>();
    port1.on('message', (m: PortReply) => m.t === 'res' && replies.set(m.id, m));
    const call = async (id: number, name: string, params: unknown): Promise<PortReply> => {
      port1.postMessage({ t: 'req', id, name, params });
      while (!replies.has(id)) await new Promise((r) => setTimeout(r, 5));
      return replies.get(id) as PortReply;
    };
    const tif = join(dir, 'a.tif');
    const values = new Float32Array([0.5, NaN, 2.25, -1]);
    writeGeoTiff(tif, { grid: { originX: 0, originY: 20, cellSizeX: 10, cellSizeY: 10, rows: 2, cols: 2, crs: crsFromEpsg(32645) }, bandNames: ['Au'], bands: [values] });
    const r = await call(1, 'getRasterBand', { source: tif, band: 'Au' });
    if (r.t !== 'res' || !r.reply.ok) throw new Error(JSON.stringify(r));
    const band = r.reply.result as { values: Float32Array };
    expect(band.values).toBeInstanceOf(Float32Array);
    expect(Array.from(band.values)).toEqual(Array.from(values));
    const bad = await call(2, 'getRasterBand', { source: tif, band: 'Cu' });
    expect(bad).toMatchObject({ t: 'res', reply: { ok: false, error: { name: 'InvalidOptionError', details: { band: 'Cu' } } } });
    const project = join(dir, 'p.gaproj');
    await call(3, 'autosaveProject', { path: project, document: emptyProject('pending') });
    expect(existsSync(join(dir, 'p.autosave.gaproj'))).toBe(false);
    port1.postMessage({ t: 'shutdown' });
    while (!shutDown) await new Promise((r) => setTimeout(r, 5));
    expect(existsSync(join(dir, 'p.autosave.gaproj'))).toBe(true);
    port1.close();
  });
});
