import { predictProba, type FeatureSet, type SoftmaxHead } from './softmaxHead.ts';

/**
 * The baselines' scores, all "higher = keep": the confident-learning family's label-quality scores
 * and the small-loss criterion, from the head's predicted probabilities p_i under pseudo-label y_i.
 */
export interface LabelQualityScores {
  /** p_i[y_i]. */
  readonly selfConfidence: Float32Array;
  /** p_i[y_i] − max_{c≠y_i} p_i[c], in [−1, 1]. */
  readonly normalizedMargin: Float32Array;
  /** −log p_i[y_i]: the negated loss, so that small loss scores high. */
  readonly negativeLoss: Float32Array;
}

export function labelQuality(head: SoftmaxHead, set: FeatureSet): LabelQualityScores {
  return labelQualityFromProbabilities(predictProba(head, set.features), set.labels, head.classes);
}

/**
 * The same scores from given class probabilities p (n × C): cleanlab's self-confidence and
 * normalized margin (cleanlab's rank.py rescales the margin to (m + 1) / 2, which orders alike)
 * and the small-loss criterion. Give them out-of-sample probabilities (cross-fitted, headFit.ts).
 */
export function labelQualityFromProbabilities(
  p: Float32Array,
  labels: ArrayLike<number>,
  C: number,
): LabelQualityScores {
  const n = labels.length;
  const selfConfidence = new Float32Array(n);
  const normalizedMargin = new Float32Array(n);
  const negativeLoss = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels[i] as number;
    const py = p[i * C + y] as number;
    let other = 0;
    for (let c = 0; c < C; c++) if (c !== y && (p[i * C + c] as number) > other) other = p[i * C + c] as number;
    selfConfidence[i] = py;
    normalizedMargin[i] = py - other;
    negativeLoss[i] = Math.log(Math.max(py, 1e-12));
  }
  return { selfConfidence, normalizedMargin, negativeLoss };
}

/**
 * Confident learning's per-class thresholds (Northcutt et al., 2021): t_c, the mean out-of-sample
 * probability of class c over the real images labelled c. The head is "confident" an image is of
 * class c when p[c] ≥ t_c. A class without real images gets Infinity: never confident.
 */
export function confidenceThresholds(outOfSample: Float32Array, labels: ArrayLike<number>, C: number): Float64Array {
  const sums = new Float64Array(C);
  const counts = new Float64Array(C);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] as number;
    sums[y]! += outOfSample[i * C + y] as number;
    counts[y]! += 1;
  }
  return sums.map((sum, c) => (counts[c] === 0 ? Infinity : sum / (counts[c] as number)));
}

/**
 * Confident learning's label-issue test as a score, "higher = keep", negative exactly when the
 * instance is an off-diagonal entry of the confident joint: among the classes the head is confident
 * about (p[c] ≥ t_c), the most probable is not the label. With r_c = p[c] / t_c:
 *   margin = min over c ≠ y of max(1 − r_c, min(r_y − 1, p[y] − p[c]))
 * Each term is > 0 when class c is not confident, and otherwise ≥ 0 only when the label is
 * confident too and at least as probable; so margin ≥ 0 ⟺ no confident class beats the label
 * (ties keep the label). Its size says how far the nearest class is from flipping that.
 */
export function confidentMargin(
  p: Float32Array,
  labels: ArrayLike<number>,
  thresholds: Float64Array,
  C: number,
): Float32Array {
  const n = labels.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels[i] as number;
    const py = p[i * C + y] as number;
    const labelConfidence = py / (thresholds[y] as number) - 1;
    let margin = Infinity;
    for (let c = 0; c < C; c++) {
      if (c === y) continue;
      const pc = p[i * C + c] as number;
      margin = Math.min(margin, Math.max(1 - pc / (thresholds[c] as number), Math.min(labelConfidence, py - pc)));
    }
    out[i] = margin;
  }
  return out;
}

/**
 * Each row's most probable class of class probabilities p (n × C) and that probability: the head's
 * suggested label (ties go to the lower class index).
 */
export function mostProbable(p: Float32Array, C: number): { classes: Int32Array; probabilities: Float32Array } {
  const n = C === 0 ? 0 : p.length / C;
  const classes = new Int32Array(n);
  const probabilities = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let top = 0;
    for (let c = 1; c < C; c++) if ((p[i * C + c] as number) > (p[i * C + top] as number)) top = c;
    classes[i] = top;
    probabilities[i] = p[i * C + top] as number;
  }
  return { classes, probabilities };
}

/** Class prototypes: the mean feature of each class's real samples (zero for a class without any). */
export function classPrototypes(set: FeatureSet, classes: number, dim: number): Float32Array {
  const sums = new Float64Array(classes * dim);
  const counts = new Float64Array(classes);
  for (let i = 0; i < set.labels.length; i++) {
    const y = set.labels[i] as number;
    counts[y]! += 1;
    for (let d = 0; d < dim; d++) sums[y * dim + d]! += set.features[i * dim + d] as number;
  }
  return Float32Array.from(sums, (v, k) => v / Math.max(1, counts[Math.floor(k / dim)] as number));
}

/**
 * Cosine similarity of each instance to its pseudo-label's prototype: the feature-space stand-in
 * for a CLIP-score filter when no CLIP model is configured.
 */
export function prototypeSimilarity(prototypes: Float32Array, set: FeatureSet, dim: number): Float32Array {
  const n = set.labels.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const y = set.labels[i] as number;
    let dot = 0;
    let a = 0;
    let b = 0;
    for (let d = 0; d < dim; d++) {
      const x = set.features[i * dim + d] as number;
      const q = prototypes[y * dim + d] as number;
      dot += x * q;
      a += x * x;
      b += q * q;
    }
    out[i] = a === 0 || b === 0 ? 0 : dot / Math.sqrt(a * b);
  }
  return out;
}
