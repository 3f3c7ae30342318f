import { describe, expect, it } from 'vitest';
import { GradientCache, meanGradient } from '../../src/main/learn/contribution.ts';
import { contributions } from '../../src/main/learn/contributionGraph.ts';
import { lossEstimates } from '../../src/main/learn/lossEstimate.ts';
import { batchCosines } from '../../src/main/pipeline/scoring.ts';
import { trainHead } from '../../src/main/learn/headTraining.ts';
import { createHead, type FeatureSet, type SoftmaxHead } from '../../src/main/learn/softmaxHead.ts';
import { fillGaussian } from '../../src/main/models/random.ts';

const C = 4;
const D = 6;

function dataset(n: number, seed: number, flipEvery = 0): FeatureSet {
  const features = fillGaussian(new Float32Array(n * D), seed);
  const labels = Int32Array.from({ length: n }, (_, i) => i % C);
  for (let i = 0; i < n; i++) features[i * D + (labels[i] as number)]! += 2.5;
  if (flipEvery > 0) for (let i = 0; i < n; i += flipEvery) labels[i] = ((labels[i] as number) + 1) % C;
  return { features, labels };
}

/** Mean cross-entropy of a set under weights W (float64, straight from the definition). */
function loss(W: Float64Array, set: FeatureSet): number {
  const n = set.labels.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: C }, (_, c) => {
      let s = W[c * (D + 1) + D] as number;
      for (let d = 0; d < D; d++) s += (W[c * (D + 1) + d] as number) * (set.features[i * D + d] as number);
      return s;
    });
    const max = Math.max(...z);
    const logSum = max + Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0));
    total += logSum - (z[set.labels[i] as number] as number);
  }
  return total / n;
}

function numericalGradient(W: Float64Array, set: FeatureSet): Float64Array {
  const h = 1e-6;
  return W.map((_, k) => {
    const plus = Float64Array.from(W);
    const minus = Float64Array.from(W);
    plus[k]! += h;
    minus[k]! -= h;
    return (loss(plus, set) - loss(minus, set)) / (2 * h);
  });
}

async function trainedHead(): Promise<SoftmaxHead> {
  return await trainHead(createHead(C, D), dataset(200, 1), { epochs: 2, seed: 3, learningRate: 0.05 });
}

function single(set: FeatureSet, i: number): FeatureSet {
  return { features: set.features.slice(i * D, (i + 1) * D), labels: set.labels.slice(i, i + 1) };
}

