import { predictProba, type SoftmaxHead } from './softmaxHead.ts';

/** GALOT's acquisition functions: how informative a sample looks to the current head (higher = more). */
export type AcquisitionKind = 'random' | 'entropy' | 'margin' | 'least-confidence';

export function acquisition(
  kind: AcquisitionKind,
  head: SoftmaxHead,
  features: Float32Array,
  random: () => number,
): Float32Array {
  const C = head.classes;
  const n = features.length / head.dim;
  if (kind === 'random') return Float32Array.from({ length: n }, () => random());
  const p = predictProba(head, features);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const row = p.subarray(i * C, (i + 1) * C);
    if (kind === 'entropy') {
      out[i] = -row.reduce((s, q) => (q > 0 ? s + q * Math.log(q) : s), 0);
    } else {
      let first = 0;
      let second = 0;
      for (const q of row) {
        if (q > first) [first, second] = [q, first];
        else if (q > second) second = q;
      }
      // Margin sampling prefers a small gap between the two most likely classes.
      out[i] = kind === 'margin' ? -(first - second) : 1 - first;
    }
  }
  return out;
}
