import { describe, expect, it } from 'vitest';
import { crossFitHead, type CrossFittedHead, fitLogistic } from '../../src/main/learn/headFit.ts';
import {
  classConditionalInfluenceScores,
  crossFittedLookahead,
  influenceReference,
  influenceScores,
} from '../../src/main/learn/influence.ts';
import { classBalancedWeights } from '../../src/main/learn/logisticObjective.ts';
import type { FeatureSet } from '../../src/main/learn/softmaxHead.ts';
import { standardize } from '../../src/main/learn/standardizer.ts';
import { balanced, clusters, crossEntropy } from './crossFitFixtures.ts';

const C = 3;
const D = 4;
const TIGHT = { gradientTolerance: 1e-10, maxIterations: 20_000 };

/** The real images of fold k (standardised) and the rest, as the fit split them. */
function split(fit: CrossFittedHead, k: number) {
  const rows = (keep: (f: number) => boolean) => [...fit.folds.keys()].filter((i) => keep(fit.folds[i]!));
  const pick = (idx: number[]) => ({
    features: Float32Array.from(idx.flatMap((i) => Array.from(fit.real.features.subarray(i * D, (i + 1) * D)))),
    labels: Int32Array.from(idx, (i) => fit.real.labels[i]!),
  });
  return { train: pick(rows((f) => f !== k)), held: pick(rows((f) => f === k)) };
}

/**
 * The held-out real loss after actually retraining fold k's head with instance i added at weight
 * +ε and at −ε (the real samples' weights sum to 1): the central difference over 2ε, negated and
 * averaged over the folds (higher = keep). `only` restricts the held-out loss to one class.
 */
function retrainedInfluence(fit: CrossFittedHead, instance: FeatureSet, epsilon: number, only?: number): number {
  const x = standardize(fit.standardizer, instance.features);
  let total = 0;
  fit.foldHeads.forEach((head, k) => {
    const { train, held } = split(fit, k);
    const weights = only === undefined ? balanced(held.labels) : Array.from(held.labels, (y) => (y === only ? 1 : 0));
    const heldLoss = (e: number): number => {
      const problem = {
        features: Float32Array.from([...train.features, ...x]),
        labels: Int32Array.from([...train.labels, instance.labels[0]!]),
        sampleWeights: Float64Array.from([...classBalancedWeights(train.labels, C), e]),
        classes: C,
        dim: D,
        lambda: head.lambda,
      };
      const moved = fitLogistic(problem, { ...TIGHT, lbfgsMemory: 10 }, head.weights);
      expect(moved.gradientNorm).toBeLessThanOrEqual(TIGHT.gradientTolerance);
      return crossEntropy(moved.weights, held.features, held.labels, C, D, weights);
    };
    total += -(heldLoss(epsilon) - heldLoss(-epsilon)) / (2 * epsilon);
  });
  return total / fit.foldHeads.length;
}

function one(set: FeatureSet, i: number): FeatureSet {
  return { features: set.features.slice(i * D, (i + 1) * D), labels: set.labels.slice(i, i + 1) };
}

describe('influence on the cross-fitted head', () => {
  const real = clusters(60, C, D, 11, 1);
  const fit = crossFitHead(real, C, { lambda: 0.02, folds: 3, ...TIGHT });
  // Every third synthetic instance carries a wrong label.
  const synthetic = clusters(12, C, D, 12, 1);
  const labels = Int32Array.from(synthetic.labels, (y, i) => (i % 3 === 0 ? (y + 1) % C : y));
  const set = { features: synthetic.features, labels };

  it('equals the change in held-out real loss from actually retraining with the instance added', async () => {
    const reference = influenceReference(fit, { damping: 0, cgTolerance: 1e-12 });
    expect(reference.residual).toBeLessThanOrEqual(1e-12);
    const scores = await influenceScores(fit, reference, set);
    const epsilon = 1e-4;
    const retrained = [...labels.keys()].map((i) => retrainedInfluence(fit, one(set, i), epsilon));
    retrained.forEach((r, i) => expect(scores[i]).toBeCloseTo(r, 3));
    // Signs differ across instances, so the check has teeth: a flipped sign fails it.
    expect(retrained.some((r) => r > 0.01) && retrained.some((r) => r < -0.01)).toBe(true);
  });

  it('is as close with the default damping', async () => {
    const exact = await influenceScores(fit, influenceReference(fit, { damping: 0, cgTolerance: 1e-12 }), set);
    const damped = await influenceScores(fit, influenceReference(fit), set);
    damped.forEach((v, i) => expect(v).toBeCloseTo(exact[i] as number, 3));
  });

  it('scores the wrong labels below the right ones on average', async () => {
    const scores = await influenceScores(fit, influenceReference(fit), set);
    const mean = (keep: (i: number) => boolean) => {
      const kept = [...scores].filter((_, i) => keep(i));
      return kept.reduce((a, v) => a + v, 0) / kept.length;
    };
    expect(mean((i) => i % 3 === 0)).toBeLessThan(mean((i) => i % 3 !== 0) - 0.1);
  });

  it('class-conditional: the change in held-out loss of the pseudo-label’s own class', async () => {
    const reference = influenceReference(fit, { damping: 0, cgTolerance: 1e-12, classConditional: true });
    const scores = await classConditionalInfluenceScores(fit, reference, set);
    for (const i of [0, 1, 5, 9]) {
      const r = retrainedInfluence(fit, one(set, i), 1e-4, labels[i]);
      expect(scores[i]).toBeCloseTo(r, 3);
    }
    await expect(async () => classConditionalInfluenceScores(fit, influenceReference(fit), set)).rejects.toThrow(
      /classConditional/,
    );
  });
});

