/**
 * Splits a round's generation budget over classes: more for classes where the head is weakest on
 * validation data, scaled by each class's budget weight. Largest-remainder rounding, so the counts
 * add up to the total exactly.
 */
export function allocateBudget(
  total: number,
  validationAccuracy: readonly number[],
  weights: readonly number[],
): number[] {
  // Every class keeps a floor share so that a class the head already gets right is still refreshed.
  const need = validationAccuracy.map((a, c) => (1 - a + 0.1) * (weights[c] ?? 1));
  const sum = need.reduce((a, b) => a + b, 0);
  if (sum === 0) return need.map(() => 0);
  const exact = need.map((n) => (total * n) / sum);
  const counts = exact.map(Math.floor);
  const order = exact.map((e, c) => ({ c, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.c - b.c);
  const remainder = total - counts.reduce((a, b) => a + b, 0);
  for (let k = 0; k < remainder; k++) counts[order[k]!.c]! += 1;
  return counts;
}
