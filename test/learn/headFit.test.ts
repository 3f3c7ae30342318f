import { describe, expect, it } from 'vitest';
import { WinnowError } from '../../src/main/errors.ts';
import {
  crossFitHead,
  crossValidatedAccuracy,
  fitLogistic,
  headProbabilities,
  logisticProblem,
  stratifiedFolds,
} from '../../src/main/learn/headFit.ts';
import { HEAD_FIT_DEFAULTS } from '../../src/main/learn/learnDefaults.ts';
import { labelQualityFromProbabilities } from '../../src/main/learn/labelQuality.ts';
import { objective, probabilities } from '../../src/main/learn/logisticObjective.ts';
import { fitStandardizer, standardize } from '../../src/main/learn/standardizer.ts';
import { fillGaussian } from '../../src/main/models/random.ts';
import { balanced, clusters, crossEntropy } from './crossFitFixtures.ts';

const C = 3;
const D = 4;

/**
 * An independent solution of the same objective: Newton's method with the gradient and Hessian
 * written out here from the formulas, solved by Gaussian elimination (a 1e-10 ridge fixes the
 * bias's flat direction).
 */
function newton(features: Float32Array, labels: Int32Array, lambda: number): Float64Array {
  const P = C * (D + 1);
  const s = balanced(labels);
  const W = new Float64Array(P);
  const x = (i: number, d: number) => (d === D ? 1 : (features[i * D + d] as number));
  for (let iteration = 0; iteration < 50; iteration++) {
    const g = new Float64Array(P);
    const H = Array.from({ length: P }, () => new Float64Array(P));
    for (let i = 0; i < labels.length; i++) {
      const z = Array.from({ length: C }, (_, c) => {
        let v = 0;
        for (let d = 0; d <= D; d++) v += (W[c * (D + 1) + d] as number) * x(i, d);
        return v;
      });
      const max = Math.max(...z);
      const e = z.map((v) => Math.exp(v - max));
      const sum = e.reduce((a, v) => a + v, 0);
      const p = e.map((v) => v / sum);
      for (let c = 0; c < C; c++)
        for (let d = 0; d <= D; d++) {
          g[c * (D + 1) + d]! += s[i]! * ((p[c] as number) - (labels[i] === c ? 1 : 0)) * x(i, d);
          for (let c2 = 0; c2 < C; c2++)
            for (let d2 = 0; d2 <= D; d2++)
              H[c * (D + 1) + d]![c2 * (D + 1) + d2]! +=
                s[i]! * ((c === c2 ? (p[c] as number) : 0) - (p[c] as number) * (p[c2] as number)) * x(i, d) * x(i, d2);
        }
    }
    for (let k = 0; k < P; k++) {
      const bias = k % (D + 1) === D;
      if (!bias) g[k]! += lambda * (W[k] as number);
      H[k]![k]! += (bias ? 0 : lambda) + 1e-10;
    }
    const step = solve(H, g);
    for (let k = 0; k < P; k++) W[k]! -= step[k] as number;
  }
  return W;
}

function solve(A: Float64Array[], b: Float64Array): Float64Array {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i] as number]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(M[r]![col]!) > Math.abs(M[pivot]![col]!)) pivot = r;
    [M[col], M[pivot]] = [M[pivot]!, M[col]!];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = M[r]![col]! / M[col]![col]!;
      for (let c = col; c <= n; c++) M[r]![c]! -= f * M[col]![c]!;
    }
  }
  return Float64Array.from(M, (row, i) => row[n]! / row[i]!);
}

/** The biases with their mean removed: J is invariant to a shift shared by every class's bias. */
function centredBiases(W: Float64Array): Float64Array {
  const out = Float64Array.from(W);
  let mean = 0;
  for (let c = 0; c < C; c++) mean += (W[c * (D + 1) + D] as number) / C;
  for (let c = 0; c < C; c++) out[c * (D + 1) + D]! -= mean;
  return out;
}

