/**
 * Exact plain-data encoding for unit payloads and results that cross the queue as files: JSON
 * with typed arrays as base64 of their bytes and non-finite numbers spelled out. (Plain JSON would
 * turn NaN metrics into null and typed arrays into objects; the local worker threads use the
 * structured clone, which keeps both, and results must be the same bits.)
 */
type Tagged = { $typed: string; b64: string } | { $num: 'NaN' | 'Infinity' | '-Infinity' };

const TYPED: Record<string, new (b: ArrayBuffer) => ArrayLike<number>> = {
  Float32Array,
  Float64Array,
  Int32Array,
  Uint32Array,
  Uint8Array,
  Int16Array,
  Uint16Array,
  Int8Array,
};

export function encodePlain(value: unknown): Uint8Array {
  const text = JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown): unknown {
    const raw = this[key];
    if (ArrayBuffer.isView(raw) && !(raw instanceof DataView)) {
      const name = raw.constructor.name;
      if (!TYPED[name]) throw new Error(`cannot encode ${name}`);
      return { $typed: name, b64: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') } satisfies Tagged;
    }
    if (typeof v === 'number' && !Number.isFinite(v)) return { $num: String(v) as 'NaN' } satisfies Tagged;
    return v;
  });
  return Buffer.from(text, 'utf8');
}

export function decodePlain<T>(bytes: Uint8Array): T {
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), (_k, v: unknown) => {
    if (v && typeof v === 'object') {
      const t = v as Partial<{ $typed: string; b64: string; $num: string }>;
      if (typeof t.$typed === 'string' && typeof t.b64 === 'string' && TYPED[t.$typed]) {
        const b = Buffer.from(t.b64, 'base64');
        const copy = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
        return new TYPED[t.$typed](copy);
      }
      if (typeof t.$num === 'string' && Object.keys(v).length === 1) return Number(t.$num);
    }
    return v;
  }) as T;
}
