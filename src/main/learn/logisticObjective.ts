/**
 * The regularised, weighted multinomial logistic objective of a linear head on (standardised)
 * features, in float64:
 *   J(W) = Σ_i s_i · ℓ(W·[x_i; 1], y_i) + (λ/2)·‖W without its bias column‖²,
 * with sample weights s_i summing to 1 (class-balanced: every class counts the same). W is
 * C × (D+1) row-major like SoftmaxHead's weights, the last column the bias. Its gradient is
 * Σ_i s_i (p_i − e_{y_i}) ⊗ [x_i; 1] + λ·W (bias excluded), and its Hessian
 * Σ_i s_i (diag p_i − p_i p_iᵀ) ⊗ [x_i; 1][x_i; 1]ᵀ + λ·I (bias excluded).
 */
export interface LogisticProblem {
  readonly features: Float32Array;
  readonly labels: ArrayLike<number>;
  /** s_i, summing to 1. */
  readonly sampleWeights: Float64Array;
  readonly classes: number;
  readonly dim: number;
  readonly lambda: number;
}

/**
 * s_i = 1 / (classes present · n_{y_i}): each class present carries the same total weight, and the
 * weights sum to 1. The one rule for "class-balanced" in the head, its CV loss and its influence.
 */
export function classBalancedWeights(labels: ArrayLike<number>, classes: number): Float64Array {
  const counts = new Float64Array(classes);
  for (let i = 0; i < labels.length; i++) counts[labels[i] as number]! += 1;
  const present = counts.filter((c) => c > 0).length;
  return Float64Array.from(
    { length: labels.length },
    (_, i) => 1 / (present * (counts[labels[i] as number] as number)),
  );
}

/**
 * p = softmax(W·[x; 1]) of row i, written to out[o..o+C). softmaxHead.ts's float32 softmaxRow in
 * float64, on purpose a second copy: one function taking either array type made V8's element loads
 * polymorphic, 19% slower here and 37% in the head's predictions (100,000 rows × 64 features × 10
 * classes, median of 15 calls).
 */
function softmaxInto(
  W: Float64Array,
  features: Float32Array,
  i: number,
  D: number,
  C: number,
  out: Float64Array,
  o: number,
): void {
  const D1 = D + 1;
  const x = i * D;
  let max = -Infinity;
  for (let c = 0; c < C; c++) {
    const w = c * D1;
    let z = W[w + D] as number;
    for (let d = 0; d < D; d++) z += (W[w + d] as number) * (features[x + d] as number);
    out[o + c] = z;
    if (z > max) max = z;
  }
  let sum = 0;
  for (let c = 0; c < C; c++) {
    const e = Math.exp((out[o + c] as number) - max);
    out[o + c] = e;
    sum += e;
  }
  for (let c = 0; c < C; c++) out[o + c] = (out[o + c] as number) / sum;
}

/** Class probabilities (n × C, float64) of every row of `features` under W. */
export function probabilities(W: Float64Array, features: Float32Array, dim: number, classes: number): Float64Array {
  const n = features.length / dim;
  const out = new Float64Array(n * classes);
  for (let i = 0; i < n; i++) softmaxInto(W, features, i, dim, classes, out, i * classes);
  return out;
}

/** J(W); when `gradient` is given, ∇J(W) is written into it. */
export function objective(problem: LogisticProblem, W: Float64Array, gradient?: Float64Array): number {
  const { features, labels, sampleWeights, classes: C, dim: D, lambda } = problem;
  const D1 = D + 1;
  const n = labels.length;
  const p = new Float64Array(C);
  let value = 0;
  gradient?.fill(0);
  for (let i = 0; i < n; i++) {
    const y = labels[i] as number;
    const s = sampleWeights[i] as number;
    softmaxInto(W, features, i, D, C, p, 0);
    // p_y underflows only for a loss above 745: a clamp, not an approximation, anywhere it matters.
    value += s * -Math.log(Math.max(p[y] as number, Number.MIN_VALUE));
    if (gradient === undefined) continue;
    p[y]! -= 1;
    const x = i * D;
    for (let c = 0; c < C; c++) {
      const r = s * (p[c] as number);
      const w = c * D1;
      for (let d = 0; d < D; d++) gradient[w + d]! += r * (features[x + d] as number);
      gradient[w + D]! += r;
    }
  }
  for (let c = 0; c < C; c++)
    for (let d = 0; d < D; d++) {
      const w = W[c * D1 + d] as number;
      value += 0.5 * lambda * w * w;
      if (gradient !== undefined) gradient[c * D1 + d]! += lambda * w;
    }
  return value;
}

/**
 * out = (H + damping·I)·v, with H the Hessian of J at the weights whose class probabilities on the
 * problem's features are `probs` (n × C, from `probabilities`).
 */
export function hessianVectorProduct(
  problem: LogisticProblem,
  probs: Float64Array,
  v: Float64Array,
  out: Float64Array,
  damping = 0,
): void {
  const { features, labels, sampleWeights, classes: C, dim: D, lambda } = problem;
  const D1 = D + 1;
  const n = labels.length;
  const t = new Float64Array(C);
  out.fill(0);
  for (let i = 0; i < n; i++) {
    const x = i * D;
    const o = i * C;
    // t = V·[x; 1], then r = s·(diag p − p pᵀ)·t, added as r ⊗ [x; 1].
    let pt = 0;
    for (let c = 0; c < C; c++) {
      const w = c * D1;
      let z = v[w + D] as number;
      for (let d = 0; d < D; d++) z += (v[w + d] as number) * (features[x + d] as number);
      t[c] = z;
      pt += (probs[o + c] as number) * z;
    }
    const s = sampleWeights[i] as number;
    for (let c = 0; c < C; c++) {
      const r = s * (probs[o + c] as number) * ((t[c] as number) - pt);
      const w = c * D1;
      for (let d = 0; d < D; d++) out[w + d]! += r * (features[x + d] as number);
      out[w + D]! += r;
    }
  }
  for (let c = 0; c < C; c++) {
    for (let d = 0; d < D; d++) out[c * D1 + d]! += lambda * (v[c * D1 + d] as number);
  }
  if (damping !== 0) for (let k = 0; k < out.length; k++) out[k]! += damping * (v[k] as number);
}
