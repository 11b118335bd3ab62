// Builds an ONNX graph node by node: fresh value names, typed attributes, and initializers from
// float32 weights (stored as float16 and cast back to float32 in the graph when asked, which
// halves the download and keeps every computation in float32).
import type { Tensor } from '../torch/index.js';
import { AttributeType, DataType, type AttributeProto, type GraphProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.js';

export type AttributeValue = number | number[] | string | { float: number } | { floats: number[] };

function attribute(name: string, value: AttributeValue): AttributeProto {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: value };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.FLOATS, floats: value.floats };
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly #used = new Set<string>();

  /** @param weightsAsFloat16 store float weights as float16 (cast to float32 where used). */
  constructor(readonly weightsAsFloat16 = false) {}

  /** A value name not used yet, from a readable stem. */
  fresh(stem: string): string {
    let name = stem;
    for (let i = 1; this.#used.has(name); i++) name = `${stem}_${i}`;
    this.#used.add(name);
    return name;
  }

  /** Adds a node; returns its output names (`outputs` of them, named after `stem`). */
  nodeN(opType: string, inputs: string[], attrs: Record<string, AttributeValue> = {}, stem = opType, outputs = 1): string[] {
    const out = Array.from({ length: outputs }, (_, i) => this.fresh(outputs === 1 ? stem : `${stem}_out${i}`));
    this.nodes.push({
      op_type: opType, name: this.fresh(`${stem}_node`), input: inputs, output: out,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return out;
  }

  node(opType: string, inputs: string[], attrs: Record<string, AttributeValue> = {}, stem = opType): string {
    return this.nodeN(opType, inputs, attrs, stem, 1)[0]!;
  }

  /** An int64 constant (shapes, pads, axes), always stored exactly. */
  ints(stem: string, values: number[], dims: number[] = [values.length]): string {
    const name = this.fresh(stem);
    this.initializers.push({ name, dims, data_type: DataType.INT64, raw_data: bytesOf(BigInt64Array.from(values, (v) => BigInt(v))) });
    return name;
  }

  /** A float32 constant kept in float32 whatever the weight precision (small: norms' scales, scalars). */
  floats(stem: string, values: Float32Array | number[], dims: number[]): string {
    const name = this.fresh(stem);
    this.initializers.push({ name, dims, data_type: DataType.FLOAT, raw_data: bytesOf(Float32Array.from(values)) });
    return name;
  }

  /**
   * A learned weight: float32, or (--fp16) float16 rounded by torch's own .half() plus a Cast to
   * float32, so only the stored values lose precision.
   */
  weight(stem: string, t: Tensor): string {
    const dims = [...t.shape];
    if (!this.weightsAsFloat16) return this.floats(stem, t.toFloat32Array(), dims);
    const half = t.to('float16');
    let bits: Uint16Array;
    try { bits = half.toArray() as Uint16Array; } finally { half.dispose(); }
    const name = this.fresh(`${stem}_fp16`);
    this.initializers.push({ name, dims, data_type: DataType.FLOAT16, raw_data: bytesOf(bits) });
    return this.node('Cast', [name], { to: DataType.FLOAT }, stem);
  }

  graph(name: string, inputs: ValueInfoProto[], outputs: ValueInfoProto[], doc: string): GraphProto {
    return { name, node: this.nodes, initializer: this.initializers, input: inputs, output: outputs, doc_string: doc };
  }
}

/** A tensor's declared type: element type and dims (numbers fixed, strings free). */
export function valueInfo(name: string, elemType: number, dims: (number | string)[], doc?: string): ValueInfoProto {
  return {
    name,
    ...(doc ? { doc_string: doc } : {}),
    type: { tensor_type: { elem_type: elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  };
}
