import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { createHandlers, dispatch, type Handlers } from './handlers.ts';
import { encodeMessage, decodeMessage, type WireMessage } from './wire.ts';
import { contentSecurityPolicy } from './csp.ts';
import type { EmitFn, JobManager } from './job-manager.ts';
import type { Events } from './contract.ts';

/**
 * The browser host: serves the built renderer and the contract over a WebSocket, on
 * 127.0.0.1 only. A random token, made per launch and printed in the URL, must be presented on
 * the WebSocket upgrade: other local pages (a malicious site in the user's browser) cannot
 * read it, and other users' processes cannot guess it. The Host header is checked too, so a
 * DNS-rebinding page cannot pose as 127.0.0.1.
 */

export interface BrowserHostOptions {
  /** 0 = any free port. @default 0 */
  readonly port?: number;
  /** The built renderer (vite build output). */
  readonly staticDir: string;
  readonly dataDir: string;
  /** Fixed token (tests); default: 32 random bytes, hex. */
  readonly token?: string;
  /** Where connection errors are logged (never with the token). @default console.error */
  readonly log?: (line: string) => void;
}

export interface BrowserHost {
  readonly port: number;
  readonly token: string;
  /** URL to open: http://127.0.0.1:PORT/?token=… */
  readonly url: string;
  readonly handlers: Handlers;
  readonly jobs: JobManager;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/**
 * Maps a request path onto a file inside `root`, or null. Rejects encoded separators, NUL,
 * `..` segments and anything whose real path (symlinks resolved) leaves the root.
 */
export function resolveStaticPath(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s === '.')) return null;
  const rel = segments.length === 0 ? 'index.html' : segments.join(sep);
  const realRoot = realpathSync(root);
  const candidate = resolve(realRoot, rel);
  if (!existsSync(candidate)) return null;
  const real = realpathSync(candidate);
  if (real !== realRoot && !real.startsWith(realRoot + sep)) return null;
  if (!statSync(real).isFile()) return null;
  return real;
}

function tokenMatches(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Largest WebSocket message accepted; a frame declaring more is refused with close code 1009. */
export const MAX_WS_PAYLOAD_BYTES = 256 * 1024 * 1024;

/**
 * The close code RFC 6455 prescribes for each protocol violation `ws` reports (the library
 * sends that close frame itself; this table lets the log say which one went out).
 */
export function closeCodeFor(errorCode: string | undefined): 1002 | 1007 | 1009 {
  if (errorCode === 'WS_ERR_INVALID_UTF8') return 1007;
  if (errorCode === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || errorCode === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH') return 1009;
  return 1002;
}

function reject(socket: Duplex, status: number, reason: string): void {
  socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

export async function startBrowserHost(options: BrowserHostOptions): Promise<BrowserHost> {
  const staticDir = resolve(options.staticDir);
  if (!existsSync(join(staticDir, 'index.html'))) {
    throw new Error(`${staticDir}/index.html not found: build the renderer first (npx vite build renderer)`);
  }
  const token = options.token ?? randomBytes(32).toString('hex');
  const log = options.log ?? ((line: string) => console.error(line));
  const clients = new Set<WebSocket>();
  const emit: EmitFn = <E extends keyof Events>(name: E, payload: Events[E]) => {
    const frame = encodeMessage({ t: 'evt', name, payload });
    for (const c of clients) if (c.readyState === c.OPEN) c.send(frame);
  };
  const { handlers, jobs, autosaver } = createHandlers({ dataDir: options.dataDir, host: 'browser', emit });

  let port = 0;
  const allowedHosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!allowedHosts().includes(req.headers.host ?? '')) {
      res.writeHead(421, { 'Content-Type': 'text/plain' }).end('wrong Host header');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const urlPath = (req.url ?? '/').split('?')[0];
    const file = resolveStaticPath(staticDir, urlPath);
    if (!file) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Security-Policy': contentSecurityPolicy({ connectSrc: [`ws://127.0.0.1:${port}`, `ws://localhost:${port}`], header: true }),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    });
    if (req.method === 'HEAD') res.end();
    else res.end(readFileSync(file));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_PAYLOAD_BYTES });
  // A peer that resets its connection mid-handshake (or sends garbage HTTP) must cost only
  // that connection: without these listeners the error would be an uncaught exception that
  // ends the whole backend, its running jobs and any pending autosave.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    log(`geoanomaly serve: malformed HTTP request refused (${err.code ?? err.message})`);
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  server.on('upgrade', (req, socket, head) => {
    const peer = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    socket.on('error', (err: NodeJS.ErrnoException) => log(`geoanomaly serve: connection ${peer} failed (${err.code ?? err.message})`));
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (!allowedHosts().includes(req.headers.host ?? '')) return reject(socket, 421, 'Misdirected Request');
    if (url.pathname !== '/ws') return reject(socket, 404, 'Not Found');
    // Browsers always send Origin: only our own page may connect. Non-browser clients send none
    // and still need the token.
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedHosts().map((h) => `http://${h}`).includes(origin)) return reject(socket, 403, 'Forbidden');
    if (!tokenMatches(url.searchParams.get('token'), token)) return reject(socket, 401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      // A protocol violation (unmasked frame, RSV bit, reserved opcode, oversized length,
      // invalid UTF-8): ws has already sent the close frame with the RFC 6455 code; we log it
      // (the peer and the code, never the request URL, which carries the token) and drop only
      // this socket if the peer does not finish the closing handshake.
      ws.on('error', (err: Error & { code?: string }) => {
        log(`geoanomaly serve: WebSocket ${peer} closed with ${closeCodeFor(err.code)} (${err.code ?? 'error'}: ${err.message})`);
        clients.delete(ws);
        setTimeout(() => ws.terminate(), 1000).unref();
      });
      ws.on('message', (data, isBinary) => {
        void (async () => {
          let msg: WireMessage;
          try {
            if (!isBinary) throw new Error('text frames are not part of the protocol');
            const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
            msg = decodeMessage(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
          } catch (e) {
            ws.send(encodeMessage({ t: 'evt', name: 'log', payload: { level: 'error', message: `malformed frame: ${(e as Error).message}`, time: new Date().toISOString() } }));
            return;
          }
          if (msg.t !== 'req' || typeof msg.id !== 'number') return;
          const r = await dispatch(handlers, msg.name, msg.params);
          if (ws.readyState !== ws.OPEN) return;
          ws.send(encodeMessage(r.ok ? { t: 'res', id: msg.id, ok: true, result: r.result } : { t: 'res', id: msg.id, ok: false, error: r.error }));
        })().catch((e: unknown) => {
          // An answer that cannot be encoded or sent must not become an unhandled rejection
          // (which ends the process): log it and drop this connection only.
          log(`geoanomaly serve: WebSocket ${peer} dropped (${(e as Error).message})`);
          ws.terminate();
        });
      });
    });
  });

  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(options.port ?? 0, '127.0.0.1', () => res());
  });
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/?token=${token}`,
    handlers,
    jobs,
    async close() {
      jobs.cancelAll();
      autosaver.flush();
      for (const c of clients) c.terminate();
      wss.close();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}
