import type { FeatureSet } from '../../src/main/learn/softmaxHead.ts';
import { fillGaussian } from '../../src/main/models/random.ts';

/**
 * Gaussian class clusters on an offset, unevenly scaled feature space (so standardisation does
 * something): class c's centre is `separation` times a fixed random direction.
 */
export function clusters(n: number, classes: number, dim: number, seed: number, separation = 1.5): FeatureSet {
  const centres = fillGaussian(new Float32Array(classes * dim), 1234);
  const features = fillGaussian(new Float32Array(n * dim), seed);
  const labels = Int32Array.from({ length: n }, (_, i) => i % classes);
  for (let i = 0; i < n; i++)
    for (let d = 0; d < dim; d++) {
      const x = (features[i * dim + d] as number) + separation * (centres[(labels[i] as number) * dim + d] as number);
      features[i * dim + d] = 3 + (d + 1) * x;
    }
  return { features, labels };
}

/** Mean (or weighted) cross-entropy of rows under W (C × (D+1), float64), straight from the definition. */
export function crossEntropy(
  W: ArrayLike<number>,
  features: ArrayLike<number>,
  labels: ArrayLike<number>,
  C: number,
  D: number,
  weights?: ArrayLike<number>,
): number {
  let total = 0;
  let weightSum = 0;
  for (let i = 0; i < labels.length; i++) {
    const z = Array.from({ length: C }, (_, c) => {
      let s = W[c * (D + 1) + D] as number;
      for (let d = 0; d < D; d++) s += (W[c * (D + 1) + d] as number) * (features[i * D + d] as number);
      return s;
    });
    const max = Math.max(...z);
    const lse = max + Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0));
    const w = weights === undefined ? 1 : (weights[i] as number);
    total += w * (lse - (z[labels[i] as number] as number));
    weightSum += w;
  }
  return total / weightSum;
}

/** 1 / (classes present · n_y): every class weighs the same, the weights sum to 1. */
export function balanced(labels: ArrayLike<number>): number[] {
  const counts = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) counts.set(labels[i] as number, (counts.get(labels[i] as number) ?? 0) + 1);
  return Array.from(
    { length: labels.length },
    (_, i) => 1 / (counts.size * (counts.get(labels[i] as number) as number)),
  );
}
