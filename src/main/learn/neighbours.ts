import { type AffineStack, affineStack, forEachAffineChunk } from './affineProducts.ts';
import type { CrossFittedHead } from './headFit.ts';
import { NEIGHBOUR_DEFAULTS } from './learnDefaults.ts';
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
 * The n × V inner products run as one Gemm (affineProducts.ts); selection is a linear scan per row.
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
 * The fit's real images ordered by class, so that a class's images are the contiguous columns
 * [first[c], first[c + 1]) of a distance row, and their inner-product stack.
 */
interface RealColumns {
  readonly order: Int32Array;
  readonly labels: Int32Array;
  readonly first: Int32Array;
  readonly stack: AffineStack;
}

function realColumns(fit: CrossFittedHead): RealColumns {
  const { real, classes: C, dim: D } = fit;
  const V = real.labels.length;
  const order = Int32Array.from({ length: V }, (_, v) => v).sort(
    (a, b) => (real.labels[a] as number) - (real.labels[b] as number) || a - b,
  );
  const labels = Int32Array.from(order, (v) => real.labels[v] as number);
  const first = new Int32Array(C + 1);
  for (const y of labels) first[y + 1]! += 1;
  for (let c = 0; c < C; c++) first[c + 1]! += first[c] as number;
  // Rows (−2·r̃_v; ‖r̃_v‖²): x·B + c is then the ranking key ‖r̃_v‖² − 2·x̃·r̃_v, x̃ standardised.
  const rows = new Float32Array(V * (D + 1));
  order.forEach((v, column) => {
    let square = 0;
    for (let d = 0; d < D; d++) {
      const r = real.features[v * D + d] as number;
      rows[column * (D + 1) + d] = -2 * r;
      square += r * r;
    }
    rows[column * (D + 1) + D] = square;
  });
  return { order, labels, first, stack: affineStack(fit.standardizer, [rows]) };
}

/**
 * Calls visit(i, square, keys, offset): the squared distance from row i of x (raw features) to the
 * real image of column v is square + keys[offset + v] (columns in the class-sorted order of
 * `columns`); ranking by keys alone needs no per-row pass to form the distances.
 */
async function forEachDistanceRow(
  fit: CrossFittedHead,
  columns: RealColumns,
  x: Float32Array,
  visit: (i: number, square: number, keys: Float32Array, offset: number) => void,
): Promise<void> {
  const { mean, scale } = fit.standardizer;
  const D = fit.dim;
  const V = columns.labels.length;
  await forEachAffineChunk(x, columns.stack, (start, rows, Y) => {
    for (let r = 0; r < rows; r++) {
      const o = (start + r) * D;
      let square = 0;
      for (let d = 0; d < D; d++) square += (((x[o + d] as number) - (mean[d] as number)) / (scale[d] as number)) ** 2;
      visit(start + r, square, Y, r * V);
    }
  });
}

/** The within-class typical distances of the fit's real images. */
export async function neighbourReference(
  fit: CrossFittedHead,
  k: number = NEIGHBOUR_DEFAULTS.k,
): Promise<NeighbourReference> {
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be a positive integer, not ${k}`);
  const { real, classes: C, dim: D } = fit;
  const columns = realColumns(fit);
  const perClass: number[][] = Array.from({ length: C }, () => []);
  // Raw copies of the real features in column order, so each row can leave out its own column.
  const { mean, scale } = fit.standardizer;
  const raw = new Float32Array(real.features.length);
  columns.order.forEach((v, column) => {
    for (let d = 0; d < D; d++)
      raw[column * D + d] = (real.features[v * D + d] as number) * (scale[d] as number) + (mean[d] as number);
  });
  const top = new TopK(k);
  await forEachDistanceRow(fit, columns, raw, (column, square, keys, offset) => {
    const y = columns.labels[column] as number;
    top.scan(keys, offset, columns.first[y] as number, columns.first[y + 1] as number, column);
    if (top.size > 0) perClass[y]!.push(top.meanDistance(square));
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
  const columns = realColumns(fit);
  const V = columns.labels.length;
  const n = set.labels.length;
  const realism = new Float32Array(n);
  const labelVote = new Float32Array(n);
  const top = new TopK(k);
  await forEachDistanceRow(fit, columns, set.features, (i, square, keys, offset) => {
    const y = set.labels[i] as number;
    top.scan(keys, offset, columns.first[y] as number, columns.first[y + 1] as number, -1);
    realism[i] =
      top.size === 0 ? Number.NaN : Math.log((typical[y] as number) / Math.max(top.meanDistance(square), 1e-12));
    top.scan(keys, offset, 0, V, -1);
    let votes = 0;
    for (let j = 0; j < top.size; j++) if (columns.labels[top.columns[j] as number] === y) votes++;
    labelVote[i] = top.size === 0 ? 0 : votes / top.size;
  });
  return { realism, labelVote };
}

/**
 * The k smallest keys of a row segment, by insertion into a sorted buffer (k is small, and after
 * the first few columns almost every key fails the one comparison with the current k-th).
 */
class TopK {
  readonly columns: Int32Array;
  readonly keys: Float64Array;
  readonly k: number;
  size = 0;

  constructor(k: number) {
    this.k = k;
    this.columns = new Int32Array(k);
    this.keys = new Float64Array(k);
  }

  /** Columns [from, to) of keys[offset + ·], skipping column `skip`; ties keep the lower column. */
  scan(keys: Float32Array, offset: number, from: number, to: number, skip: number): void {
    const k = this.k;
    let size = 0;
    let worst = Infinity;
    for (let v = from; v < to; v++) {
      const key = keys[offset + v] as number;
      if (size === k && key >= worst) continue;
      if (v === skip) continue;
      let j = size === k ? k - 1 : size++;
      while (j > 0 && (this.keys[j - 1] as number) > key) {
        this.keys[j] = this.keys[j - 1] as number;
        this.columns[j] = this.columns[j - 1] as number;
        j--;
      }
      this.keys[j] = key;
      this.columns[j] = v;
      if (size === k) worst = this.keys[k - 1] as number;
    }
    this.size = size;
  }

  /** Mean Euclidean distance of the kept columns, given the row's own squared norm. */
  meanDistance(square: number): number {
    let s = 0;
    for (let j = 0; j < this.size; j++) s += Math.sqrt(Math.max(0, square + (this.keys[j] as number)));
    return s / this.size;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
