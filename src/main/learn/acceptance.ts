import { seededUniform } from '../models/random.ts';

import type { AcceptanceRule, ScoreRule } from '../../shared/runSettings.ts';
import { type FeatureSet, hitRate, hits, type SoftmaxHead } from './softmaxHead.ts';

export type { AcceptanceRule, ScoreRule };

/**
 * How automatic accept/reject decisions are made from a score ("higher = keep"); the rules' shapes
 * and defaults live in src/shared/runSettings.ts. A curator's override is stored apart from these
 * decisions, so it always wins and no re-score touches it.
 * - threshold: keep scores ≥ threshold (BSGAL rejects cosine contributions below −0.05);
 * - percentile: keep the top `keep` fraction of the last `window` scores seen;
 * - top-k: keep the k best of each class among the instances decided together;
 * - class-percentile: keep the top `keep` fraction of each class among the instances decided
 *   together: a class's scores are only compared with each other, so no class is accepted or
 *   rejected wholesale (which a global rule on cosine contribution does in the loop, round after
 *   round: bench/loop-filters.ts);
 * - confident: keep unless confident learning flags the label (scores: the `confident_margin`
 *   kind, negative exactly then; decidingKind in runSettings.ts picks it): no fixed share or number,
 *   each class's bar is set by how confident the head is on its real images;
 * - all: keep every instance (the "all synthetic" baseline);
 * - random: keep a random `keep` fraction, ignoring scores (the random baseline);
 * - validated: each of VALIDATED_CANDIDATES decides, a head is trained on each one's decisions, and
 *   the validation split chooses among them (chooseOnValidation below: the most preferred within one
 *   SE of the best; the loop and `winnow score` train the heads).
 */

/** Scores seen so far, for the percentile rule; kept in checkpoints so a resumed run decides alike. */
export type ScoreWindow = number[];

/**
 * How many of n a share `keep` keeps: keep·n rounded up, but not past a whole number that float
 * rounding overshot (0.55 × 100 = 55.00000000000001 keeps 55, not 56).
 */
function keptCount(keep: number, n: number): number {
  return Math.ceil(keep * n * (1 - 1e-12));
}

/** Highest first; a NaN (a score that could not be computed) is never ranked: callers leave it out. */
const highestFirst = (a: number, b: number) => (a < b ? 1 : a > b ? -1 : 0);

/**
 * A score that is NaN (realism for a class with fewer than two real images, say) is not known: its
 * instance is rejected by every rule that reads scores, and is never ranked or kept in a window.
 */
export function decide(
  rule: ScoreRule,
  scores: Float32Array,
  labels: ArrayLike<number>,
  window: ScoreWindow = [],
): { accepted: boolean[]; window: ScoreWindow } {
  switch (rule.kind) {
    case 'threshold':
      return { accepted: Array.from(scores, (s) => s >= rule.threshold), window };
    case 'confident':
      return { accepted: Array.from(scores, (s) => s >= 0), window };
    case 'all':
      return { accepted: Array.from(scores, () => true), window };
    case 'random': {
      const uniform = seededUniform(rule.seed);
      return { accepted: Array.from(scores, () => uniform() < rule.keep), window };
    }
    case 'percentile': {
      const next = [...window, ...Array.from(scores).filter((s) => !Number.isNaN(s))].slice(-rule.window);
      const sorted = [...next].sort(highestFirst);
      const cut = sorted[Math.max(0, keptCount(rule.keep, sorted.length) - 1)] ?? -Infinity;
      return { accepted: Array.from(scores, (s) => s >= cut), window: next };
    }
    case 'top-k':
    case 'class-percentile': {
      const accepted = new Array<boolean>(scores.length).fill(false);
      for (const members of indicesByLabel(labels).values()) {
        const scored = members.filter((i) => !Number.isNaN(scores[i]));
        scored.sort((a, b) => highestFirst(scores[a] as number, scores[b] as number));
        const k = rule.kind === 'top-k' ? rule.k : keptCount(rule.keep, scored.length);
        for (const i of scored.slice(0, k)) accepted[i] = true;
      }
      return { accepted, window };
    }
  }
}

/** The positions of each label's items: label → indices in input order. */
export function indicesByLabel(labels: ArrayLike<number>): Map<number, number[]> {
  const byLabel = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const members = byLabel.get(labels[i] as number) ?? [];
    members.push(i);
    byLabel.set(labels[i] as number, members);
  }
  return byLabel;
}

/** One candidate rule's decisions and the head trained on them. */
export interface RuleTrial<R extends ScoreRule = ScoreRule> {
  readonly rule: R;
  readonly accepted: boolean[];
  readonly head: SoftmaxHead;
}

/**
 * The validated rule's choice among trials listed in order of preference (the default first): the
 * earliest whose validation accuracy is within one standard error of the best's, the one-SE rule of
 * model selection (Breiman et al., 1984; Hastie et al., ESL §7.10). The candidates' heads differ
 * little, about as much as the split's noise, and the plain maximum followed that noise away from
 * the default (bench/results/loop-filters-validated-plain.md). The SE is the paired difference's,
 * image by image: both heads answer the same images.
 *
 * `held`, the trial a run chose the round before, comes first: a run keeps its rule while it stays
 * within one SE of the best, so a choice is changed by evidence, not by one split's noise (the
 * switches that cost 1.3 and 2.5 points in bench/results/loop-filters-wrong40-seeds4-6.md).
 */
export function chooseOnValidation<T extends RuleTrial>(
  trials: readonly T[],
  validation: FeatureSet,
  held?: number,
): { chosen: T; accuracies: number[] } {
  if (trials.length === 0) throw new Error('chooseOnValidation needs at least one trial.');
  const hit = trials.map((t) => hits(t.head, validation));
  const accuracies = hit.map(hitRate);
  let best = 0;
  for (let k = 1; k < trials.length; k++) if ((accuracies[k] as number) > (accuracies[best] as number)) best = k;
  const withinOneSe = (k: number) =>
    (accuracies[best] as number) - (accuracies[k] as number) <= pairedSe(hit[best]!, hit[k]!);
  const order = [...trials.keys()];
  if (held !== undefined) order.unshift(...order.splice(held, 1));
  const chosen = order.find(withinOneSe)!;
  return { chosen: trials[chosen]!, accuracies };
}

/** The standard error of the mean of a − b, row by row (0 with fewer than two rows). */
function pairedSe(a: Uint8Array, b: Uint8Array): number {
  const n = a.length;
  if (n < 2) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (a[i] as number) - (b[i] as number);
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += ((a[i] as number) - (b[i] as number) - mean) ** 2;
  return Math.sqrt(squares / (n - 1) / n);
}
