import { type AffineStack, affineStack } from './affineProducts.ts';
import type { CrossFittedHead } from './headFit.ts';
import { NEIGHBOUR_DEFAULTS } from './learnDefaults.ts';
import { forEachSmallestColumns } from './smallestColumns.ts';
import type { FeatureSet } from './softmaxHead.ts';

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
 * Both selections (the k nearest of the pseudo-label's real images, and of all real images) run
 * with the n × V inner products in one onnxruntime graph (smallestColumns.ts).
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

/**
 * The fit's real images (standardised) as the stack of rows (−2·r̃_v; ‖r̃_v‖²): x·B + c is then the
 * ranking key ‖r̃_v‖² − 2·x̃·r̃_v, x̃ standardised, and the squared distance is ‖x̃‖² + key.
 * Columns keep the real images' order, so ties go to the lower index, as in a plain sort.
 */
function realStack(fit: CrossFittedHead): AffineStack {
  const { real, dim: D } = fit;
  const V = real.labels.length;
  const rows = new Float32Array(V * (D + 1));
  for (let v = 0; v < V; v++) {
    let square = 0;
    for (let d = 0; d < D; d++) {
      const r = real.features[v * D + d] as number;
      rows[v * (D + 1) + d] = -2 * r;
      square += r * r;
    }
    rows[v * (D + 1) + D] = square;
  }
  return affineStack(fit.standardizer, [rows]);
}

/** ‖x̃_i‖² of row i of x (raw features), x̃ standardised. */
function standardisedSquare(fit: CrossFittedHead, x: Float32Array, i: number): number {
  const { mean, scale } = fit.standardizer;
  const D = fit.dim;
  let square = 0;
  for (let d = 0; d < D; d++) {
    const z = ((x[i * D + d] as number) - (mean[d] as number)) / (scale[d] as number);
    square += z * z;
  }
  return square;
}

function int32(labels: Int32Array | Uint8Array): Int32Array {
  return labels instanceof Int32Array ? labels : Int32Array.from(labels);
}

/** The within-class typical distances of the fit's real images. */
export async function neighbourReference(
  fit: CrossFittedHead,
  k: number = NEIGHBOUR_DEFAULTS.k,
): Promise<NeighbourReference> {
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be a positive integer, not ${k}`);
  const { real, classes: C, dim: D } = fit;
  const labels = int32(real.labels);
  const perClass: number[][] = Array.from({ length: C }, () => []);
  // Raw copies of the real features: the stack takes raw rows.
  const { mean, scale } = fit.standardizer;
  const raw = Float32Array.from(real.features, (r, j) => r * (scale[j % D] as number) + (mean[j % D] as number));
  // k + 1 within the class, then leave each image's own column out: the k nearest of the others.
  await forEachSmallestColumns(raw, realStack(fit), labels, C, labels, k + 1, (start, rows, K, _all, own) => {
    for (let r = 0; r < rows; r++) {
      const v = start + r;
      const square = standardisedSquare(fit, raw, v);
      let sum = 0;
      let count = 0;
      for (let j = r * K; j < (r + 1) * K && count < k; j++) {
        const key = own.keys[j] as number;
        if (key === Infinity) break;
        if (own.columns[j] === v) continue;
        sum += distance(square, key);
        count++;
      }
      if (count > 0) perClass[labels[v] as number]!.push(sum / count);
    }
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
  const { k, typical } = reference;
  const realLabels = int32(fit.real.labels);
  const labels = int32(set.labels);
  const n = labels.length;
  const realism = new Float32Array(n);
  const labelVote = new Float32Array(n);
  const { features } = set;
  await forEachSmallestColumns(
    features,
    realStack(fit),
    realLabels,
    fit.classes,
    labels,
    k,
    (start, rows, K, all, own) => {
      for (let r = 0; r < rows; r++) {
        const i = start + r;
        const y = labels[i] as number;
        const square = standardisedSquare(fit, features, i);
        let sum = 0;
        let count = 0;
        for (let j = r * K; j < (r + 1) * K; j++) {
          const key = own.keys[j] as number;
          if (key === Infinity) break;
          sum += distance(square, key);
          count++;
        }
        realism[i] = count === 0 ? Number.NaN : Math.log((typical[y] as number) / Math.max(sum / count, 1e-12));
        let votes = 0;
        for (let j = r * K; j < (r + 1) * K; j++) if (realLabels[all.columns[j] as number] === y) votes++;
        labelVote[i] = votes / K;
      }
    },
  );
  return { realism, labelVote };
}

/** Euclidean distance from a row's squared norm and a ranking key (clamped: rounding can make it < 0). */
function distance(square: number, key: number): number {
  return Math.sqrt(Math.max(0, square + key));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
