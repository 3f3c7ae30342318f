import { describe, expect, it } from 'vitest';
import { trainHead } from '../../src/main/learn/headTraining.ts';
import { accuracy, createHead, predictProba } from '../../src/main/learn/softmaxHead.ts';
import { fillGaussian } from '../../src/main/models/random.ts';

/** Three Gaussian blobs in 8 dimensions: a problem a linear head must solve. */
function blobs(n: number, seed: number) {
  const D = 8;
  const noise = fillGaussian(new Float32Array(n * D), seed);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  const features = noise.map((v, j) => v + (Math.floor(j / D) % 3 === j % D ? 3 : 0));
  return { features, labels };
}

describe('softmax head', () => {
  it('learns separable classes and generalises to held-out samples', async () => {
    const head = await trainHead(createHead(3, 8), blobs(300, 1), { epochs: 30, seed: 1 });
    expect(accuracy(head, blobs(300, 2))).toBeGreaterThan(0.9);
    const p = predictProba(head, blobs(3, 3).features);
    for (let i = 0; i < 3; i++) expect(p[i * 3]! + p[i * 3 + 1]! + p[i * 3 + 2]!).toBeCloseTo(1, 5);
  });

  it('is deterministic for a seed and depends on it', async () => {
    const data = blobs(200, 4);
    const a = await trainHead(createHead(3, 8), data, { epochs: 3, seed: 7, batchSize: 16 });
    const b = await trainHead(createHead(3, 8), data, { epochs: 3, seed: 7, batchSize: 16 });
    const c = await trainHead(createHead(3, 8), data, { epochs: 3, seed: 8, batchSize: 16 });
    expect(a.weights).toEqual(b.weights);
    expect(a.weights).not.toEqual(c.weights);
  });

  it('class balancing lifts a rare class', async () => {
    const data = blobs(600, 5);
    // Keep only 1 in 20 samples of class 2.
    const keep = Array.from(data.labels.keys()).filter((i) => data.labels[i] !== 2 || i % 20 === 2);
    const rare = {
      features: Float32Array.from(keep.flatMap((i) => Array.from(data.features.subarray(i * 8, i * 8 + 8)))),
      labels: Int32Array.from(keep.map((i) => data.labels[i] as number)),
    };
    const test = blobs(600, 6);
    const onlyRare = {
      features: Float32Array.from(
        Array.from(test.labels.keys())
          .filter((i) => test.labels[i] === 2)
          .flatMap((i) => Array.from(test.features.subarray(i * 8, i * 8 + 8))),
      ),
      labels: Int32Array.from({ length: 200 }, () => 2),
    };
    const plain = await trainHead(createHead(3, 8), rare, { epochs: 5, seed: 1, learningRate: 0.003 });
    const balanced = await trainHead(createHead(3, 8), rare, {
      epochs: 5,
      seed: 1,
      learningRate: 0.003,
      classBalanced: true,
    });
    expect(accuracy(balanced, onlyRare)).toBeGreaterThan(accuracy(plain, onlyRare));
  });
});
