import ort from 'onnxruntime-node';
import type { CrossFittedHead } from './headFit.ts';
import { NEIGHBOUR_DEFAULTS } from './learnDefaults.ts';
import { FLOAT, node, openGraph, tensorValue } from './onnxGraph.ts';
import type { FeatureSet } from './softmaxHead.ts';
import { standardize } from './standardizer.ts';

/**
 * Scores from the k nearest real images in standardised feature space (Euclidean distance), the
 * same space the head is trained in (issue #11, 3):
 *
 * - realism: how far a generation is from anything real of its class, relative to how far that
 *   class's real images are from each other. With r_i the mean distance from instance i to its k
 *   nearest real images of its pseudo-label y_i, and t_y the median over y's real images of the
 *   same quantity among themselves (each leaving itself out),
 *     realism_i = log(t_{y_i} / r_i):
 *   0 is as close as a typical real image of the class, negative is farther (noise textures, other
 *   domains), positive is closer. A local-outlier-factor style density ratio. Higher = keep.
 * - label vote: the share of the k nearest real images (of any class) that carry the instance's
 *   pseudo-label, in [0, 1]; a label-quality score that needs no head. Higher = keep.
 *
 * The n × V distance products run in onnxruntime (MatMul); selection is a linear scan per row.
 */

export interface NeighbourReference {
  readonly k: number;
  /** Per class, the typical within-class k-NN distance t_c (NaN for a class without two real images). */
  readonly typical: Float64Array;
}

export interface NeighbourScores {
  readonly realism: Float32Array;
  readonly labelVote: Float32Array;
}

const graph = {
  name: 'winnow_inner_products',
  input: [tensorValue('X', FLOAT, ['n', 'D']), tensorValue('RT', FLOAT, ['D', 'V'])],
  output: [tensorValue('Y', FLOAT, ['n', 'V'])],
  node: [node('MatMul', ['X', 'RT'], ['Y'])],
};
let session: Promise<ort.InferenceSession> | undefined;

/** Bounds the n × V block of inner products to 16 MB per call. */
const CHUNK_ELEMENTS = 4_000_000;

/** The within-class typical distances of the fit's real images. */
export async function neighbourReference(
  fit: CrossFittedHead,
  k: number = NEIGHBOUR_DEFAULTS.k,
): Promise<NeighbourReference> {
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be a positive integer, not ${k}`);
  const { real, classes: C } = fit;
  const perClass: number[][] = Array.from({ length: C }, () => []);
  await forEachDistanceRow(fit, real.features, (i, row) => {
    const y = real.labels[i] as number;
    const nearest = smallest(row, Math.min(k, countOf(real.labels, y) - 1), (v) => v !== i && real.labels[v] === y);
    if (nearest.length > 0) perClass[y]!.push(mean(nearest));
  });
  return { k, typical: Float64Array.from(perClass, (d) => (d.length === 0 ? Number.NaN : median(d))) };
}

/**
 * Realism and label vote of each instance of `set` (raw features, pseudo-labels). An instance of a
 * class without two real images gets realism NaN (nothing to compare it with).
 */
export async function neighbourScores(
  fit: CrossFittedHead,
  reference: NeighbourReference,
  set: FeatureSet,
): Promise<NeighbourScores> {
  const { real } = fit;
  const { k, typical } = reference;
  const n = set.labels.length;
  const realism = new Float32Array(n);
  const labelVote = new Float32Array(n);
  const x = standardize(fit.standardizer, set.features);
  const counts = Array.from({ length: fit.classes }, (_, c) => countOf(real.labels, c));
  await forEachDistanceRow(fit, x, (i, row) => {
    const y = set.labels[i] as number;
    const within = smallest(row, Math.min(k, counts[y] ?? 0), (v) => real.labels[v] === y);
    realism[i] = within.length === 0 ? Number.NaN : Math.log((typical[y] as number) / Math.max(mean(within), 1e-12));
    const nearest = smallestIndices(row, Math.min(k, real.labels.length));
    let votes = 0;
    for (const v of nearest) if (real.labels[v] === y) votes++;
    labelVote[i] = nearest.length === 0 ? 0 : votes / nearest.length;
  });
  return { realism, labelVote };
}

/** Calls `visit(i, distances from row i of x to every real image)` for every row of x (standardised). */
async function forEachDistanceRow(
  fit: CrossFittedHead,
  x: Float32Array,
  visit: (i: number, row: Float64Array) => void,
): Promise<void> {
  const D = fit.dim;
  const real = fit.real.features;
  const V = fit.real.labels.length;
  const n = x.length / D;
  if (n === 0 || V === 0) return;
  const RT = new Float32Array(D * V);
  const realSquares = new Float64Array(V);
  for (let v = 0; v < V; v++)
    for (let d = 0; d < D; d++) {
      const r = real[v * D + d] as number;
      RT[d * V + v] = r;
      realSquares[v]! += r * r;
    }
  session ??= openGraph(graph);
  const s = await session;
  const rt = new ort.Tensor('float32', RT, [D, V]);
  const chunk = Math.max(1, Math.floor(CHUNK_ELEMENTS / V));
  const row = new Float64Array(V);
  for (let start = 0; start < n; start += chunk) {
    const m = Math.min(chunk, n - start);
    const X = x.subarray(start * D, (start + m) * D);
    const result = await s.run({ X: new ort.Tensor('float32', X, [m, D]), RT: rt });
    const Y = result.Y!.data as Float32Array;
    for (let r = 0; r < m; r++) {
      let square = 0;
      for (let d = 0; d < D; d++) square += (X[r * D + d] as number) ** 2;
      for (let v = 0; v < V; v++)
        row[v] = Math.sqrt(Math.max(0, square + (realSquares[v] as number) - 2 * (Y[r * V + v] as number)));
      visit(start + r, row);
    }
  }
}

/** The k smallest values of row among the columns `keep` accepts (ascending). */
function smallest(row: Float64Array, k: number, keep: (v: number) => boolean): number[] {
  const best: number[] = [];
  if (k <= 0) return best;
  for (let v = 0; v < row.length; v++) {
    const d = row[v] as number;
    if (best.length === k && d >= (best[k - 1] as number)) continue;
    if (!keep(v)) continue;
    let j = best.length === k ? k - 1 : best.length;
    while (j > 0 && (best[j - 1] as number) > d) {
      best[j] = best[j - 1] as number;
      j--;
    }
    best[j] = d;
  }
  return best;
}

/** The columns of the k smallest values of row (ties: the lower column first). */
function smallestIndices(row: Float64Array, k: number): number[] {
  const best: number[] = [];
  if (k <= 0) return best;
  for (let v = 0; v < row.length; v++) {
    const d = row[v] as number;
    if (best.length === k && d >= (row[best[k - 1] as number] as number)) continue;
    let j = best.length === k ? k - 1 : best.length;
    while (j > 0 && (row[best[j - 1] as number] as number) > d) {
      best[j] = best[j - 1] as number;
      j--;
    }
    best[j] = v;
  }
  return best;
}

function countOf(labels: ArrayLike<number>, y: number): number {
  let count = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === y) count++;
  return count;
}

function mean(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
