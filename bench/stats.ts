// The summary statistics the benchmarks report, in one place so that every table reads the same way:
// mean ± standard error over seeds, quantiles of timings, and the summary of a run of frame times.
// Tested in test/bench/stats.test.ts.

export interface MeanSe {
  readonly mean: number;
  /** Standard error of the mean (sample standard deviation / √n); NaN for one value. */
  readonly se: number;
  readonly n: number;
}

export function meanSe(values: readonly number[]): MeanSe {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n < 2 ? NaN : values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, se: Math.sqrt(variance / n), n };
}

export const mean = (values: readonly number[]): number => meanSe(values).mean;

/**
 * `mean ± se` with `digits` decimals after multiplying by `scale` (100 for percentages). One seed has
 * no standard error, and the table says so ('–') rather than printing ± 0.
 */
export function formatMeanSe({ mean, se }: MeanSe, digits = 3, scale = 1): string {
  return `${(mean * scale).toFixed(digits)} ± ${Number.isNaN(se) ? '–' : (se * scale).toFixed(digits)}`;
}

/** A difference's mean ± SE, with '+' before a mean ≥ 0 so that gains and losses read alike. */
export function formatSignedMeanSe(m: MeanSe, digits = 3): string {
  return `${m.mean >= 0 ? '+' : ''}${formatMeanSe(m, digits)}`;
}

/** The q-quantile (0 ≤ q ≤ 1) by the lower nearest rank: the sorted values' element ⌊q·(n−1)⌋; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))] ?? NaN;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** A run of animation frames: how smooth it was. */
export interface FrameStats {
  readonly frames: number;
  readonly meanMs: number;
  readonly p95Ms: number;
  /** Frames longer than 50 ms, the length past which a scroll or a pan visibly stutters. */
  readonly over50: number;
  readonly seconds: number;
}

/** Summarises each frame's duration (ms) of a run that took `seconds` in all. */
export function frameStats(deltas: readonly number[], seconds: number): FrameStats {
  return {
    frames: deltas.length,
    meanMs: mean(deltas),
    p95Ms: quantile(deltas, 0.95),
    over50: deltas.filter((d) => d > 50).length,
    seconds,
  };
}

/** An item a filter decided on, and whether its label is wrong. */
export interface Decided {
  readonly accepted: boolean;
  readonly wrong: boolean;
}

/**
 * A filter's decisions against the truth, over items each accepted or not and each wrong or not:
 * the share accepted; of those accepted, the share wrong; of the wrong, the share rejected; of the
 * right, the share rejected (NaN where a group is empty).
 */
export function decisionShares(items: readonly Decided[]): {
  accepted: number;
  wrongAmongAccepted: number;
  wrongRejected: number;
  rightRejected: number;
} {
  const share = (of: readonly Decided[], p: (i: Decided) => boolean) => of.filter(p).length / of.length;
  const accepted = items.filter((i) => i.accepted);
  const rejected = (i: Decided) => !i.accepted;
  return {
    accepted: accepted.length / items.length,
    wrongAmongAccepted: share(accepted, (i) => i.wrong),
    wrongRejected: share(
      items.filter((i) => i.wrong),
      rejected,
    ),
    rightRejected: share(
      items.filter((i) => !i.wrong),
      rejected,
    ),
  };
}
