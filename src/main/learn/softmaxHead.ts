import { seededUniform } from '../models/random.ts';

/**
 * A linear softmax classifier on frozen features: logits = W·[h; 1]. W is C × (D+1), row-major,
 * the last column the bias. Plain typed-array kernels: at these sizes (D ≤ 1,280, C ≤ 1,000) they
 * beat a round trip through an ONNX session per mini-batch.
 */
export interface SoftmaxHead {
  readonly classes: number;
  readonly dim: number;
  readonly weights: Float32Array;
}

/** A labelled set of feature vectors, flat n × dim. */
export interface FeatureSet {
  readonly features: Float32Array;
  readonly labels: Int32Array | Uint8Array;
  /** Per-sample loss weights (default 1). */
  readonly weights?: Float32Array;
}

export interface TrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly weightDecay: number;
  readonly optimizer: 'adam' | 'sgd';
  /** Weights each sample by n / (C · n_class) so that every class counts the same. */
  readonly classBalanced: boolean;
  readonly seed: number;
}

export const defaultTrainOptions: TrainOptions = {
  epochs: 60,
  batchSize: 128,
  learningRate: 0.01,
  weightDecay: 1e-4,
  optimizer: 'adam',
  classBalanced: false,
  seed: 0,
};

export function createHead(classes: number, dim: number): SoftmaxHead {
  return { classes, dim, weights: new Float32Array(classes * (dim + 1)) };
}

export function cloneHead(head: SoftmaxHead): SoftmaxHead {
  return { ...head, weights: Float32Array.from(head.weights) };
}

/** Class probabilities, flat n × C, for features flat n × dim. */
export function predictProba(head: SoftmaxHead, features: Float32Array): Float32Array {
  const { classes: C, dim: D, weights: W } = head;
  const n = features.length / D;
  const out = new Float32Array(n * C);
  for (let i = 0; i < n; i++) softmaxRow(W, features, i * D, D, C, out, i * C);
  return out;
}

/** p = softmax(W·[h; 1]) for one row, written to out[o..o+C). */
function softmaxRow(
  W: Float32Array,
  h: Float32Array,
  offset: number,
  D: number,
  C: number,
  out: Float32Array,
  o: number,
): void {
  let max = -Infinity;
  for (let c = 0; c < C; c++) {
    const w = c * (D + 1);
    let z = W[w + D] as number;
    for (let d = 0; d < D; d++) z += (W[w + d] as number) * (h[offset + d] as number);
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

export function accuracy(head: SoftmaxHead, set: FeatureSet): number {
  const p = predictProba(head, set.features);
  let correct = 0;
  for (let i = 0; i < set.labels.length; i++)
    if (argmax(p, i * head.classes, head.classes) === set.labels[i]) correct++;
  return set.labels.length === 0 ? 0 : correct / set.labels.length;
}

export function argmax(values: Float32Array, offset: number, length: number): number {
  let best = 0;
  for (let c = 1; c < length; c++) if ((values[offset + c] as number) > (values[offset + best] as number)) best = c;
  return best;
}

function balancedWeights(labels: ArrayLike<number>, classes: number): Float32Array {
  const counts = new Float64Array(classes);
  for (let i = 0; i < labels.length; i++) counts[labels[i] as number]! += 1;
  const present = counts.filter((c) => c > 0).length;
  return Float32Array.from(labels, (y) => labels.length / (present * (counts[y] as number)));
}

/**
 * Trains the head in place with mini-batch SGD or Adam and L2 weight decay (not on the bias).
 * Deterministic: the same data, options and seed give the same weights.
 */
export function trainHead(head: SoftmaxHead, set: FeatureSet, options: Partial<TrainOptions> = {}): SoftmaxHead {
  const o = { ...defaultTrainOptions, ...options };
  const { classes: C, dim: D, weights: W } = head;
  const n = set.labels.length;
  if (n === 0) return head;
  const sampleWeight = o.classBalanced ? balancedWeights(set.labels, C) : set.weights;
  const grad = new Float32Array(W.length);
  const m = new Float32Array(W.length);
  const v = new Float32Array(W.length);
  const p = new Float32Array(C);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const uniform = seededUniform(o.seed);
  const beta1 = 0.9;
  const beta2 = 0.999;
  let t = 0;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(uniform() * (i + 1));
      const tmp = order[i] as number;
      order[i] = order[j] as number;
      order[j] = tmp;
    }
    for (let start = 0; start < n; start += o.batchSize) {
      const end = Math.min(n, start + o.batchSize);
      grad.fill(0);
      let total = 0;
      for (let k = start; k < end; k++) {
        const i = order[k] as number;
        const s = sampleWeight ? (sampleWeight[i] as number) : 1;
        total += s;
        softmaxRow(W, set.features, i * D, D, C, p, 0);
        p[set.labels[i] as number]! -= 1;
        // g_i = (p_i − y_i) ⊗ [h_i; 1]
        for (let c = 0; c < C; c++) {
          const r = (p[c] as number) * s;
          if (r === 0) continue;
          const w = c * (D + 1);
          for (let d = 0; d < D; d++) grad[w + d]! += r * (set.features[i * D + d] as number);
          grad[w + D]! += r;
        }
      }
      t++;
      for (let idx = 0; idx < W.length; idx++) {
        const isBias = idx % (D + 1) === D;
        const g = (grad[idx] as number) / total + (isBias ? 0 : o.weightDecay * (W[idx] as number));
        if (o.optimizer === 'adam') {
          m[idx] = beta1 * (m[idx] as number) + (1 - beta1) * g;
          v[idx] = beta2 * (v[idx] as number) + (1 - beta2) * g * g;
          const mHat = (m[idx] as number) / (1 - beta1 ** t);
          const vHat = (v[idx] as number) / (1 - beta2 ** t);
          W[idx] = (W[idx] as number) - (o.learningRate * mHat) / (Math.sqrt(vHat) + 1e-8);
        } else {
          m[idx] = 0.9 * (m[idx] as number) + g;
          W[idx] = (W[idx] as number) - o.learningRate * (m[idx] as number);
        }
      }
    }
  }
  return head;
}