describe('gradient contribution', () => {
  it('the closed-form gradient (p − y) ⊗ [h; 1] matches finite differences', async () => {
    const head = await trainedHead();
    const real = dataset(40, 2);
    const analytic = meanGradient(head, real);
    const numeric = numericalGradient(Float64Array.from(head.weights), real);
    analytic.forEach((g, k) => expect(g).toBeCloseTo(numeric[k] as number, 4));
  });

  it('the inner product is the first-order drop in real loss from one step on the instance', async () => {
    const head = await trainedHead();
    const real = dataset(60, 4);
    const G = meanGradient(head, real);
    const synthetic = dataset(8, 5, 2); // half of them mislabelled
    const { inner } = await contributions(head, G, synthetic);
    const W = Float64Array.from(head.weights);
    const eta = 1e-4;
    for (let i = 0; i < 8; i++) {
      const g = meanGradient(head, single(synthetic, i));
      // Central difference of the real loss along −g_i: the exact first-order drop.
      const back = W.map((w, k) => w + eta * (g[k] as number));
      const forward = W.map((w, k) => w - eta * (g[k] as number));
      const drop = (loss(back, real) - loss(forward, real)) / (2 * eta);
      expect(Math.abs((inner[i] as number) - drop)).toBeLessThan(1e-4 * Math.max(1, Math.abs(drop)));
    }
  });

  it("the loss estimate is the real loss's exact drop after one step on the instance (BSGAL's look-ahead)", async () => {
    const head = await trainedHead();
    const real = dataset(60, 12);
    const synthetic = dataset(12, 13, 3);
    const W = Float64Array.from(head.weights);
    for (const eta of [0.02, 0.1]) {
      const estimates = await lossEstimates(head, real, synthetic, eta);
      for (let i = 0; i < 12; i++) {
        const g = meanGradient(head, single(synthetic, i));
        const stepped = W.map((w, k) => w - eta * (g[k] as number));
        expect(estimates[i]).toBeCloseTo(loss(W, real) - loss(stepped, real), 4);
      }
      // Mislabelled instances (every third) raise the real loss, and by more than any correct one.
      const wrong = Array.from(estimates).filter((_, i) => i % 3 === 0);
      const right = Array.from(estimates).filter((_, i) => i % 3 !== 0);
      expect(Math.max(...wrong)).toBeLessThan(0);
      expect(Math.max(...wrong)).toBeLessThan(Math.min(...right));
    }
  });

  it('signs: correctly labelled instances help, mislabelled ones hurt; cosine is the normalised inner product', async () => {
    const head = await trainedHead();
    const G = meanGradient(head, dataset(100, 6));
    const synthetic = dataset(40, 7, 2); // even indices mislabelled
    const { cosine, inner } = await contributions(head, G, synthetic);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const wrong = Array.from(cosine).filter((_, i) => i % 2 === 0);
    const right = Array.from(cosine).filter((_, i) => i % 2 === 1);
    expect(mean(right)).toBeGreaterThan(0);
    expect(mean(wrong)).toBeLessThan(0);
    for (let i = 0; i < 40; i++) {
      expect(Math.abs(cosine[i] as number)).toBeLessThanOrEqual(1 + 1e-6);
      expect(Math.sign(cosine[i] as number)).toBe(Math.sign(inner[i] as number));
      const g = meanGradient(head, single(synthetic, i));
      const norm = (v: Float32Array) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
      expect(cosine[i]).toBeCloseTo((inner[i] as number) / norm(g) / norm(G), 4);
    }
  });

  it('online scores differ from offline ones once the head has trained', async () => {
    const initial = createHead(C, D);
    const real = dataset(100, 8);
    const synthetic = dataset(20, 9, 3);
    const offline = (await contributions(initial, meanGradient(initial, real), synthetic)).cosine;
    const trained = await trainHead(createHead(C, D), real, { epochs: 50, seed: 1, learningRate: 0.05 });
    const online = (await contributions(trained, meanGradient(trained, real), synthetic)).cosine;
    const changed = online.filter((v, i) => Math.abs(v - (offline[i] as number)) > 0.05).length;
    expect(changed).toBeGreaterThan(10);
  });

  it("BSGAL's per-batch score is the cosine of the batch's mean gradient, shared by its members", async () => {
    const head = await trainedHead();
    const G = meanGradient(head, dataset(50, 10));
    const synthetic = dataset(10, 11, 3);
    const batch = batchCosines(head, G, synthetic, 4);
    const cosine = (a: Float32Array, b: Float32Array) =>
      a.reduce((s, v, i) => s + v * (b[i] as number), 0) / Math.hypot(...a) / Math.hypot(...b);
    for (const [start, end] of [
      [0, 4],
      [4, 8],
      [8, 10],
    ] as const) {
      const part = {
        features: synthetic.features.slice(start * D, end * D),
        labels: synthetic.labels.slice(start, end),
      };
      const expected = cosine(meanGradient(head, part), G);
      for (let i = start; i < end; i++) expect(batch[i]).toBeCloseTo(expected, 5);
    }
  });

  it('the gradient cache blends refreshes with its momentum', () => {
    const cache = new GradientCache(0.1);
    expect(() => cache.value).toThrow(/not been refreshed/);
    cache.refresh(Float32Array.of(1, 2));
    expect(Array.from(cache.refresh(Float32Array.of(3, 4)))).toEqual(
      [0.1 * 1 + 0.9 * 3, 0.1 * 2 + 0.9 * 4].map(Math.fround),
    );
    expect(() => new GradientCache(1)).toThrow(/momentum/);
  });
});

describe('contributions of instances the head is certain about', () => {
  it('are 0 (their gradient vanishes), never NaN, and cosines stay within [-1, 1]', async () => {
    // Two classes, 2-d: a huge weight makes p_y round to exactly 1 in float32 for the first instance.
    const head: SoftmaxHead = { classes: 2, dim: 2, weights: Float32Array.of(60, 0, 0, -60, 0, 0) };
    const set: FeatureSet = { features: Float32Array.of(1, 0, 0.01, 0.02), labels: Int32Array.of(0, 1) };
    const G = Float32Array.of(0.3, -0.1, 0.2, -0.3, 0.1, -0.2);
    const { cosine, inner } = await contributions(head, G, set);
    expect(Array.from(cosine).every(Number.isFinite)).toBe(true);
    expect(cosine[0]).toBe(0);
    expect(inner[0]).toBe(0);
    for (const c of cosine) expect(Math.abs(c)).toBeLessThanOrEqual(1);
  });
});