describe('the regularised logistic objective', () => {
  it('its gradient matches central finite differences of its value', () => {
    const set = clusters(30, C, D, 5);
    const problem = logisticProblem(set, C, D, 0.05);
    const W = fillGaussian(new Float32Array(C * (D + 1)), 9);
    const W64 = Float64Array.from(W, (v) => 0.1 * v);
    const g = new Float64Array(W64.length);
    objective(problem, W64, g);
    const h = 1e-6;
    W64.forEach((_, k) => {
      const plus = Float64Array.from(W64);
      const minus = Float64Array.from(W64);
      plus[k]! += h;
      minus[k]! -= h;
      expect(g[k]).toBeCloseTo((objective(problem, plus) - objective(problem, minus)) / (2 * h), 7);
    });
    // And its value is the class-balanced mean loss plus (λ/2)·‖weights without biases‖².
    let penalty = 0;
    W64.forEach((w, k) => {
      if (k % (D + 1) !== D) penalty += 0.5 * 0.05 * w * w;
    });
    expect(objective(problem, W64)).toBeCloseTo(
      crossEntropy(W64, set.features, set.labels, C, D, balanced(set.labels)) + penalty,
      10,
    );
  });
});

describe('fitLogistic (L-BFGS)', () => {
  // Unbalanced classes, so class balancing matters.
  const set = clusters(45, C, D, 2, 0.8);
  const labels = Int32Array.from(set.labels, (y, i) => (i % 5 === 0 ? 0 : y));
  const features = standardize(fitStandardizer(set.features, D), set.features);

  it('stops at the optimum: gradient norm below the stated tolerance, before the iteration cap', () => {
    for (const lambda of [1e-3, 1e-1]) {
      const fit = fitLogistic(logisticProblem({ features, labels }, C, D, lambda), {
        gradientTolerance: 1e-6,
        maxIterations: 2000,
        lbfgsMemory: 10,
      });
      expect(fit.gradientNorm).toBeLessThanOrEqual(1e-6);
      expect(fit.iterations).toBeLessThan(2000);
      const g = new Float64Array(fit.weights.length);
      objective(logisticProblem({ features, labels }, C, D, lambda), fit.weights, g);
      expect(Math.hypot(...g)).toBeLessThanOrEqual(1e-6);
    }
  });

  it('equals an independent Newton solution of the class-balanced objective', () => {
    for (const lambda of [1e-3, 1e-1]) {
      const fit = fitLogistic(logisticProblem({ features, labels }, C, D, lambda), {
        gradientTolerance: 1e-9,
        maxIterations: 5000,
        lbfgsMemory: 10,
      });
      const reference = centredBiases(newton(features, labels, lambda));
      centredBiases(fit.weights).forEach((w, k) => expect(w).toBeCloseTo(reference[k] as number, 5));
    }
  });
});

