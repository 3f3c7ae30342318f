import type { FeatureSet } from './softmaxHead.ts';

/**
 * Per-dimension standardisation x ↦ (x − mean) / scale, fitted on the real features and stored
 * with the head, so that training and every later score apply the same transform. A constant
 * dimension keeps scale 1 (it carries no information and must not blow up).
 */
export interface Standardizer {
  readonly mean: Float32Array;
  readonly scale: Float32Array;
}

export function fitStandardizer(features: Float32Array, dim: number): Standardizer {
  const n = features.length / dim;
  const mean = new Float64Array(dim);
  const square = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) mean[d]! += features[i * dim + d] as number;
  for (let d = 0; d < dim; d++) mean[d] = n === 0 ? 0 : (mean[d] as number) / n;
  for (let i = 0; i < n; i++)
    for (let d = 0; d < dim; d++) {
      const x = (features[i * dim + d] as number) - (mean[d] as number);
      square[d]! += x * x;
    }
  const scale = Float32Array.from(square, (s) => {
    const sd = n === 0 ? 0 : Math.sqrt(s / n);
    return sd > 1e-8 ? sd : 1;
  });
  return { mean: Float32Array.from(mean), scale };
}

/** The standardised copy of features (flat n × dim). */
export function standardize(s: Standardizer, features: Float32Array): Float32Array {
  const dim = s.mean.length;
  const out = new Float32Array(features.length);
  for (let k = 0; k < features.length; k++) {
    const d = k % dim;
    out[k] = ((features[k] as number) - (s.mean[d] as number)) / (s.scale[d] as number);
  }
  return out;
}

/** Rows a chunk of forEachStandardizedChunk holds: 8 MB of 128-d features. */
export const STANDARDIZE_CHUNK_ROWS = 16_384;

/**
 * Visits `set` standardised a chunk of rows at a time (its first row's index, the chunk), so that
 * scoring a large set holds one chunk's copy, never a second n × dim matrix (issue #14: 512 MB at
 * 1,000,000 × 128).
 */
export async function forEachStandardizedChunk(
  s: Standardizer,
  set: FeatureSet,
  visit: (start: number, chunk: FeatureSet) => Promise<void>,
  rows: number = STANDARDIZE_CHUNK_ROWS,
): Promise<void> {
  const dim = s.mean.length;
  for (let start = 0; start < set.labels.length; start += rows) {
    const end = Math.min(set.labels.length, start + rows);
    await visit(start, {
      features: standardize(s, set.features.subarray(start * dim, end * dim)),
      labels: set.labels.subarray(start, end),
    });
  }
}
