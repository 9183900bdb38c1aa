import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/paths.ts';
import { MAX_WS_PAYLOAD_BYTES } from '../../main/api/browser-host.ts';
import { closeCodeOf, ContractClient, frame, rawHandshake, startServe, type ServeProcess } from './server-survival.ts';

/**
 * Issue 19: one malformed frame or one bad file must cost only that request. A real
 * `geoanomaly serve` process runs a kriging job while every bad input below is thrown at it;
 * after each one the process still answers a normal request, and at the end the job finishes.
 */

const root = tempDir('ga-survive-');
const staticDir = join(root, 'dist');
let serve: ServeProcess;
let client: ContractClient;
let jobId: string;

beforeAll(async () => {
  mkdirSync(staticDir);
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>t</title>');
  serve = await startServe(staticDir, join(root, 'data'));
  client = await ContractClient.open(serve);
  const demo = (await client.call('openDemoProject', {}, 120_000)) as { ok: true; result: { document: { layers: { source: string }[] } } };
  expect(demo.ok).toBe(true);
  const samples = demo.result.document.layers[2].source;
  // A job of several seconds (every element, 1 km cells), so the bad inputs arrive while it runs.
  const r = (await client.call('krige', { options: { samples, x: 'x', y: 'y', crs: 'EPSG:32645', fields: 'all', cell: 1000, nmax: 16, threads: 1, out: join(root, 'beside.tif') } })) as { ok: boolean; result: { jobId: string } };
  expect(r.ok).toBe(true);
  jobId = r.result.jobId;
}, 180_000);

afterAll(async () => {
  client?.close();
  await serve?.stop();
});

/** The server is alive and answering on a fresh connection. */
async function stillServing(): Promise<void> {
  expect(serve.exited(), serve.log()).toBe(false);
  const c = await ContractClient.open(serve);
  const info = await c.call('getAppInfo', {}, 15_000);
  c.close();
  expect(info.ok).toBe(true);
}

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('malformed WebSocket frames close only their own connection, with the RFC 6455 code', () => {
  const cases: { name: string; data: () => Buffer; code: number }[] = [
    { name: 'an unmasked client frame', data: () => frame({ opcode: 2, payload: bytes('hello'), masked: false }), code: 1002 },
    { name: 'RSV1 set without a negotiated extension', data: () => frame({ opcode: 2, payload: bytes('hello'), rsv1: true }), code: 1002 },
    { name: 'a reserved opcode (0x3)', data: () => frame({ opcode: 3, payload: bytes('hello') }), code: 1002 },
    { name: 'a declared length above maxPayload', data: () => frame({ opcode: 2, payload: Buffer.alloc(0), declaredLength: BigInt(MAX_WS_PAYLOAD_BYTES) + 1n }), code: 1009 },
    { name: 'invalid UTF-8 in a text frame', data: () => frame({ opcode: 1, payload: Buffer.from([0x48, 0xc3, 0x28, 0xff]) }), code: 1007 },
  ];
  for (const c of cases) {
    it(`${c.name} → close ${c.code}, the server keeps serving`, async () => {
      const raw = await rawHandshake(serve);
      raw.socket.write(c.data());
      await Promise.race([raw.ended, new Promise((r) => setTimeout(r, 5000))]);
      raw.socket.destroy();
      expect(closeCodeOf(raw.received())).toBe(c.code);
      await stillServing();
    });
  }

  it('logs each refused connection without the token', () => {
    const log = serve.log();
    expect(log).toMatch(/WebSocket 127\.0\.0\.1:\d+ closed with 1002/);
    expect(log).toMatch(/closed with 1007/);
    expect(log).toMatch(/closed with 1009/);
    const afterUrl = log.slice(log.indexOf('data folder'));
    expect(afterUrl).not.toContain(serve.token);
  });

  it('a connection reset in the middle of the handshake costs nothing', async () => {
    const { connect } = await import('node:net');
    const s = connect(serve.port, '127.0.0.1');
    await new Promise((r) => s.on('connect', r));
    s.write(`GET /ws?token=${serve.token} HTTP/1.1\r\nHost: 127.0.0.1:${serve.port}\r\nUpgrade: websocket\r\n`);
    s.resetAndDestroy();
    await stillServing();
  });
});

