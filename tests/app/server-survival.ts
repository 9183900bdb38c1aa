import { spawn, type ChildProcess } from 'node:child_process';
import { connect as tcpConnect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { REPO_ROOT } from '../helpers/paths.ts';
import { decodeMessage, encodeMessage, type WireMessage } from '../../main/api/wire.ts';

/**
 * Helpers for the "the server survives any input" tests: a real `geoanomaly serve` process
 * (so a crash is a dead process, not a test-runner error), a contract client, and a raw TCP
 * client that writes WebSocket frames byte by byte (no library to normalise them).
 */

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly token: string;
  /** Everything the process wrote to stdout and stderr so far. */
  log(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

export async function startServe(staticDir: string, dataDir: string): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['main/cli/bin.mjs', 'serve', '--port', '0', '--static-dir', staticDir, '--data-dir', dataDir], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let exited = false;
  child.on('exit', () => (exited = true));
  child.stderr?.on('data', (d) => (out += d));
  const m = await new Promise<RegExpExecArray>((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      out += d;
      const r = /running at http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]{64})/.exec(out);
      if (r) resolve(r);
    });
    child.on('exit', () => reject(new Error(`serve exited before printing its URL:\n${out}`)));
  });
  return {
    child,
    port: Number(m[1]),
    token: m[2],
    log: () => out,
    exited: () => exited,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.on('exit', () => resolve());
        child.kill('SIGINT');
      }),
  };
}

/** A contract client on the WebSocket, with the events it received. */
export class ContractClient {
  readonly events: WireMessage[] = [];
  private seq = 0;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      const m = decodeMessage(new Uint8Array(d));
      if (m.t === 'evt') this.events.push(m);
    });
  }
  static open(s: ServeProcess): Promise<ContractClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${s.port}/ws?token=${s.token}`);
      ws.on('open', () => resolve(new ContractClient(ws)));
      ws.on('error', reject);
    });
  }
  /** One request; rejects if no answer comes within `timeoutMs` (a blocked or dead server). */
  call(name: string, params: unknown, timeoutMs = 20_000): Promise<{ ok: boolean; result?: unknown; error?: { name: string; message: string } }> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${name} within ${timeoutMs} ms`)), timeoutMs);
      const onMsg = (d: Buffer): void => {
        const m = decodeMessage(new Uint8Array(d));
        if (m.t === 'res' && m.id === id) {
          clearTimeout(timer);
          this.ws.off('message', onMsg);
          resolve(m as never);
        }
      };
      this.ws.on('message', onMsg);
      this.ws.send(encodeMessage({ t: 'req', id, name, params }));
    });
  }
  /** Resolves with the final event (jobDone / jobFailed) of a job. */
  jobEnd(jobId: string, timeoutMs = 120_000): Promise<WireMessage> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const poll = (): void => {
        const e = this.events.find((m) => m.t === 'evt' && (m.name === 'jobDone' || m.name === 'jobFailed') && (m.payload as { jobId?: string }).jobId === jobId);
        if (e) return resolve(e);
        if (Date.now() - started > timeoutMs) return reject(new Error(`job ${jobId} did not end within ${timeoutMs} ms`));
        setTimeout(poll, 50);
      };
      poll();
    });
  }
  close(): void {
    this.ws.close();
  }
}

/** Opens a raw TCP connection and completes the WebSocket handshake by hand. */
export function rawHandshake(s: ServeProcess): Promise<{ socket: Socket; received: () => Buffer; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(s.port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const ended = new Promise<void>((res) => socket.on('close', () => res()));
    socket.on('error', () => undefined);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`handshake refused: ${head}`));
        upgraded = true;
        buf = buf.subarray(end + 4);
        resolve({ socket, received: () => buf, ended });
      }
    });
    const key = randomBytes(16).toString('base64');
    socket.write(
      `GET /ws?token=${s.token} HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

/** A client frame: FIN + opcode (+ RSV bits), masked unless told otherwise (RFC 6455 §5.2). */
export function frame(opts: { opcode: number; payload: Buffer; rsv1?: boolean; masked?: boolean; declaredLength?: bigint }): Buffer {
  const { opcode, payload } = opts;
  const masked = opts.masked ?? true;
  const b0 = 0x80 | (opts.rsv1 ? 0x40 : 0) | opcode;
  const len = opts.declaredLength ?? BigInt(payload.length);
  let header: Buffer;
  if (len < 126n) header = Buffer.from([b0, (masked ? 0x80 : 0) | Number(len)]);
  else if (len < 65536n) {
    header = Buffer.alloc(4);
    header[0] = b0;
    header[1] = (masked ? 0x80 : 0) | 126;
    header.writeUInt16BE(Number(len), 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = b0;
    header[1] = (masked ? 0x80 : 0) | 127;
    header.writeBigUInt64BE(len, 2);
  }
  if (!masked) return Buffer.concat([header, payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((v, i) => v ^ mask[i % 4]));
  return Buffer.concat([header, mask, body]);
}

/** The status code of the first close frame (opcode 8) the server sent, or null. */
export function closeCodeOf(data: Buffer): number | null {
  let off = 0;
  while (off + 2 <= data.length) {
    const opcode = data[off] & 0x0f;
    let len = data[off + 1] & 0x7f;
    let p = off + 2;
    if (len === 126) {
      len = data.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      len = Number(data.readBigUInt64BE(p));
      p += 8;
    }
    if (opcode === 8) return len >= 2 ? data.readUInt16BE(p) : null;
    off = p + len;
  }
  return null;
}
