import ort from 'onnxruntime-node';
import { FLOAT, node, openGraph, tensorValue } from './onnxGraph.ts';
import type { Standardizer } from './standardizer.ts';

/**
 * The heavy part of every cross-fitted score is one product: each instance's standardised feature
 * vector against a stack of linear maps (heads' weights, influence directions, real images). It
 * runs as a single onnxruntime Gemm, Y = X·B + c, in chunks of rows; the standardisation is folded
 * into B and c, so raw features go in without a standardised copy. Plain JavaScript loops manage
 * about a tenth of the throughput (bench/score-throughput.ts).
 */
const graph = {
  name: 'winnow_affine_rows',
  input: [tensorValue('X', FLOAT, ['n', 'D']), tensorValue('B', FLOAT, ['D', 'M']), tensorValue('c', FLOAT, ['M'])],
  output: [tensorValue('Y', FLOAT, ['n', 'M'])],
  node: [node('Gemm', ['X', 'B', 'c'], ['Y'])],
};
let session: Promise<ort.InferenceSession> | undefined;

/** Bounds the n × M output block to 16 MB per call. */
export const CHUNK_ELEMENTS = 4_000_000;

/** A stack of M affine maps on standardised features, folded onto raw features: y = x·B + c. */
export interface AffineStack {
  /** D × M. */
  readonly B: Float32Array;
  /** M. */
  readonly c: Float32Array;
  readonly columns: number;
}

/**
 * Folds the standardisation into rows (w; b), each D+1 long, of the given matrices (row-major, the
 * last column the bias, as in SoftmaxHead): w·((x − μ)/σ) + b = x·(w/σ) + (b − w·(μ/σ)).
 */
export function affineStack(standardizer: Standardizer, matrices: readonly ArrayLike<number>[]): AffineStack {
  const D = standardizer.mean.length;
  const D1 = D + 1;
  const columns = matrices.reduce((m, w) => m + w.length / D1, 0);
  const B = new Float32Array(D * columns);
  const c = new Float32Array(columns);
  let column = 0;
  for (const W of matrices)
    for (let row = 0; row < W.length / D1; row++, column++) {
      let bias = W[row * D1 + D] as number;
      for (let d = 0; d < D; d++) {
        const w = (W[row * D1 + d] as number) / (standardizer.scale[d] as number);
        B[d * columns + column] = w;
        bias -= w * (standardizer.mean[d] as number);
      }
      c[column] = bias;
    }
  return { B, c, columns };
}

/** Calls visit(start, rows, Y) for consecutive chunks of x's rows, Y = rows × columns of x·B + c. */
export async function forEachAffineChunk(
  x: Float32Array,
  stack: AffineStack,
  visit: (start: number, rows: number, Y: Float32Array) => void,
): Promise<void> {
  const M = stack.columns;
  const D = stack.B.length / M;
  const n = x.length / D;
  if (n === 0 || M === 0) return;
  session ??= openGraph(graph);
  const s = await session;
  const B = new ort.Tensor('float32', stack.B, [D, M]);
  const c = new ort.Tensor('float32', stack.c, [M]);
  const chunk = Math.max(1, Math.floor(CHUNK_ELEMENTS / M));
  for (let start = 0; start < n; start += chunk) {
    const rows = Math.min(chunk, n - start);
    const X = new ort.Tensor('float32', x.subarray(start * D, (start + rows) * D), [rows, D]);
    const result = await s.run({ X, B, c });
    visit(start, rows, result.Y!.data as Float32Array);
  }
}
