import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';

const { onnx } = onnxProto;

/**
 * Small builders for ONNX graphs written in TypeScript (onnx-proto), so the learning code's heavy
 * matrix work runs in onnxruntime (MLAS on CPU, CUDA where present) rather than JavaScript loops.
 */
export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;

export function tensorValue(name: string, type: number, dims: readonly (number | string)[]) {
  return {
    name,
    type: {
      tensorType: {
        elemType: type,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export function node(
  opType: string,
  input: string[],
  output: string[],
  attributes: Record<string, number | number[]> = {},
) {
  const attribute = Object.entries(attributes).map(([name, v]) =>
    Array.isArray(v)
      ? { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v }
      : Number.isInteger(v)
        ? { name, type: onnx.AttributeProto.AttributeType.INT, i: v }
        : { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v },
  );
  return { opType, input, output, attribute };
}

export function constant(name: string, dims: number[], values: number[], type: number = FLOAT) {
  return { name, dims, dataType: type, ...(type === INT64 ? { int64Data: values } : { floatData: values }) };
}

export interface GraphSpec {
  readonly name: string;
  readonly input: object[];
  readonly output: object[];
  readonly initializer?: object[];
  readonly node: object[];
}

/** Serialises a graph as an opset-13 ONNX model. */
export function encodeGraph(graph: GraphSpec): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'winnow',
    graph,
  }).finish();
}

/** Opens a graph in onnxruntime. */
export function openGraph(
  graph: GraphSpec,
  options: ort.InferenceSession.SessionOptions = {},
): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(encodeGraph(graph), { graphOptimizationLevel: 'all', ...options });
}
