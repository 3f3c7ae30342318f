// Head training: Winnow's onnxruntime step graph (learn/headTraining.ts) against the same Adam
// mini-batch step written as typed-array loops (below, kept here only as the measured alternative).
// Same data, batch size, epochs and shuffling.
//
//   node bench/head-training.ts
import { performance } from 'node:perf_hooks';
import { trainHead } from '../src/main/learn/headTraining.ts';
import { accuracy, createHead, type FeatureSet, type SoftmaxHead } from '../src/main/learn/softmaxHead.ts';
import { fillGaussian, seededUniform } from '../src/main/models/random.ts';

const D = 128;
const C = 10;
const B = 64;
const n = 10_000;
const features = fillGaussian(new Float32Array(n * D), 1);
const labels = Int32Array.from({ length: n }, (_, i) => i % C);
for (let i = 0; i < n; i++) features[i * D + (labels[i] as number)]! += 0.5;
const set: FeatureSet = { features, labels };

/** The typed-array Adam step, as it was before the graph replaced it. */
function trainTyped(head: SoftmaxHead, epochs: number, seed: number): SoftmaxHead {
  const W = head.weights;
  const grad = new Float32Array(W.length);
  const m = new Float32Array(W.length);
  const v = new Float32Array(W.length);
  const p = new Float32Array(C);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const uniform = seededUniform(seed);
  let t = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(uniform() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    for (let start = 0; start < n; start += B) {
      const end = Math.min(n, start + B);
      grad.fill(0);
      for (let k = start; k < end; k++) {
        const i = order[k] as number;
        let max = -Infinity;
        for (let c = 0; c < C; c++) {
          let z = W[c * (D + 1) + D] as number;
          for (let d = 0; d < D; d++) z += (W[c * (D + 1) + d] as number) * (features[i * D + d] as number);
          p[c] = z;
          if (z > max) max = z;
        }
        let sum = 0;
        for (let c = 0; c < C; c++) sum += p[c] = Math.exp((p[c] as number) - max);
        for (let c = 0; c < C; c++) {
          const r = (p[c] as number) / sum - (c === labels[i] ? 1 : 0);
          for (let d = 0; d < D; d++) grad[c * (D + 1) + d]! += r * (features[i * D + d] as number);
          grad[c * (D + 1) + D]! += r;
        }
      }
      t++;
      for (let k = 0; k < W.length; k++) {
        const g = (grad[k] as number) / (end - start) + (k % (D + 1) === D ? 0 : 1e-4 * (W[k] as number));
        m[k] = 0.9 * (m[k] as number) + 0.1 * g;
        v[k] = 0.999 * (v[k] as number) + 0.001 * g * g;
        W[k] =
          (W[k] as number) -
          (0.01 * ((m[k] as number) / (1 - 0.9 ** t))) / (Math.sqrt((v[k] as number) / (1 - 0.999 ** t)) + 1e-8);
      }
    }
  }
  return head;
}

const options = { epochs: 10, batchSize: B, learningRate: 0.01, weightDecay: 1e-4, seed: 1 };
await trainHead(createHead(C, D), set, { ...options, epochs: 1 });
let started = performance.now();
const graph = await trainHead(createHead(C, D), set, options);
const graphPerEpoch = (performance.now() - started) / options.epochs;
trainTyped(createHead(C, D), 1, 1);
started = performance.now();
const typed = trainTyped(createHead(C, D), options.epochs, 1);
const typedPerEpoch = (performance.now() - started) / options.epochs;

const steps = Math.ceil(n / B);
const row = (name: string, ms: number, head: SoftmaxHead) =>
  console.log(
    `${name.padEnd(18)} ${ms.toFixed(1)} ms per epoch, ${((ms / steps) * 1000).toFixed(0)} µs per step, training accuracy ${(100 * accuracy(head, set)).toFixed(1)}%`,
  );
console.log(`Adam, ${n} samples × ${D} features, ${C} classes, batch ${B}, ${options.epochs} epochs:`);
row('onnxruntime graph', graphPerEpoch, graph);
row('typed arrays', typedPerEpoch, typed);
