// Builds one ONNX graph: nodes in the order they are added (each input defined before its use, as ONNX requires),
// initializers stored as raw little-endian bytes, unique value and node names, typed graph inputs and outputs.
// `toModel` wraps the graph in a ModelProto (IR version, opset, producer, metadata) and encodes it.
//
// Example:
//   const g = new GraphBuilder();
//   const x = g.input('x', DataType.FLOAT, ['batch', 4]);
//   const w = g.initializer('w', DataType.FLOAT, [4, 2], new Float32Array(8));
//   g.output(g.node('MatMul', [x, w])[0], 'y', DataType.FLOAT, ['batch', 2]);
//   const bytes = g.toModel({ opset: 13, irVersion: 7, producerName: 'insight', metadata: {} });
import {
  AttributeType, type AttributeData, type DataTypeId, ModelProtoType, type NodeData, type TensorData, type ValueInfoData,
} from './onnx_proto';

/** An attribute value, tagged with its ONNX type. */
export type Attr =
  | { int: number } | { float: number } | { ints: number[] } | { floats: number[] } | { string: string };

export const int = (value: number): Attr => ({ int: value });
export const float = (value: number): Attr => ({ float: value });
export const ints = (values: number[]): Attr => ({ ints: values });
export const floats = (values: number[]): Attr => ({ floats: values });
export const str = (value: string): Attr => ({ string: value });

/** Typed arrays an initializer may hold (their element type must match the DataType given). */
export type TensorBytes = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

/** The model-level fields of toModel. */
export interface ModelFields {
  opset: number;
  irVersion: number;
  producerName: string;
  producerVersion?: string;
  docString?: string;
  metadata: Record<string, string>;
}

export class GraphBuilder {
  private readonly names = new Set<string>();
  private readonly nodes: NodeData[] = [];
  private readonly initializers: TensorData[] = [];
  private readonly inputs: ValueInfoData[] = [];
  private readonly outputs: ValueInfoData[] = [];
  private readonly nodeNames = new Set<string>();

  constructor(readonly graphName = 'insight') {}

  /** A value name not used yet: `base`, else `base_1`, `base_2`, ... */
  unique(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'value';
    let name = clean;
    for (let k = 1; this.names.has(name); k++) name = `${clean}_${k}`;
    this.names.add(name);
    return name;
  }

  /** Declares a graph input; dims are numbers or names of symbolic dimensions. Returns its name. */
  input(name: string, elemType: DataTypeId, dims: (number | string)[]): string {
    const unique = this.unique(name);
    this.inputs.push(valueInfo(unique, elemType, dims));
    return unique;
  }

  /** Declares `value` a graph output under `name` (through an Identity when the names differ). */
  output(value: string, name: string, elemType: DataTypeId, dims: (number | string)[]): string {
    const unique = this.unique(name);
    this.node('Identity', [value], {}, [unique]);
    this.outputs.push(valueInfo(unique, elemType, dims));
    return unique;
  }

  /** Adds a constant tensor (weights, shapes, scales); returns its unique name. */
  initializer(base: string, dataType: DataTypeId, dims: number[], data: TensorBytes): string {
    const name = this.unique(base);
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.initializers.push({ name, dims: [...dims], data_type: dataType, raw_data: raw });
    return name;
  }

  /**
   * Appends a node `op(inputs) -> outputs`. `outputs` are exact names (already reserved by `unique`) or, as a
   * count, fresh names derived from the op. Returns the output names.
   */
  node(op: string, inputs: string[], attributes: Record<string, Attr> = {}, outputs: string[] | number = 1,
    domain?: string): string[] {
    const outs = typeof outputs === 'number'
      ? Array.from({ length: outputs }, (_, k) => this.unique(`${op}${outputs > 1 ? `_${k}` : ''}`))
      : outputs;
    let nodeName = `${op}_${this.nodes.length}`;
    while (this.nodeNames.has(nodeName)) nodeName += '_';
    this.nodeNames.add(nodeName);
    this.nodes.push({
      input: inputs,
      output: outs,
      name: nodeName,
      op_type: op,
      ...(domain !== undefined ? { domain } : {}),
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    });
    return outs;
  }

  /** How many nodes of each op type the graph has (for tests and reports). */
  opCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const n of this.nodes) counts[n.op_type] = (counts[n.op_type] ?? 0) + 1;
    return counts;
  }

  /** Encodes the graph as a ModelProto. */
  toModel(fields: ModelFields): Uint8Array {
    const model = {
      ir_version: fields.irVersion,
      opset_import: [{ domain: '', version: fields.opset }],
      producer_name: fields.producerName,
      ...(fields.producerVersion !== undefined ? { producer_version: fields.producerVersion } : {}),
      ...(fields.docString !== undefined ? { doc_string: fields.docString } : {}),
      graph: {
        node: this.nodes,
        name: this.graphName,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadata_props: Object.entries(fields.metadata).map(([key, value]) => ({ key, value })),
    };
    return ModelProtoType.encode(ModelProtoType.fromObject(model)).finish();
  }
}

function valueInfo(name: string, elemType: DataTypeId, dims: (number | string)[]): ValueInfoData {
  return {
    name,
    type: { tensor_type: { elem_type: elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  };
}

function attribute(name: string, value: Attr): AttributeData {
  if ('int' in value) return { name, type: AttributeType.INT, i: value.int };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ('ints' in value) return { name, type: AttributeType.INTS, ints: value.ints };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: value.floats };
  return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value.string) };
}