describe('crossFitHead', () => {
  it('chooses the strongest λ when labels carry no signal, and a weak one when classes separate', () => {
    const noise = clusters(200, C, D, 3, 0);
    const noiseFit = crossFitHead(noise, C);
    const grid = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1];
    expect(noiseFit.lambda).toBe(Math.max(...grid));
    const separable = clusters(300, C, D, 3, 2.5);
    const separableFit = crossFitHead(separable, C);
    expect(separableFit.lambda).toBeLessThanOrEqual(1e-3);
    // The choice is the grid's smallest cross-validated log-loss.
    const best = separableFit.lambdaLosses.reduce((a, b) => (b.logLoss < a.logLoss ? b : a));
    expect(separableFit.lambda).toBe(best.lambda);
    expect(crossValidatedAccuracy(separableFit)).toBeGreaterThan(0.95);
    // The search's loose fits are refined: every head returned is at the optimum.
    for (const fit of [...separableFit.foldHeads, separableFit.full])
      expect(fit.gradientNorm).toBeLessThanOrEqual(HEAD_FIT_DEFAULTS.gradientTolerance);
    expect(crossValidatedAccuracy(noiseFit)).toBeLessThan(0.5);
  });

  it('gives each real image an out-of-sample probability: flipping its own label does not move it', () => {
    const real = clusters(60, C, D, 4, 1);
    const options = { lambda: 1e-2, folds: 3, foldAssignment: stratifiedFolds(real.labels, C, 3, 0) };
    const before = crossFitHead(real, C, options);
    for (const j of [0, 7, 31]) {
      const labels = Int32Array.from(real.labels);
      labels[j] = ((labels[j] as number) + 1) % C;
      const after = crossFitHead({ features: real.features, labels }, C, options);
      expect(after.outOfSample.subarray(j * C, (j + 1) * C)).toEqual(before.outOfSample.subarray(j * C, (j + 1) * C));
      // Images in other folds were scored by heads that did see the flip.
      const other = real.labels.findIndex((_, i) => before.folds[i] !== before.folds[j]);
      expect(after.outOfSample[other * C]).not.toBe(before.outOfSample[other * C]);
    }
  });

  it('is deterministic', () => {
    const real = clusters(60, C, D, 6, 1);
    const a = crossFitHead(real, C);
    const b = crossFitHead(real, C);
    expect(b.full.weights).toEqual(a.full.weights);
    expect(b.outOfSample).toEqual(a.outOfSample);
    expect(stratifiedFolds(real.labels, C, 5, 0)).toEqual(a.folds);
  });

  it('deals stratified folds that differ in size by at most one', () => {
    const labels = Int32Array.from({ length: 23 }, (_, i) => (i < 11 ? 0 : i % 2));
    const folds = stratifiedFolds(labels, 2, 5, 0);
    const sizes = [0, 1, 2, 3, 4].map((k) => folds.filter((f) => f === k).length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    for (const c of [0, 1]) {
      const perFold = [0, 1, 2, 3, 4].map((k) => folds.filter((f, i) => f === k && labels[i] === c).length);
      expect(Math.max(...perFold) - Math.min(...perFold)).toBeLessThanOrEqual(1);
    }
  });

  it('scores raw features through the stored standardisation (the folded Gemm equals the definition)', async () => {
    const real = clusters(60, C, D, 7, 1);
    const fit = crossFitHead(real, C);
    const synthetic = clusters(25, C, D, 8, 1);
    const p = await headProbabilities(fit, synthetic.features);
    const reference = probabilities(fit.full.weights, standardize(fit.standardizer, synthetic.features), D, C);
    p.forEach((v, k) => expect(v).toBeCloseTo(reference[k] as number, 5));
  });

  it('refuses too few real images with a fix', () => {
    const real = clusters(9, C, D, 1);
    expect(() => crossFitHead(real, C)).toThrow(WinnowError);
  });
});

describe('label-quality scores from given probabilities', () => {
  it('are cleanlab’s self-confidence, the margin and the negated loss', () => {
    const p = Float32Array.of(0.7, 0.2, 0.1, 0.1, 0.3, 0.6);
    const q = labelQualityFromProbabilities(p, [0, 1], 3);
    expect(Array.from(q.selfConfidence)).toEqual([0.7, 0.3].map(Math.fround));
    expect(q.normalizedMargin[0]).toBeCloseTo(0.5, 6);
    expect(q.normalizedMargin[1]).toBeCloseTo(-0.3, 6);
    expect(q.negativeLoss[1]).toBeCloseTo(Math.log(0.3), 6);
  });
});

describe('fitStandardizer', () => {
  it('gives zero mean and unit variance, and leaves a constant dimension unscaled', () => {
    const x = Float32Array.of(1, 5, 3, 5, 5, 5);
    const s = fitStandardizer(x, 2);
    const z = standardize(s, x);
    expect(z[0]! + z[2]! + z[4]!).toBeCloseTo(0, 6);
    expect((z[0]! ** 2 + z[2]! ** 2 + z[4]! ** 2) / 3).toBeCloseTo(1, 5);
    expect(s.scale[1]).toBe(1);
    expect([z[1], z[3], z[5]]).toEqual([0, 0, 0]);
  });
});
