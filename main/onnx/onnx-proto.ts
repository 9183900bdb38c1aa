import protobuf from 'protobufjs';

/**
 * The part of the ONNX protobuf schema the exporter writes, encoded with protobufjs (no
 * hand-written wire format). The message and field definitions below are copied verbatim (field
 * names, numbers and types) from onnx/onnx.proto of the ONNX project (MIT licence); messages and
 * fields we never write (training info, sparse tensors, sequences, maps, …) are left out, which
 * protobuf allows: a reader sees absent optional fields.
 */
const ONNX_PROTO_SUBSET = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5;
    FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10;
  }
  optional string name = 1;
  optional string doc_string = 13;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  enum DataType {
    UNDEFINED = 0; FLOAT = 1; UINT8 = 2; INT8 = 3; UINT16 = 4; INT16 = 5; INT32 = 6; INT64 = 7;
  }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    };
    optional string denotation = 3;
  };
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

/** Names of the exported graphs' input (NHWC windows) and output (softmax [batch, classes]). */
export const ONNX_INPUT = 'patch';
export const ONNX_OUTPUT = 'probabilities';

/** ONNX TensorProto.DataType values used here. */
export const ONNX_FLOAT = 1;
export const ONNX_INT32 = 6;
export const ONNX_INT64 = 7;

export const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

export interface OnnxAttribute {
  readonly name: string;
  readonly type: number;
  readonly f?: number;
  readonly i?: number;
  readonly s?: Uint8Array;
  readonly floats?: number[];
  readonly ints?: number[];
}

export interface OnnxNode {
  readonly input: string[];
  readonly output: string[];
  readonly name: string;
  readonly opType: string;
  readonly attribute: OnnxAttribute[];
}

export interface OnnxTensor {
  readonly name: string;
  readonly dims: number[];
  readonly dataType: number;
  /** Little-endian element bytes (ONNX raw_data). */
  readonly rawData: Uint8Array;
}

/** A tensor value's type: float32 (or `elemType`) with dims (a string = symbolic, e.g. 'batch'). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly dims: readonly (number | string)[];
  /** TensorProto.DataType of the elements. @default ONNX_FLOAT */
  readonly elemType?: number;
}

export interface OnnxGraph {
  readonly name: string;
  readonly node: OnnxNode[];
  readonly initializer: OnnxTensor[];
  readonly input: OnnxValueInfo[];
  readonly output: OnnxValueInfo[];
}

export interface OnnxModel {
  readonly irVersion: number;
  readonly opsetVersion: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly docString: string;
  readonly graph: OnnxGraph;
  readonly metadata: Readonly<Record<string, string>>;
}

let modelType: protobuf.Type | null = null;

function modelProto(): protobuf.Type {
  if (!modelType) modelType = protobuf.parse(ONNX_PROTO_SUBSET, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
}

function valueInfo(v: OnnxValueInfo): Record<string, unknown> {
  return {
    name: v.name,
    type: {
      tensor_type: {
        elem_type: v.elemType ?? ONNX_FLOAT,
        shape: { dim: v.dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) },
      },
    },
  };
}

/** Serialises a model to the ONNX protobuf bytes (what onnxruntime and the onnx tools read). */
export function encodeOnnxModel(m: OnnxModel): Uint8Array {
  const type = modelProto();
  const message = type.fromObject({
    ir_version: m.irVersion,
    opset_import: [{ domain: '', version: m.opsetVersion }],
    producer_name: m.producerName,
    producer_version: m.producerVersion,
    doc_string: m.docString,
    graph: {
      name: m.graph.name,
      node: m.graph.node.map((n) => ({ input: n.input, output: n.output, name: n.name, op_type: n.opType, domain: '', attribute: n.attribute })),
      initializer: m.graph.initializer.map((t) => ({ name: t.name, dims: t.dims, data_type: t.dataType, raw_data: t.rawData })),
      input: m.graph.input.map(valueInfo),
      output: m.graph.output.map(valueInfo),
    },
    metadata_props: Object.entries(m.metadata).map(([key, value]) => ({ key, value })),
  });
  return type.encode(message).finish();
}

/** Decodes bytes written by encodeOnnxModel back to a plain object (field names as in onnx.proto); for tests and inspection. */
export function decodeOnnxModel(bytes: Uint8Array): Record<string, unknown> {
  const type = modelProto();
  return type.toObject(type.decode(bytes), { longs: Number, bytes: Array, defaults: false }) as Record<string, unknown>;
}
