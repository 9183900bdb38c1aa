/**
 * Wire format of the contract over a WebSocket (the browser host). Electron IPC uses the
 * structured clone algorithm, which carries typed arrays and NaN natively; JSON does neither,
 * so each message is one binary frame:
 *
 *   [u32 little-endian header length][header: UTF-8 JSON][zero padding to 8 bytes][typed-array bytes…]
 *
 * Typed arrays in the payload are replaced in the JSON by `{"$ta": k}` (k = index into
 * `header.$bin`, which records type, byte offset and element count); non-finite numbers by
 * `{"$num": "NaN" | "Infinity" | "-Infinity"}`. Hand-written because the only alternative
 * (a full structured-clone/MessagePack library) would be a new dependency for ~80 lines.
 *
 * Shared by the Node server and the renderer: no Node imports here.
 */

export type WireMessage =
  | { readonly t: 'req'; readonly id: number; readonly name: string; readonly params: unknown }
  | { readonly t: 'res'; readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly t: 'res'; readonly id: number; readonly ok: false; readonly error: { name: string; message: string; details: Record<string, unknown> } }
  | { readonly t: 'evt'; readonly name: string; readonly payload: unknown };

type TypedArray = Float32Array | Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Uint8ClampedArray;

const TYPED: Record<string, new (buf: ArrayBuffer, off: number, len: number) => TypedArray> = {
  Float32Array,
  Float64Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
};

interface BinRef {
  readonly type: string;
  readonly offset: number;
  readonly length: number;
}

function isTyped(v: unknown): v is TypedArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && (v.constructor.name in TYPED);
}

export function encodeMessage(msg: WireMessage): Uint8Array {
  const arrays: TypedArray[] = [];
  const bin: BinRef[] = [];
  let binBytes = 0;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'number') {
      if (Number.isFinite(v)) return v;
      return { $num: Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity' };
    }
    if (v === null || typeof v !== 'object') return v;
    if (isTyped(v)) {
      // Align every array to 8 bytes so the receiver can view it without copying.
      binBytes = Math.ceil(binBytes / 8) * 8;
      bin.push({ type: v.constructor.name, offset: binBytes, length: v.length });
      arrays.push(v);
      binBytes += v.byteLength;
      return { $ta: bin.length - 1 };
    }
    if (Array.isArray(v)) return v.map(walk);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = walk(x);
    return out;
  };
  const body = walk(msg) as Record<string, unknown>;
  const header = new TextEncoder().encode(JSON.stringify({ ...body, $bin: bin }));
  const binStart = Math.ceil((4 + header.length) / 8) * 8;
  const out = new Uint8Array(binStart + binBytes);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  arrays.forEach((a, i) => out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), binStart + bin[i].offset));
  return out;
}

/** Decodes one frame; throws a plain Error on a malformed frame (the server answers it). */
export function decodeMessage(frame: ArrayBuffer | Uint8Array): WireMessage {
  const bytes = frame instanceof Uint8Array ? frame : new Uint8Array(frame);
  if (bytes.length < 4) throw new Error('wire frame shorter than its 4-byte header length');
  const headerLen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (4 + headerLen > bytes.length) throw new Error(`wire header of ${headerLen} bytes exceeds the ${bytes.length}-byte frame`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLen))) as Record<string, unknown> & { $bin?: BinRef[] };
  const binStart = Math.ceil((4 + headerLen) / 8) * 8;
  const bin = header.$bin ?? [];
  // Copy the attachment region once into its own aligned buffer, then view each array in it.
  const region = bytes.slice(binStart).buffer;
  const unwalk = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(unwalk);
    const o = v as Record<string, unknown>;
    if (typeof o.$ta === 'number' && Object.keys(o).length === 1) {
      const ref = bin[o.$ta];
      const Ctor = ref && TYPED[ref.type];
      if (!Ctor) throw new Error(`wire frame references unknown typed array ${String(o.$ta)}`);
      return new Ctor(region, ref.offset, ref.length);
    }
    if (typeof o.$num === 'string' && Object.keys(o).length === 1) return Number(o.$num);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = unwalk(x);
    return out;
  };
  delete header.$bin;
  return unwalk(header) as WireMessage;
}
