import ort from 'onnxruntime-node';
import { LOOKAHEAD_STEP } from './learnDefaults.ts';
import { constant, FLOAT, INT64, node, openGraph, tensorValue } from './onnxGraph.ts';
import { type FeatureSet, logits, type SoftmaxHead } from './softmaxHead.ts';

/**
 * BSGAL's "loss estimate" variant of contribution: instead of the first-order ⟨G, g_i⟩, take the
 * step −η·g_i for real and measure how much the loss on the real set falls,
 *   Δ_i = mean_v [ ℓ(z_v, y_v) − ℓ(z_v − η·(p_i − y_i)·([h_i; 1]·[h_v; 1]), y_v) ],
 * which is exact for a linear softmax head, because the step moves every real logit vector z_v
 * along (p_i − y_i) by η times the feature kernel. Positive helps. Unlike the first-order score it
 * does not vanish where the head is already confident on the real data, so an instance whose label
 * contradicts its real neighbours scores low even late in training (bench/contribution-eval.ts).
 *
 * Cost is n × V × C (V real samples), so the graph runs in chunks of instances.
 *
 * Inputs: H [n, D], Y [n, C] one-hot pseudo-labels, Wt [D, C] and b [C] (the head), HvT [D, V]
 * (real features, transposed), Zv [V, C] and YvT [C, V] (their logits and one-hot labels), zvy [V]
 * (each real sample's own logit), lossV [V], eta [1]. Output: gain [n].
 */
const graph = {
  name: 'winnow_loss_estimate',
  input: [
    tensorValue('H', FLOAT, ['n', 'D']),
    tensorValue('Y', FLOAT, ['n', 'C']),
    tensorValue('Wt', FLOAT, ['D', 'C']),
    tensorValue('b', FLOAT, ['C']),
    tensorValue('HvT', FLOAT, ['D', 'V']),
    tensorValue('Zv', FLOAT, ['V', 'C']),
    tensorValue('YvT', FLOAT, ['C', 'V']),
    tensorValue('zvy', FLOAT, ['V']),
    tensorValue('lossV', FLOAT, ['V']),
    tensorValue('eta', FLOAT, [1]),
  ],
  output: [tensorValue('gain', FLOAT, ['n'])],
  initializer: [constant('one', [1], [1]), constant('axis1', [1], [1], INT64), constant('axis2', [1], [2], INT64)],
  node: [
    node('Gemm', ['H', 'Wt', 'b'], ['Z']),
    node('Softmax', ['Z'], ['P'], { axis: 1 }),
    node('Sub', ['P', 'Y'], ['R']),
    // The step scale per (instance, real sample): η·([h_i; 1]·[h_v; 1]).
    node('MatMul', ['H', 'HvT'], ['K0']),
    node('Add', ['K0', 'one'], ['K']),
    node('Mul', ['K', 'eta'], ['S']),
    node('Unsqueeze', ['S', 'axis2'], ['S3']),
    node('Unsqueeze', ['R', 'axis1'], ['R3']),
    node('Mul', ['S3', 'R3'], ['step']),
    node('Sub', ['Zv', 'step'], ['Znew']),
    node('ReduceLogSumExp', ['Znew'], ['lse'], { axes: [2], keepdims: 0 }),
    // The moved logit of each real sample's own class: z_v[y_v] − S·(p_i − y_i)[y_v].
    node('MatMul', ['R', 'YvT'], ['Ry']),
    node('Mul', ['S', 'Ry'], ['shift']),
    node('Sub', ['zvy', 'shift'], ['zy']),
    node('Sub', ['lse', 'zy'], ['lossNew']),
    node('Sub', ['lossV', 'lossNew'], ['delta']),
    node('ReduceMean', ['delta'], ['gain'], { axes: [1], keepdims: 0 }),
  ],
};

/** Bounds the n × V × C intermediate to about 32 MB per run. */
const CHUNK_ELEMENTS = 8_000_000;

let session: Promise<ort.InferenceSession> | undefined;

/** Each instance's exact one-step change of the mean loss on `real` (positive: the loss falls). */
export async function lossEstimates(
  head: SoftmaxHead,
  real: FeatureSet,
  set: FeatureSet,
  eta: number = LOOKAHEAD_STEP,
): Promise<Float32Array> {
  const n = set.labels.length;
  const V = real.labels.length;
  const out = new Float32Array(n);
  if (n === 0 || V === 0) return out;
  session ??= openGraph(graph);
  const s = await session;
  const { classes: C, dim: D, weights: W } = head;
  const Wt = new Float32Array(D * C);
  const b = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    for (let d = 0; d < D; d++) Wt[d * C + c] = W[c * (D + 1) + d] as number;
    b[c] = W[c * (D + 1) + D] as number;
  }
  const HvT = new Float32Array(D * V);
  for (let v = 0; v < V; v++) for (let d = 0; d < D; d++) HvT[d * V + v] = real.features[v * D + d] as number;
  const Zv = logits(head, real.features);
  const YvT = new Float32Array(C * V);
  const zvy = new Float32Array(V);
  const lossV = new Float32Array(V);
  for (let v = 0; v < V; v++) {
    const y = real.labels[v] as number;
    YvT[y * V + v] = 1;
    zvy[v] = Zv[v * C + y] as number;
    lossV[v] = logSumExp(Zv, v * C, C) - (zvy[v] as number);
  }
  const fixed = {
    Wt: new ort.Tensor('float32', Wt, [D, C]),
    b: new ort.Tensor('float32', b, [C]),
    HvT: new ort.Tensor('float32', HvT, [D, V]),
    Zv: new ort.Tensor('float32', Zv, [V, C]),
    YvT: new ort.Tensor('float32', YvT, [C, V]),
    zvy: new ort.Tensor('float32', zvy, [V]),
    lossV: new ort.Tensor('float32', lossV, [V]),
    eta: new ort.Tensor('float32', Float32Array.of(eta), [1]),
  };
  const chunk = Math.max(1, Math.floor(CHUNK_ELEMENTS / (V * C)));
  for (let start = 0; start < n; start += chunk) {
    const m = Math.min(chunk, n - start);
    const Y = new Float32Array(m * C);
    for (let i = 0; i < m; i++) Y[i * C + (set.labels[start + i] as number)] = 1;
    const result = await s.run({
      ...fixed,
      H: new ort.Tensor('float32', set.features.subarray(start * D, (start + m) * D), [m, D]),
      Y: new ort.Tensor('float32', Y, [m, C]),
    });
    out.set((result.gain as ort.Tensor).data as Float32Array, start);
  }
  return out;
}

function logSumExp(z: Float32Array, offset: number, C: number): number {
  let max = -Infinity;
  for (let c = 0; c < C; c++) max = Math.max(max, z[offset + c] as number);
  let sum = 0;
  for (let c = 0; c < C; c++) sum += Math.exp((z[offset + c] as number) - max);
  return max + Math.log(sum);
}
