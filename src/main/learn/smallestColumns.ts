import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { type AffineStack, CHUNK_ELEMENTS } from './affineProducts.ts';
import { FLOAT, INT64, node, openGraph, tensorValue } from './onnxGraph.ts';

/**
 * The k smallest entries of every row of Y = x·B + c (an affine stack, affineProducts.ts), twice:
 * over all columns, and over the columns of the row's own group (each column belongs to one group,
 * each row names one). Ties keep the lower column (ONNX TopK's rule); each row's selection is
 * sorted ascending.
 *
 * The product and both selections run in one onnxruntime graph, so the n × M block never comes
 * back to JavaScript: scanning it there cost more than the Gemm itself, on one core
 * (bench/score-throughput.ts). The within-group selection adds +∞ to the columns outside the row's
 * group (a groups × M table gathered by the row's group), so a group with fewer than k columns
 * fills the rest of its selection with +∞ keys.
 */
const INT32 = onnxProto.onnx.TensorProto.DataType.INT32;
const graph = {
  name: 'winnow_smallest_columns',
  input: [
    tensorValue('X', FLOAT, ['n', 'D']),
    tensorValue('B', FLOAT, ['D', 'M']),
    tensorValue('c', FLOAT, ['M']),
    tensorValue('outside', FLOAT, ['G', 'M']),
    tensorValue('group', INT32, ['n']),
    tensorValue('k', INT64, [1]),
  ],
  output: [
    tensorValue('allKeys', FLOAT, ['n', 'k']),
    tensorValue('allColumns', INT32, ['n', 'k']),
    tensorValue('groupKeys', FLOAT, ['n', 'k']),
    tensorValue('groupColumns', INT32, ['n', 'k']),
  ],
  node: [
    node('Gemm', ['X', 'B', 'c'], ['Y']),
    node('TopK', ['Y', 'k'], ['allKeys', 'allIndices'], { largest: 0, sorted: 1 }),
    node('Cast', ['allIndices'], ['allColumns'], { to: INT32 }),
    node('Gather', ['outside', 'group'], ['rowOutside']),
    node('Add', ['Y', 'rowOutside'], ['groupY']),
    node('TopK', ['groupY', 'k'], ['groupKeys', 'groupIndices'], { largest: 0, sorted: 1 }),
    node('Cast', ['groupIndices'], ['groupColumns'], { to: INT32 }),
  ],
};
let session: Promise<ort.InferenceSession> | undefined;
/**
 * No spinning: the graph is one short burst per chunk, and on a machine shared with other work
 * (or the UI) threads that spin between chunks burn CPU for nothing (bench/score-throughput.ts:
 * about 15% less CPU time for the same wall time).
 */
const sessionOptions: ort.InferenceSession.SessionOptions = {
  extra: { session: { intra_op: { allow_spinning: '0' } } },
};

/** Row-major rows × k selections of one chunk; keys +∞ past the end of a short group. */
export interface ColumnSelection {
  readonly keys: Float32Array;
  readonly columns: Int32Array;
}

/**
 * Calls visit(start, rows, k, all, own) for consecutive chunks of x's rows, where k = min(k, M)
 * and own selects among the columns c with columnGroup[c] = rowGroup[row].
 */
export async function forEachSmallestColumns(
  x: Float32Array,
  stack: AffineStack,
  columnGroup: Int32Array,
  groups: number,
  rowGroup: Int32Array,
  k: number,
  visit: (start: number, rows: number, k: number, all: ColumnSelection, own: ColumnSelection) => void,
): Promise<void> {
  const M = stack.columns;
  const D = stack.B.length / M;
  const n = x.length / D;
  if (n === 0 || M === 0) return;
  const K = Math.min(k, M);
  const outside = new Float32Array(groups * M).fill(Infinity);
  columnGroup.forEach((g, column) => (outside[g * M + column] = 0));
  session ??= openGraph(graph, sessionOptions);
  const s = await session;
  const feeds = {
    B: new ort.Tensor('float32', stack.B, [D, M]),
    c: new ort.Tensor('float32', stack.c, [M]),
    outside: new ort.Tensor('float32', outside, [groups, M]),
    k: new ort.Tensor('int64', BigInt64Array.of(BigInt(K)), [1]),
  };
  const chunk = Math.max(1, Math.floor(CHUNK_ELEMENTS / M));
  for (let start = 0; start < n; start += chunk) {
    const rows = Math.min(chunk, n - start);
    const result = await s.run({
      ...feeds,
      X: new ort.Tensor('float32', x.subarray(start * D, (start + rows) * D), [rows, D]),
      group: new ort.Tensor('int32', rowGroup.subarray(start, start + rows), [rows]),
    });
    const selection = (keys: string, columns: string): ColumnSelection => ({
      keys: result[keys]!.data as Float32Array,
      columns: result[columns]!.data as Int32Array,
    });
    visit(start, rows, K, selection('allKeys', 'allColumns'), selection('groupKeys', 'groupColumns'));
  }
}
