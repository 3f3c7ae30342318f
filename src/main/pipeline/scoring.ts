import { meanGradient } from '../learn/contribution.ts';
import { contributions } from '../learn/contributionGraph.ts';
import { labelQuality, prototypeSimilarity } from '../learn/labelQuality.ts';
import { lossEstimates } from '../learn/lossEstimate.ts';
import type { FeatureSet, SoftmaxHead } from '../learn/softmaxHead.ts';
import type { HeadScoreKind } from '../../shared/scoreKinds.ts';

/** What the scores of synthetic instances are measured against. */
export interface ScoringReference {
  /** The (cached) real-data gradient G of the first-order scores. */
  readonly gradient: Float32Array;
  /** The real samples G comes from; the loss estimate takes its step against them. */
  readonly real: FeatureSet;
  /** Class means of the real training features (the prototype baseline). */
  readonly prototypes: Float32Array;
  /** The loss estimate's step size η (default DEFAULT_LOOKAHEAD_STEP). */
  readonly lookaheadStep?: number;
}

/** Every score kind of every instance of `set` under `head`. */
export async function scoreAll(
  head: SoftmaxHead,
  reference: ScoringReference,
  set: FeatureSet,
): Promise<Record<HeadScoreKind, Float32Array>> {
  const quality = labelQuality(head, set);
  const { cosine, inner } = await contributions(head, reference.gradient, set);
  return {
    contribution: cosine,
    contribution_inner: inner,
    contribution_lookahead: await lossEstimates(head, reference.real, set, reference.lookaheadStep),
    self_confidence: quality.selfConfidence,
    normalized_margin: quality.normalizedMargin,
    small_loss: quality.negativeLoss,
    prototype: prototypeSimilarity(reference.prototypes, set, head.dim),
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