describe("warm starts (the loop's next round starts from the previous round's fits and solves)", () => {
  const real = clusters(60, C, D, 11, 1);
  const before = clusters(9, C, D, 13, 1);
  const after = clusters(15, C, D, 14, 1);
  const options = { lambda: 0.02, folds: 3, ...TIGHT };

  it('reach the same heads and influence directions', () => {
    const previous = crossFitHead(real, C, { ...options, extra: before });
    const cold = crossFitHead(real, C, { ...options, extra: after });
    const warm = crossFitHead(real, C, { ...options, extra: after, warmStart: previous });
    warm.foldHeads.forEach((head, k) => {
      head.weights.forEach((w, j) => expect(w).toBeCloseTo(cold.foldHeads[k]!.weights[j]!, 6));
    });
    warm.full.weights.forEach((w, j) => expect(w).toBeCloseTo(cold.full.weights[j]!, 6));

    const solve = { damping: 1e-5, cgTolerance: 1e-12 };
    const coldDirections = influenceReference(cold, solve);
    const warmDirections = influenceReference(warm, { ...solve, warmStart: influenceReference(previous, solve) });
    expect(warmDirections.residual).toBeLessThanOrEqual(1e-12);
    warmDirections.directions.forEach((u, k) =>
      u.forEach((v, j) => expect(v).toBeCloseTo(coldDirections.directions[k]![j]!, 6)),
    );
  });
});

describe('the look-ahead on the cross-fitted head', () => {
  it('is the size-weighted mean over folds of the held-out loss drop after one step on the instance', async () => {
    const real = clusters(45, C, D, 21, 1);
    const fit = crossFitHead(real, C, { folds: 3 });
    const set = clusters(6, C, D, 22, 1);
    set.labels[0] = 2;
    const eta = 0.5;
    const scores = await crossFittedLookahead(fit, set, eta);
    const x = standardize(fit.standardizer, set.features);
    for (let i = 0; i < 6; i++) {
      let expected = 0;
      fit.foldHeads.forEach((head, k) => {
        const { held } = split(fit, k);
        // One plain step −η·(p_i − e_y) ⊗ [x_i; 1] on fold k's head, written out here.
        const W = Float64Array.from(head.weights);
        const z = Array.from({ length: C }, (_, c) => {
          let s = W[c * (D + 1) + D] as number;
          for (let d = 0; d < D; d++) s += (W[c * (D + 1) + d] as number) * (x[i * D + d] as number);
          return s;
        });
        const max = Math.max(...z);
        const sum = z.reduce((a, v) => a + Math.exp(v - max), 0);
        const moved = Float64Array.from(W);
        for (let c = 0; c < C; c++) {
          const r = Math.exp(z[c]! - max) / sum - (c === set.labels[i] ? 1 : 0);
          for (let d = 0; d < D; d++) moved[c * (D + 1) + d]! -= eta * r * (x[i * D + d] as number);
          moved[c * (D + 1) + D]! -= eta * r;
        }
        const drop =
          crossEntropy(W, held.features, held.labels, C, D) - crossEntropy(moved, held.features, held.labels, C, D);
        expected += (drop * held.labels.length) / real.labels.length;
      });
      expect(scores[i]).toBeCloseTo(expected, 4);
    }
  });
});
