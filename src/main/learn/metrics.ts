/** Area under the ROC curve for "a low score flags a bad item" (Mann–Whitney U, ties counted half). NaN without both kinds. */
export function auroc(scores: ArrayLike<number>, bad: readonly boolean[]): number {
  const order = Array.from({ length: bad.length }, (_, i) => i).sort(
    (a, b) => (scores[a] as number) - (scores[b] as number),
  );
  let rankSumGood = 0;
  let nGood = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (bad[order[k]!]) continue;
      rankSumGood += rank;
      nGood++;
    }
    i = j + 1;
  }
  const nBad = bad.length - nGood;
  if (nBad === 0 || nGood === 0) return NaN;
  // The probability that a good item scores above a bad one.
  return (rankSumGood - (nGood * (nGood + 1)) / 2) / (nGood * nBad);
}

/** Of the k lowest scores, with k = the number of bad items, the share that is bad. */
export function precisionAtK(scores: ArrayLike<number>, bad: readonly boolean[]): number {
  const k = bad.filter(Boolean).length;
  const order = Array.from({ length: bad.length }, (_, i) => i).sort(
    (a, b) => (scores[a] as number) - (scores[b] as number),
  );
  return order.slice(0, k).filter((i) => bad[i]).length / Math.max(1, k);
}

/** The Wilson score interval of a proportion at 95% (z = 1.96): honest at small n and near 0 or 1. */
export function wilsonInterval(successes: number, n: number, z = 1.96): { low: number; high: number } {
  if (n === 0) return { low: 0, high: 1 };
  const p = successes / n;
  const denominator = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denominator;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}
