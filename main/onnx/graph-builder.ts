import { ATTR, ONNX_FLOAT, ONNX_INT64, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './onnx-proto.ts';

export type AttrValue = number | readonly number[] | string | { readonly float: number };

/**
 * Collects the nodes and initializers of one ONNX graph with unique names. Integer attributes
 * are written as INT/INTS, `{ float: v }` as FLOAT, strings as STRING.
 */
export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private counter = 0;

  /** A fresh value name with the given prefix. */
  name(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  /** Adds a float32 constant (row-major `values`, length = product of dims) and returns its name. */
  floats(prefix: string, dims: readonly number[], values: Float32Array | readonly number[]): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (values.length !== n) throw new Error(`${prefix}: ${values.length} values for dims [${dims.join(', ')}] (${n} expected)`);
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    const name = this.name(prefix);
    this.initializers.push({ name, dims: [...dims], dataType: ONNX_FLOAT, rawData: littleEndianBytes(data) });
    return name;
  }

  /** Adds an int64 constant (shapes for Reshape, indices) and returns its name. */
  int64s(prefix: string, values: readonly number[]): string {
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    const name = this.name(prefix);
    this.initializers.push({ name, dims: [values.length], dataType: ONNX_INT64, rawData: littleEndianBytes(data) });
    return name;
  }

  /** Adds a node with one output and returns the output's name. */
  op(opType: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}, prefix = opType.toLowerCase()): string {
    const out = this.name(prefix);
    this.nodes.push({ input: [...inputs], output: [out], name: `${out}_node`, opType, attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return out;
  }

  /** Reshape to a static shape (−1 allowed once, as ONNX Reshape defines). */
  reshape(x: string, shape: readonly number[]): string {
    return this.op('Reshape', [x, this.int64s('shape', shape)]);
  }
}

function attribute(name: string, v: AttrValue): OnnxAttribute {
  if (typeof v === 'string') return { name, type: ATTR.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return { name, type: ATTR.INT, i: v };
  if ('float' in v) return { name, type: ATTR.FLOAT, f: v.float };
  return { name, type: ATTR.INTS, ints: [...v] };
}

/** ONNX raw_data is little-endian; typed arrays use the platform order, so convert on big-endian hosts. */
function littleEndianBytes(data: Float32Array | BigInt64Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) return bytes;
  const w = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += w) bytes.subarray(i, i + w).reverse();
  return bytes;
}
