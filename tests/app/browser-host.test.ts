import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startBrowserHost, resolveStaticPath, type BrowserHost } from '../../main/api/browser-host.ts';
import { encodeMessage, decodeMessage, type WireMessage } from '../../main/api/wire.ts';
import { tempDir } from '../helpers/paths.ts';

const root = tempDir('ga-host-');
const staticDir = join(root, 'dist');
let host: BrowserHost;

beforeAll(async () => {
  mkdirSync(join(staticDir, 'assets'), { recursive: true });
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(staticDir, 'assets', 'a.js'), 'export {}');
  writeFileSync(join(root, 'secret.txt'), 'outside the static root');
  symlinkSync(join(root, 'secret.txt'), join(staticDir, 'assets', 'link.txt'));
  host = await startBrowserHost({ staticDir, dataDir: join(root, 'data') });
});
afterAll(async () => host?.close());

/** Raw HTTP GET (no URL normalisation by a client library, so traversal attempts reach the server). */
function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: host.port, path, method: 'GET', headers: { host: `127.0.0.1:${host.port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

function connect(query: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket } | { status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ws${query}`, { headers });
    ws.on('open', () => resolve({ ws }));
    ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
    ws.on('error', () => undefined);
  });
}

function call(ws: WebSocket, id: number, name: string, params: unknown): Promise<WireMessage> {
  return new Promise((resolve) => {
    const onMsg = (data: Buffer): void => {
      const m = decodeMessage(new Uint8Array(data));
      if (m.t === 'res' && m.id === id) {
        ws.off('message', onMsg);
        resolve(m);
      }
    };
    ws.on('message', onMsg);
    ws.send(encodeMessage({ t: 'req', id, name, params }));
  });
}

describe('browser host', () => {
  it('listens on 127.0.0.1 only and prints a URL with a 64-hex-digit token', () => {
    expect(host.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${host.port}/\\?token=[0-9a-f]{64}$`));
  });

  it('rejects a WebSocket with a wrong, missing or truncated token (401)', async () => {
    const wrong = host.token.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
    for (const q of [`?token=${wrong}`, '', '?token=', `?token=${host.token.slice(0, 32)}`]) {
      expect(await connect(q)).toEqual({ status: 401 });
    }
  });

  it('rejects a foreign page even with the right token (403) and a rebinding Host (421)', async () => {
    expect(await connect(`?token=${host.token}`, { Origin: 'https://evil.example' })).toEqual({ status: 403 });
    expect(await connect(`?token=${host.token}`, { Host: `evil.example:${host.port}` })).toEqual({ status: 421 });
  });

  it('answers requests over the contract with the right token', async () => {
    const r = await connect(`?token=${host.token}`, { Origin: `http://127.0.0.1:${host.port}` });
    if (!('ws' in r)) throw new Error(`connection refused with ${r.status}`);
    const info = await call(r.ws, 1, 'getAppInfo', {});
    expect(info).toMatchObject({ t: 'res', id: 1, ok: true, result: { host: 'browser', name: 'GeoAnomaly Workbench' } });
    const bad = await call(r.ws, 2, 'rm -rf', {});
    expect(bad).toMatchObject({ ok: false, error: { name: 'InvalidOptionError' } });
    const missing = await call(r.ws, 3, 'openProject', { path: join(root, 'nope.gaproj') });
    expect(missing).toMatchObject({ ok: false, error: { name: 'InvalidFileError', details: { file: join(root, 'nope.gaproj') } } });
    r.ws.close();
  });

  it('serves the renderer with the CSP header and refuses path traversal', async () => {
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(String(index.headers['content-security-policy'])).toContain(`connect-src 'self' ws://127.0.0.1:${host.port}`);
    expect((await get('/assets/a.js')).status).toBe(200);
    for (const p of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt', '/..%5csecret.txt', '/assets/link.txt', '/%00', '/%E0%A4%A']) {
      const r = await get(p);
      expect(r.status, p).toBe(404);
      expect(r.body).not.toContain('outside the static root');
    }
    expect((await get('/', { host: 'evil.example' })).status).toBe(421);
  });

  it('resolveStaticPath keeps every answer inside the root', () => {
    expect(resolveStaticPath(staticDir, '/assets/a.js')).toBe(join(staticDir, 'assets', 'a.js'));
    expect(resolveStaticPath(staticDir, '/')).toBe(join(staticDir, 'index.html'));
    expect(resolveStaticPath(staticDir, '/assets')).toBeNull();
    expect(resolveStaticPath(staticDir, '/assets/link.txt')).toBeNull();
  });
});

describe('wire format', () => {
  it('round-trips typed arrays, NaN and infinities exactly', () => {
    const values = new Float32Array([1.5, NaN, -0, 3.4028234663852886e38, Infinity]);
    const msg: WireMessage = { t: 'res', id: 7, ok: true, result: { values, ints: new Int32Array([1, -2]), stats: { min: -Infinity, mean: NaN }, name: 'Au' } };
    const back = decodeMessage(encodeMessage(msg)) as { result: { values: Float32Array; ints: Int32Array; stats: { min: number; mean: number }; name: string } };
    expect(back.result.values).toBeInstanceOf(Float32Array);
    expect(Array.from(back.result.values)).toEqual(Array.from(values));
    expect(Array.from(back.result.ints)).toEqual([1, -2]);
    expect(back.result.stats.min).toBe(-Infinity);
    expect(back.result.stats.mean).toBeNaN();
    expect(back.result.name).toBe('Au');
  });

  it('rejects a frame whose header overruns it', () => {
    const f = encodeMessage({ t: 'evt', name: 'log', payload: {} });
    new DataView(f.buffer).setUint32(0, 1e6, true);
    expect(() => decodeMessage(f)).toThrow(/exceeds/);
  });
});