describe('bad files get a named error and never block or bloat the server', () => {
  const dir = join(root, 'bad');
  beforeAll(() => {
    mkdirSync(dir);
    symlinkSync('/dev/zero', join(dir, 'zero.csv'));
    symlinkSync('/dev/zero', join(dir, 'zero.json'));
    symlinkSync('/dev/zero', join(dir, 'zero.tif'));
    execFileSync('mkfifo', [join(dir, 'fifo.csv'), join(dir, 'fifo.tif'), join(dir, 'fifo.geojson')]);
    // Sparse files: their size is real to stat() but they take no disk space.
    writeFileSync(join(dir, 'huge.tif'), '');
    truncateSync(join(dir, 'huge.tif'), 3 * 1024 ** 3);
    writeFileSync(join(dir, 'huge.csv'), '');
    truncateSync(join(dir, 'huge.csv'), 600 * 1024 ** 2);
    mkdirSync(join(dir, 'stack'));
    symlinkSync('/dev/zero', join(dir, 'stack', 'band.tif'));
  });

  const tif = (n: string): string => join(dir, n);
  const cases: { name: string; request: string; params: () => unknown; error: string; mentions?: RegExp }[] = [
    { name: 'getRasterBand on /dev/zero', request: 'getRasterBand', params: () => ({ source: '/dev/zero', band: 'b' }), error: 'NotARegularFileError', mentions: /character device/ },
    { name: 'importLayer (raster) on /dev/zero', request: 'importLayer', params: () => ({ kind: 'raster', path: '/dev/zero' }), error: 'NotARegularFileError' },
    { name: 'importLayer (vector) on /dev/zero', request: 'importLayer', params: () => ({ kind: 'vector', path: '/dev/zero' }), error: 'NotARegularFileError' },
    { name: 'importLayer (samples) on a .csv symlinked to /dev/zero', request: 'importLayer', params: () => ({ kind: 'samples', path: tif('zero.csv'), table: { x: 'x', y: 'y', crs: 'EPSG:32645' } }), error: 'NotARegularFileError' },
    { name: 'previewTable on a .csv symlinked to /dev/zero', request: 'previewTable', params: () => ({ path: tif('zero.csv') }), error: 'NotARegularFileError' },
    { name: 'previewTable on a FIFO', request: 'previewTable', params: () => ({ path: tif('fifo.csv') }), error: 'NotARegularFileError', mentions: /named pipe/ },
    { name: 'getRasterBand on a FIFO', request: 'getRasterBand', params: () => ({ source: tif('fifo.tif'), band: 'b' }), error: 'NotARegularFileError' },
    { name: 'getRasterBand on a folder stack holding a link to /dev/zero', request: 'getRasterBand', params: () => ({ source: tif('stack'), band: 'b' }), error: 'NotARegularFileError', mentions: /band\.tif/ },
    { name: 'getRasterBand on a 3 GiB file', request: 'getRasterBand', params: () => ({ source: tif('huge.tif'), band: 'b' }), error: 'FileTooLargeError', mentions: /huge\.tif: 3\.0 GiB \(3221225472 bytes\) is more than the 2\.0 GiB \(2146435072 bytes\)/ },
    { name: 'previewTable on a 600 MiB table', request: 'previewTable', params: () => ({ path: tif('huge.csv') }), error: 'FileTooLargeError', mentions: /huge\.csv: 600\.0 MiB/ },
    { name: 'getVectorData on /dev/zero', request: 'getVectorData', params: () => ({ source: '/dev/zero' }), error: 'NotARegularFileError' },
    { name: 'readSites on a FIFO', request: 'readSites', params: () => ({ path: tif('fifo.geojson'), gridSource: join(root, 'beside.tif') }), error: 'InvalidFileError|NotARegularFileError' },
    { name: 'readJsonResult on a .json symlinked to /dev/zero', request: 'readJsonResult', params: () => ({ path: tif('zero.json') }), error: 'NotARegularFileError' },
    { name: 'xrfCubeInfo on /dev/zero', request: 'xrfCubeInfo', params: () => ({ path: '/dev/zero' }), error: 'NotARegularFileError' },
    { name: 'krigeVariogram on a FIFO', request: 'krigeVariogram', params: () => ({ samples: tif('fifo.csv'), table: { x: 'x', y: 'y', crs: 'EPSG:32645' }, field: 'Au' }), error: 'NotARegularFileError' },
    { name: 'openProject on a FIFO', request: 'openProject', params: () => ({ path: tif('fifo.csv') }), error: 'NotARegularFileError' },
    { name: 'exportRaster from /dev/zero', request: 'exportRaster', params: () => ({ source: tif('zero.tif'), path: join(root, 'copy.tif') }), error: 'NotARegularFileError' },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.error}; the server still answers`, async () => {
      const r = await client.call(c.request, c.params(), 15_000);
      expect(r.ok, JSON.stringify(r)).toBe(false);
      expect(r.error?.name).toMatch(new RegExp(`^(${c.error})$`));
      if (c.mentions) expect(r.error?.message).toMatch(c.mentions);
      await stillServing();
    });
  }
});

describe('the job that ran beside all of this', () => {
  it('completes', async () => {
    const end = await client.jobEnd(jobId, 170_000);
    expect(end.t === 'evt' && end.name, JSON.stringify(end)).toBe('jobDone');
    await stillServing();
  }, 180_000);
});
