import type { FeatureSet, SoftmaxHead } from './softmaxHead.ts';

/**
 * Per-instance gradient contribution for a linear softmax head (BSGAL, Winnow's per-instance form).
 *
 * With cross-entropy loss, the gradient of one instance is g_i = (p_i − y_i) ⊗ [h_i; 1]. A step
 * −η·g_i changes the real-data loss by −η·⟨G, g_i⟩ to first order, where G is the real-data
 * gradient, so ⟨G, g_i⟩ > 0 means the instance helps. Because g_i is an outer product,
 *   ⟨G, g_i⟩ = (p_i − y_i)ᵀ · G · [h_i; 1]   and   ‖g_i‖ = ‖p_i − y_i‖ · ‖[h_i; 1]‖,
 * so every score is exact and costs two C × D products per instance, with no backpropagation.
 * The batched scores run as an ONNX graph (contributionGraph.ts); this module holds the real-data
 * gradient and its cache.
 */

/** The mean loss gradient of a labelled set, C × (D+1) like the head's weights. */
export function meanGradient(head: SoftmaxHead, set: FeatureSet): Float32Array {
  const { classes: C, dim: D, weights: W } = head;
  const n = set.labels.length;
  const G = new Float64Array(W.length);
  const p = new Float64Array(C);
  for (let i = 0; i < n; i++) {
    const h = i * D;
    logitsInto(W, set.features, h, D, C, p);
    softmaxInPlace(p);
    p[set.labels[i] as number]! -= 1;
    for (let c = 0; c < C; c++) {
      const r = p[c] as number;
      const w = c * (D + 1);
      for (let d = 0; d < D; d++) G[w + d]! += r * (set.features[h + d] as number);
      G[w + D]! += r;
    }
  }
  return Float32Array.from(G, (v) => (n === 0 ? 0 : v / n));
}

/**
 * The real-data gradient cache: G ← momentum·G + (1 − momentum)·G_new on each refresh (the
 * first refresh sets it). BSGAL's reference code uses momentum 0.1.
 */
export class GradientCache {
  readonly momentum: number;
  private gradient: Float32Array | undefined;

  constructor(momentum = 0.1) {
    if (!(momentum >= 0 && momentum < 1)) throw new RangeError(`momentum must be in [0, 1), not ${momentum}`);
    this.momentum = momentum;
  }

  refresh(fresh: Float32Array): Float32Array {
    const old = this.gradient;
    this.gradient =
      old === undefined
        ? Float32Array.from(fresh)
        : old.map((g, i) => this.momentum * g + (1 - this.momentum) * (fresh[i] as number));
    return this.gradient;
  }

  get value(): Float32Array {
    if (this.gradient === undefined) throw new Error('The gradient cache has not been refreshed yet.');
    return this.gradient;
  }
}

function logitsInto(
  W: Float32Array,
  features: Float32Array,
  h: number,
  D: number,
  C: number,
  logits: Float64Array,
): void {
  for (let c = 0; c < C; c++) {
    const w = c * (D + 1);
    let z = W[w + D] as number;
    for (let d = 0; d < D; d++) z += (W[w + d] as number) * (features[h + d] as number);
    logits[c] = z;
  }
}

function softmaxInPlace(z: Float64Array): void {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let sum = 0;
  for (let c = 0; c < z.length; c++) {
    z[c] = Math.exp((z[c] as number) - max);
    sum += z[c] as number;
  }
  for (let c = 0; c < z.length; c++) z[c] = (z[c] as number) / sum;
}
