// ONNX models as bytes, encoded and decoded by protobufjs from the official schema (onnx.proto,
// vendored beside this file), so the wire format is the library's job and never ours.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const schemaPath = fileURLToPath(new URL('./onnx.proto', import.meta.url));
let schema: protobuf.Root | null = null;

function lookup(name: string): protobuf.Type {
  schema ??= protobuf.parse(readFileSync(schemaPath, 'utf-8'), { keepCase: true }).root;
  return schema.lookupType(name);
}
const ModelProto = () => lookup('onnx.ModelProto');

/** TensorProto.DataType values this project writes. */
export const DataType = { FLOAT: 1, INT64: 7, BOOL: 9, FLOAT16: 10 } as const;
/** AttributeProto.AttributeType values this project writes. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

export interface TensorProto { name: string; dims: number[]; data_type: number; raw_data: Uint8Array }
export interface AttributeProto { name: string; type: number; f?: number; i?: number; s?: Uint8Array; floats?: number[]; ints?: number[] }
export interface NodeProto { op_type: string; name: string; input: string[]; output: string[]; attribute: AttributeProto[] }
/** A dimension is fixed (dim_value) or named and free (dim_param). */
export type Dim = { dim_value: number } | { dim_param: string };
export interface ValueInfoProto {
  name: string;
  doc_string?: string;
  type: { tensor_type: { elem_type: number; shape: { dim: Dim[] } } };
}
export interface GraphProto {
  name: string; node: NodeProto[]; initializer: TensorProto[]; input: ValueInfoProto[]; output: ValueInfoProto[]; doc_string?: string;
}
export interface ModelProtoObject {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  producer_name: string;
  producer_version: string;
  doc_string?: string;
  graph: GraphProto;
  metadata_props: { key: string; value: string }[];
}

/** The model's bytes; protobufjs checks the object against the schema first. */
export function encodeModel(model: ModelProtoObject): Uint8Array {
  const type = ModelProto();
  const problem = type.verify(model);
  if (problem) throw new Error(`internal error: the ONNX model does not fit the schema: ${problem}`);
  return type.encode(type.fromObject(model)).finish();
}

/** A model read back (int64 fields as numbers, byte fields as Uint8Array). */
export function decodeModel(bytes: Uint8Array): ModelProtoObject {
  const type = ModelProto();
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (e) {
    throw new Error(`not an ONNX model: ${(e as Error).message}`);
  }
  return type.toObject(message, { longs: Number, defaults: false, arrays: true }) as unknown as ModelProtoObject;
}

/**
 * A model's metadata_props without decoding its weights: the library's reader walks the top-level
 * fields and skips all but metadata_props, so a large model costs no copy of its initializers.
 */
export function readMetadataProps(bytes: Uint8Array): { key: string; value: string }[] {
  const type = ModelProto();
  const field = type.fields['metadata_props'];
  if (!field) throw new Error('internal error: onnx.proto has no ModelProto.metadata_props');
  const entry = lookup('onnx.StringStringEntryProto');
  const reader = protobuf.Reader.create(bytes);
  const props: { key: string; value: string }[] = [];
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 === field.id) {
        const e = entry.toObject(entry.decode(reader, reader.uint32())) as { key?: string; value?: string };
        props.push({ key: e.key ?? '', value: e.value ?? '' });
      } else {
        reader.skipType(tag & 7);
      }
    }
  } catch (e) {
    throw new Error(`not an ONNX model: ${(e as Error).message}`);
  }
  return props;
}
