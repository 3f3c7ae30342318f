import { meanGradient } from '../learn/contribution.ts';
import { contributions } from '../learn/contributionGraph.ts';
import { labelQuality, prototypeSimilarity } from '../learn/labelQuality.ts';
import type { FeatureSet, SoftmaxHead } from '../learn/softmaxHead.ts';
import type { ScoreKindName } from '../../shared/scoreKinds.ts';

export async function scoreAll(
  head: SoftmaxHead,
  realGradient: Float32Array,
  prototypes: Float32Array,
  set: FeatureSet,
): Promise<Record<ScoreKindName, Float32Array>> {
  const quality = labelQuality(head, set);
  const { cosine, inner } = await contributions(head, realGradient, set);
  return {
    contribution: cosine,
    contribution_inner: inner,
    self_confidence: quality.selfConfidence,
    normalized_margin: quality.normalizedMargin,
    small_loss: quality.negativeLoss,
    prototype: prototypeSimilarity(prototypes, set, head.dim),
  };
}

/**
 * BSGAL's per-batch decision: the cosine between the real gradient and the mean gradient of a
 * whole batch, given to every member of the batch (consecutive groups of `batchSize`).
 */
export function batchContributions(
  head: SoftmaxHead,
  realGradient: Float32Array,
  set: FeatureSet,
  batchSize: number,
): Float32Array {
  const n = set.labels.length;
  const out = new Float32Array(n);
  const D = head.dim;
  let gNorm = 0;
  for (const v of realGradient) gNorm += v * v;
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const g = meanGradient(head, {
      features: set.features.subarray(start * D, end * D),
      labels: set.labels.subarray(start, end),
    });
    let dot = 0;
    let norm = 0;
    g.forEach((v, k) => {
      dot += v * (realGradient[k] as number);
      norm += v * v;
    });
    out.fill(norm === 0 || gNorm === 0 ? 0 : dot / Math.sqrt(norm * gNorm), start, end);
  }
  return out;
}
