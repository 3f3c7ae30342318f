/**
 * A linear softmax classifier on frozen features: logits = W·[h; 1]. W is C × (D+1), row-major,
 * the last column the bias. Prediction is a typed-array loop; training runs as an onnxruntime
 * graph (headTraining.ts).
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

/** Logits W·[h; 1], flat n × C, for features flat n × dim. */
export function logits(head: SoftmaxHead, features: Float32Array): Float32Array {
  const { classes: C, dim: D, weights: W } = head;
  const n = features.length / D;
  const out = new Float32Array(n * C);
  for (let i = 0; i < n; i++) logitRow(W, features, i * D, D, C, out, i * C);
  return out;
}

/** z = W·[h; 1] for one row, written to out[o..o+C); returns max z. */
function logitRow(
  W: Float32Array,
  h: Float32Array,
  offset: number,
  D: number,
  C: number,
  out: Float32Array,
  o: number,
): number {
  let max = -Infinity;
  for (let c = 0; c < C; c++) {
    const w = c * (D + 1);
    let z = W[w + D] as number;
    for (let d = 0; d < D; d++) z += (W[w + d] as number) * (h[offset + d] as number);
    out[o + c] = z;
    if (z > max) max = z;
  }
  return max;
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
  const max = logitRow(W, h, offset, D, C, out, o);
  let sum = 0;
  for (let c = 0; c < C; c++) {
    const e = Math.exp((out[o + c] as number) - max);
    out[o + c] = e;
    sum += e;
  }
  for (let c = 0; c < C; c++) out[o + c] = (out[o + c] as number) / sum;
}

export function accuracy(head: SoftmaxHead, set: FeatureSet): number {
  return hitRate(hits(head, set));
}

/** The share of rows predicted right (0 for no rows). */
export function hitRate(hit: Uint8Array): number {
  return hit.length === 0 ? 0 : hit.reduce((a, b) => a + b, 0) / hit.length;
}

/** 1 for each row the head predicts its label, else 0. */
export function hits(head: SoftmaxHead, set: FeatureSet): Uint8Array {
  const p = predictProba(head, set.features);
  return Uint8Array.from(set.labels, (y, i) => (argmax(p, i * head.classes, head.classes) === y ? 1 : 0));
}

export function argmax(values: Float32Array, offset: number, length: number): number {
  let best = 0;
  for (let c = 1; c < length; c++) if ((values[offset + c] as number) > (values[offset + best] as number)) best = c;
  return best;
}
