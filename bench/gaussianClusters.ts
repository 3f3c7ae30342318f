import type { FeatureSet } from '../src/main/learn/softmaxHead.ts';
import { fillGaussian } from '../src/main/models/random.ts';

/**
 * Synthetic features for the throughput benches: n standard-normal D-vectors, labelled i mod C, each
 * shifted by `separation` times its class's centre (the centres are fixed, seed 99).
 */
export function gaussianClusters(n: number, C: number, D: number, separation: number, seed: number): FeatureSet {
  const centres = fillGaussian(new Float32Array(C * D), 99);
  const features = fillGaussian(new Float32Array(n * D), seed);
  const labels = Int32Array.from({ length: n }, (_, i) => i % C);
  for (let i = 0; i < n; i++)
    for (let d = 0; d < D; d++) features[i * D + d]! += separation * centres[(i % C) * D + d]!;
  return { features, labels };
}
