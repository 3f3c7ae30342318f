import { scoreKindInfo } from './scoreKinds.ts';

/**
 * The `bins + 1` edges of `bins` equal bins over [min, max] of a kind's values, clamped to the
 * kind's range when the registry gives it one (no bin lies outside what the kind can take).
 * All-equal values get bins around them a tenth of max(1, |value|) wide (moved inside the range if
 * they would stick out); no values at all get bins over the kind's range, or [0, 1].
 */
export function binEdges(kind: string, values: Iterable<number>, bins = 20): number[] {
  const range = scoreKindInfo(kind)?.range;
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  let low = min === Infinity ? (range?.[0] ?? 0) : Math.max(min, range?.[0] ?? -Infinity);
  let high = max === -Infinity ? (range?.[1] ?? 1) : Math.min(max, range?.[1] ?? Infinity);
  if (!(high > low)) {
    const width = Math.max(1, Math.abs(low)) / 10;
    low -= width / 2;
    if (range) low = Math.min(Math.max(low, range[0]), range[1] - width);
    high = low + width;
  }
  return Array.from({ length: bins + 1 }, (_, k) => (k === bins ? high : low + ((high - low) * k) / bins));
}

/**
 * How many values fall in each bin of `edges`: bin k holds [edges[k], edges[k+1]), the last one
 * also its upper edge; values outside the edges count in the end bins.
 */
export function countInBins(edges: readonly number[], values: Iterable<number>): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const value of values) {
    // The last edge at or below the value, by bisection.
    let lo = 0;
    let hi = counts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (edges[mid]! <= value) lo = mid;
      else hi = mid - 1;
    }
    counts[lo]! += 1;
  }
  return counts;
}
