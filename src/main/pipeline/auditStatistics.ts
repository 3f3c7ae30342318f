import { auroc, wilsonInterval } from '../learn/metrics.ts';
import { seededUniform } from '../models/random.ts';

/** One stratum of an audit: how many instances it holds, and the verdicts on a sample of them. */
export interface Stratum {
  readonly size: number;
  readonly audited: number;
  readonly correct: number;
}

export interface StratifiedResult {
  /** Σ W_h p_h over the judged strata, W_h their share of the judged strata's instances; null when none is judged. */
  readonly accuracy: number | null;
  /** Its standard error (with the finite-population correction); null unless every judged stratum has 2+ verdicts. */
  readonly standardError: number | null;
  /** 95% interval: Wilson's at the design's effective sample size (null with the standard error). */
  readonly low: number | null;
  readonly high: number | null;
  /** The share of all instances that lies in judged strata: below 1, the estimate speaks for that share only. */
  readonly coveredShare: number;
}

const Z95 = 1.96;

/**
 * The stratified estimator of a proportion (Cochran, Sampling Techniques, ch. 5): each stratum's
 * sample proportion weighted by the stratum's size, so a small class judged as often as a large
 * one counts for what it holds, not for as much. Var = Σ W_h² (1 − n_h/N_h) p_h(1 − p_h)/(n_h − 1).
 * The interval is Wilson's at the effective sample size p(1 − p)/Var (Kish), which keeps it inside
 * [0, 1] and, when every sampled item agrees (Var = 0), falls back to the total sample size.
 */
export function stratifiedEstimate(strata: readonly Stratum[]): StratifiedResult {
  const total = strata.reduce((n, s) => n + s.size, 0);
  const judged = strata.filter((s) => s.audited > 0 && s.size > 0);
  const judgedSize = judged.reduce((n, s) => n + s.size, 0);
  const coveredShare = total === 0 ? 0 : judgedSize / total;
  if (judged.length === 0) return { accuracy: null, standardError: null, low: null, high: null, coveredShare };
  const weight = (s: Stratum) => s.size / judgedSize;
  const share = (s: Stratum) => s.correct / s.audited;
  const accuracy = judged.reduce((sum, s) => sum + weight(s) * share(s), 0);
  if (judged.some((s) => s.audited < 2)) return { accuracy, standardError: null, low: null, high: null, coveredShare };
  const variance = judged.reduce((sum, s) => {
    const finite = 1 - Math.min(1, s.audited / s.size);
    return sum + weight(s) ** 2 * finite * ((share(s) * (1 - share(s))) / (s.audited - 1));
  }, 0);
  const audited = judged.reduce((n, s) => n + s.audited, 0);
  const effective = variance > 0 ? (accuracy * (1 - accuracy)) / variance : audited;
  const { low, high } = wilsonInterval(accuracy * effective, effective, Z95);
  return { accuracy, standardError: Math.sqrt(variance), low, high, coveredShare };
}

export interface BootstrapAuroc {
  readonly auroc: number | null;
  /** The 2.5th and 97.5th percentiles of the resampled AUROCs (null without both kinds of verdict). */
  readonly low: number | null;
  readonly high: number | null;
  readonly resamples: number;
}

/**
 * The AUROC of `scores` for flagging `bad` items, with a percentile bootstrap interval: `resamples`
 * resamples of the items with replacement, drawn from a seeded stream, so the same verdicts and
 * seed give the same interval. Resamples that hold only one kind of verdict have no AUROC and are
 * left out of the percentiles.
 */
export function bootstrapAuroc(
  scores: readonly number[],
  bad: readonly boolean[],
  seed: number,
  resamples = 1000,
): BootstrapAuroc {
  const area = auroc(scores, bad);
  if (Number.isNaN(area)) return { auroc: null, low: null, high: null, resamples };
  const random = seededUniform(seed);
  const n = scores.length;
  const areas: number[] = [];
  const drawnScores = new Array<number>(n);
  const drawnBad = new Array<boolean>(n);
  for (let r = 0; r < resamples; r++) {
    for (let k = 0; k < n; k++) {
      const pick = Math.floor(random() * n);
      drawnScores[k] = scores[pick] as number;
      drawnBad[k] = bad[pick] as boolean;
    }
    const a = auroc(drawnScores, drawnBad);
    if (!Number.isNaN(a)) areas.push(a);
  }
  areas.sort((a, b) => a - b);
  return { auroc: area, low: quantile(areas, 0.025), high: quantile(areas, 0.975), resamples };
}

/** The q-quantile of sorted values, linearly interpolated (R's type 7). */
function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const at = q * (sorted.length - 1);
  const below = Math.floor(at);
  const above = Math.min(sorted.length - 1, below + 1);
  return (sorted[below] as number) + (at - below) * ((sorted[above] as number) - (sorted[below] as number));
}
