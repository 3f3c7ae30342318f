import { describe, expect, it } from 'vitest';
import { type CrossFittedHead, crossFitHead } from '../../src/main/learn/headFit.ts';
import { neighbourReference, neighbourScores } from '../../src/main/learn/neighbours.ts';
import type { FeatureSet } from '../../src/main/learn/softmaxHead.ts';
import { standardize } from '../../src/main/learn/standardizer.ts';
import { clusters } from './crossFitFixtures.ts';

const C = 3;
const D = 5;
const K = 4;

/** Brute force in float64: every distance, sorted. */
function bruteForce(real: FeatureSet, x: Float32Array, labels: ArrayLike<number>, k: number) {
  const dist = (a: Float32Array, i: number, b: Float32Array, j: number) => {
    let s = 0;
    for (let d = 0; d < D; d++) s += ((a[i * D + d] as number) - (b[j * D + d] as number)) ** 2;
    return Math.sqrt(s);
  };
  const V = real.labels.length;
  const meanNearest = (a: Float32Array, i: number, y: number | undefined, skip: number) => {
    const ds = [...Array(V).keys()]
      .filter((v) => v !== skip && (y === undefined || real.labels[v] === y))
      .map((v) => ({ v, d: dist(a, i, real.features, v) }))
      .sort((p, q) => p.d - q.d || p.v - q.v)
      .slice(0, k);
    return ds;
  };
  const typical = [...Array(C).keys()].map((c) => {
    const values = [...Array(V).keys()]
      .filter((v) => real.labels[v] === c)
      .map((v) => meanNearest(real.features, v, c, v))
      .map((ns) => ns.reduce((a, n) => a + n.d, 0) / ns.length)
      .sort((a, b) => a - b);
    const mid = values.length >> 1;
    return values.length % 2 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
  });
  return [...Array(labels.length).keys()].map((i) => {
    const y = labels[i] as number;
    const within = meanNearest(x, i, y, -1);
    const r = within.reduce((a, n) => a + n.d, 0) / within.length;
    const all = meanNearest(x, i, undefined, -1);
    return { realism: Math.log(typical[y]! / r), vote: all.filter((n) => real.labels[n.v] === y).length / all.length };
  });
}

describe('neighbour scores', () => {
  const raw = clusters(45, C, D, 31, 1.2);
  const fit = crossFitHead(raw, C, { folds: 3 });
  const synthetic = clusters(20, C, D, 32, 1.2);
  // Some wrong labels, and one far-off "noise texture".
  synthetic.labels[0] = 1;
  synthetic.labels[3] = 2;
  for (let d = 0; d < D; d++) synthetic.features[5 * D + d] = 60 * (d % 2 ? 1 : -1);

  /** Scores of `set` under `head` with k neighbours, checked against the brute force. */
  async function expectBruteForce(head: CrossFittedHead, set: FeatureSet, k: number) {
    const reference = await neighbourReference(head, k);
    const scores = await neighbourScores(head, reference, set);
    const expected = bruteForce(head.real, standardize(head.standardizer, set.features), set.labels, k);
    expected.forEach((e, i) => {
      expect(scores.realism[i]).toBeCloseTo(e.realism, 4);
      expect(scores.labelVote[i]).toBeCloseTo(e.vote, 6);
    });
    return scores;
  }

  it('equal a brute-force computation in standardised feature space', async () => {
    await expectBruteForce(fit, synthetic, K);
  });

  it('break distance ties by real image index, and take a class smaller than k whole', async () => {
    // Real image 3 (class 0) is a copy of real image 1 (class 1): equidistant from everything.
    const features = raw.features.slice();
    features.copyWithin(3 * D, 1 * D, 2 * D);
    // Class 2 keeps only two real images (fewer than K = 4).
    const labels = Int32Array.from(raw.labels, (y, i) => (y === 2 && i !== 2 && i !== 5 ? 1 : y));
    const tied = crossFitHead({ features, labels }, C, { folds: 3 });
    // Near the copies, labelled 0: the nearest real image is the tie, which a sort by distance
    // then index resolves to image 1 (class 1), so a 1-NN vote for class 0 is 0.
    const near = Float32Array.from(features.subarray(1 * D, 2 * D), (v, d) => v + (d === 0 ? 0.3 : 0));
    const set = {
      features: Float32Array.of(...near, ...synthetic.features),
      labels: Int32Array.of(0, ...synthetic.labels),
    };
    const one = await expectBruteForce(tied, set, 1);
    expect(one.labelVote[0]).toBe(0);
    await expectBruteForce(tied, set, K);
    await expectBruteForce(tied, set, 60); // more than every class, and than all real images
  });

  it('score a far-off generation as unrealistic and a copy of a real image as realistic', async () => {
    const reference = await neighbourReference(fit, K);
    const copy = { features: raw.features.slice(0, D), labels: raw.labels.slice(0, 1) };
    const [far, near] = await Promise.all([
      neighbourScores(fit, reference, {
        features: synthetic.features.slice(5 * D, 6 * D),
        labels: synthetic.labels.slice(5, 6),
      }),
      neighbourScores(fit, reference, copy),
    ]);
    expect(far.realism[0]).toBeLessThan(-1);
    expect(near.realism[0]).toBeGreaterThan(far.realism[0]! + 1);
    expect(near.labelVote[0]).toBeGreaterThan(0.5);
  });

  it('give realism NaN for a class with fewer than two real images', async () => {
    const labels = Int32Array.from(raw.labels, (y, i) => (y === 2 && i !== 2 ? 1 : y));
    const sparse = crossFitHead({ features: raw.features, labels }, C, { folds: 3 });
    const reference = await neighbourReference(sparse, K);
    expect(reference.typical[2]).toBeNaN();
    const scores = await neighbourScores(sparse, reference, {
      features: raw.features.slice(0, D),
      labels: Int32Array.of(2),
    });
    expect(scores.realism[0]).toBeNaN();
  });
});
