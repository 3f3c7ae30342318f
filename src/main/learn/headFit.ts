import { WinnowError } from '../errors.ts';
import { affineStack, forEachAffineChunk } from './affineProducts.ts';
import { seededUniform } from '../models/random.ts';
import { HEAD_FIT_DEFAULTS, type HeadFitSettings } from './learnDefaults.ts';
import { classBalancedWeights, type LogisticProblem, objective, probabilities } from './logisticObjective.ts';
import type { FeatureSet, SoftmaxHead } from './softmaxHead.ts';
import { fitStandardizer, standardize, type Standardizer } from './standardizer.ts';

/**
 * The head every score rests on, trained right (issue #11, 1): features standardised on the real
 * data, class-balanced L2-regularised multinomial logistic regression fitted to convergence by
 * full-batch L-BFGS (deterministic, no learning rate or epochs), λ chosen by K-fold
 * cross-validated log-loss on all labelled real images, and cross-fitting: the K fold heads give
 * every real image an out-of-sample probability and, for the contribution scores, a held-out real
 * loss that their training never saw.
 */

/** One converged fit of the objective in logisticObjective.ts. */
export interface HeadFit {
  /** W in float32, on standardised features. */
  readonly head: SoftmaxHead;
  /** The same W in float64 (the influence solve works on it). */
  readonly weights: Float64Array;
  readonly lambda: number;
  readonly iterations: number;
  /** ‖∇J‖₂ at the returned weights: below the tolerance unless the iteration cap was reached. */
  readonly gradientNorm: number;
}

/** A problem over standardised features (class-balanced weights). */
export function logisticProblem(set: FeatureSet, classes: number, dim: number, lambda: number): LogisticProblem {
  return {
    features: set.features,
    labels: set.labels,
    sampleWeights: classBalancedWeights(set.labels, classes),
    classes,
    dim,
    lambda,
  };
}

/**
 * Minimises J by L-BFGS (two-loop recursion, backtracking Armijo line search) from `start` (zeros
 * by default) until ‖∇J‖₂ ≤ gradientTolerance. J is strictly convex in the weights for λ > 0 (the
 * bias's shift direction is flat, and the gradient never points along it), so this is its optimum.
 */
export function fitLogistic(
  problem: LogisticProblem,
  settings: Pick<HeadFitSettings, 'gradientTolerance' | 'maxIterations' | 'lbfgsMemory'> = HEAD_FIT_DEFAULTS,
  start?: Float64Array,
): HeadFit {
  const { classes: C, dim: D } = problem;
  const size = C * (D + 1);
  const W = start === undefined ? new Float64Array(size) : Float64Array.from(start);
  const g = new Float64Array(size);
  let f = objective(problem, W, g);
  const memory = settings.lbfgsMemory;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const direction = new Float64Array(size);
  const alpha = new Float64Array(memory);
  const trial = new Float64Array(size);
  const gTrial = new Float64Array(size);
  let iterations = 0;
  let gNorm = norm(g);
  while (gNorm > settings.gradientTolerance && iterations < settings.maxIterations) {
    // Two-loop recursion: direction = −H_k·g.
    direction.set(g);
    for (let j = S.length - 1; j >= 0; j--) {
      alpha[j] = (rho[j] as number) * dot(S[j]!, direction);
      axpy(-(alpha[j] as number), Y[j]!, direction);
    }
    const gamma = S.length > 0 ? dot(S.at(-1)!, Y.at(-1)!) / dot(Y.at(-1)!, Y.at(-1)!) : 1 / Math.max(gNorm, 1);
    for (let k = 0; k < size; k++) direction[k] = (direction[k] as number) * gamma;
    for (let j = 0; j < S.length; j++) {
      const beta = (rho[j] as number) * dot(Y[j]!, direction);
      axpy((alpha[j] as number) - beta, S[j]!, direction);
    }
    for (let k = 0; k < size; k++) direction[k] = -(direction[k] as number);
    let slope = dot(g, direction);
    if (!(slope < 0)) {
      // Not a descent direction (lost curvature information): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let k = 0; k < size; k++) direction[k] = -(g[k] as number) / Math.max(gNorm, 1);
      slope = dot(g, direction);
    }
    let step = 1;
    let fTrial = Infinity;
    let accepted = false;
    for (let tries = 0; tries < 60 && !accepted; tries++) {
      for (let k = 0; k < size; k++) trial[k] = (W[k] as number) + step * (direction[k] as number);
      fTrial = objective(problem, trial, gTrial);
      // Armijo; or, where J is flat to float precision near the optimum, a smaller gradient.
      accepted =
        fTrial <= f + 1e-4 * step * slope || (Math.abs(fTrial - f) <= 1e-14 * Math.abs(f) && norm(gTrial) < gNorm);
      if (!accepted) step *= 0.5;
    }
    if (!accepted) break; // no progress even at a tiny step: at the optimum to float precision
    const s = new Float64Array(size);
    const y = new Float64Array(size);
    for (let k = 0; k < size; k++) {
      s[k] = (trial[k] as number) - (W[k] as number);
      y[k] = (gTrial[k] as number) - (g[k] as number);
    }
    const sy = dot(s, y);
    if (sy > 1e-12 * dot(y, y)) {
      if (S.length === memory) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    W.set(trial);
    g.set(gTrial);
    f = fTrial;
    gNorm = norm(g);
    iterations++;
  }
  return {
    head: { classes: C, dim: D, weights: Float32Array.from(W) },
    weights: W,
    lambda: problem.lambda,
    iterations,
    gradientNorm: gNorm,
  };
}

/**
 * Stratified fold of each sample: each class's samples in a seeded shuffle, dealt round-robin,
 * continuing from where the previous class stopped so that folds differ in size by at most one.
 */
export function stratifiedFolds(labels: ArrayLike<number>, classes: number, folds: number, seed: number): Int32Array {
  const out = new Int32Array(labels.length);
  const uniform = seededUniform(seed);
  let next = 0;
  for (let c = 0; c < classes; c++) {
    const members: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === c) members.push(i);
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(uniform() * (i + 1));
      [members[i], members[j]] = [members[j] as number, members[i] as number];
    }
    for (const i of members) out[i] = next++ % folds;
  }
  return out;
}

/** The head fitted by cross-fitting on all labelled real images, and what it measured. */
export interface CrossFittedHead {
  readonly classes: number;
  readonly dim: number;
  /** Applied to every feature vector before any head or neighbour score sees it. */
  readonly standardizer: Standardizer;
  /** The real images, standardised, and their labels (what the folds index). */
  readonly real: FeatureSet;
  /** The fold that holds out each real image. */
  readonly folds: Int32Array;
  /**
   * Extra labelled training data (standardised) in every head's training set, held out by no fold:
   * in the loop, the synthetic instances accepted so far, so the head follows the model as it trains.
   */
  readonly extra: FeatureSet;
  /** Fold k's head: trained on every real image outside fold k. */
  readonly foldHeads: readonly HeadFit[];
  /** Trained on every real image: the head that scores synthetic instances' label quality. */
  readonly full: HeadFit;
  /** The λ chosen, and the cross-validated class-balanced log-loss of every λ tried. */
  readonly lambda: number;
  readonly lambdaLosses: readonly { readonly lambda: number; readonly logLoss: number }[];
  /** Out-of-sample class probabilities of each real image (n × C): from the head of its fold. */
  readonly outOfSample: Float32Array;
}

export interface CrossFitOptions extends Partial<HeadFitSettings> {
  /** Skips the λ search and uses this λ (tests; a user's explicit choice). */
  readonly lambda?: number;
  /** The fold of each real image, 0…folds−1, instead of stratifiedFolds (e.g. kept across rounds). */
  readonly foldAssignment?: Int32Array;
  /** Extra labelled instances (raw features) added to every fold head's and the full head's training set. */
  readonly extra?: FeatureSet;
  /**
   * A fit of a nearby problem with the same folds (the loop's previous round, or the other half of
   * its accepted instances): each head starts from its weights. The optimum is the same (the
   * objective is strictly convex); only the iterations to reach it are fewer.
   */
  readonly warmStart?: CrossFittedHead;
}

/**
 * Standardises, chooses λ by K-fold CV log-loss (ties go to the stronger regularisation), and
 * returns the fold heads at that λ, their out-of-sample probabilities and the full-data head.
 * The λ path runs from strong to weak regularisation, each fit warm-started from the previous.
 */
export function crossFitHead(real: FeatureSet, classes: number, options: CrossFitOptions = {}): CrossFittedHead {
  const settings: HeadFitSettings = { ...HEAD_FIT_DEFAULTS, ...options };
  const n = real.labels.length;
  const K = settings.folds;
  if (!(Number.isInteger(K) && K >= 2)) throw new RangeError(`folds must be an integer ≥ 2, not ${K}`);
  const dim = n === 0 ? 0 : real.features.length / n;
  if (n < 2 * K)
    throw new WinnowError(
      `Cross-fitting the head needs at least ${2 * K} labelled real images (${K} folds of two or more); the project has ${n}.`,
      'Import more labelled real images (winnow import real).',
    );
  const standardizer = fitStandardizer(real.features, dim);
  const set: FeatureSet = { features: standardize(standardizer, real.features), labels: real.labels };
  const folds = options.foldAssignment ?? stratifiedFolds(real.labels, classes, K, settings.foldSeed);
  if (folds.length !== n || folds.some((f) => !(f >= 0 && f < K)))
    throw new RangeError(`foldAssignment must give each of the ${n} real images a fold in 0…${K - 1}`);
  const extra: FeatureSet =
    options.extra === undefined
      ? { features: new Float32Array(0), labels: new Int32Array(0) }
      : { features: standardize(standardizer, options.extra.features), labels: options.extra.labels };
  const trainSets: FeatureSet[] = [];
  for (let k = 0; k < K; k++)
    trainSets.push(
      withExtra(
        subset(set, folds, (f) => f !== k, dim),
        extra,
      ),
    );
  const grid = options.lambda === undefined ? [...settings.lambdaGrid].sort((a, b) => b - a) : [options.lambda];
  const balanced = classBalancedWeights(real.labels, classes);
  let best: { lambda: number; logLoss: number; fits: HeadFit[]; probs: Float64Array } | undefined;
  const lambdaLosses: { lambda: number; logLoss: number }[] = [];
  const warm =
    options.warmStart?.dim === dim && options.warmStart.foldHeads.length === K ? options.warmStart : undefined;
  let previous: readonly HeadFit[] | undefined = warm?.foldHeads;
  const search = grid.length > 1 ? { ...settings, gradientTolerance: settings.searchGradientTolerance } : settings;
  for (const lambda of grid) {
    const fits = trainSets.map((train, k) =>
      fitLogistic(logisticProblem(train, classes, dim, lambda), search, previous?.[k]?.weights),
    );
    const probs = outOfSampleProbabilities(set, folds, fits, classes, dim);
    let logLoss = 0;
    for (let i = 0; i < n; i++) {
      const y = real.labels[i] as number;
      logLoss -= (balanced[i] as number) * Math.log(Math.max(probs[i * classes + y] as number, 1e-15));
    }
    lambdaLosses.push({ lambda, logLoss });
    if (best === undefined || logLoss < best.logLoss) best = { lambda, logLoss, fits, probs };
    previous = fits;
  }
  const chosen = best!;
  if (search !== settings) {
    chosen.fits = chosen.fits.map((f, k) =>
      fitLogistic(logisticProblem(trainSets[k]!, classes, dim, chosen.lambda), settings, f.weights),
    );
    chosen.probs = outOfSampleProbabilities(set, folds, chosen.fits, classes, dim);
  }
  const full = fitLogistic(
    logisticProblem(withExtra(set, extra), classes, dim, chosen.lambda),
    settings,
    warm?.full.weights ?? meanWeights(chosen.fits),
  );
  return {
    classes,
    dim,
    standardizer,
    real: set,
    folds,
    extra,
    foldHeads: chosen.fits,
    full,
    lambda: chosen.lambda,
    lambdaLosses: lambdaLosses.sort((a, b) => a.lambda - b.lambda),
    outOfSample: Float32Array.from(chosen.probs),
  };
}

/** Each sample's class probabilities (n × C) from the head of its fold. */
function outOfSampleProbabilities(
  set: FeatureSet,
  folds: Int32Array,
  fits: readonly HeadFit[],
  classes: number,
  dim: number,
): Float64Array {
  const probs = new Float64Array(set.labels.length * classes);
  fits.forEach((fit, k) => {
    const held = indices(folds, (f) => f === k);
    const p = probabilities(fit.weights, gather(set.features, held, dim), dim, classes);
    held.forEach((i, r) => probs.set(p.subarray(r * classes, (r + 1) * classes), i * classes));
  });
  return probs;
}

/** Accuracy of the out-of-sample predictions on the real images: what `score` and `run` report. */
export function crossValidatedAccuracy(fit: CrossFittedHead): number {
  const { classes: C, outOfSample: p, real } = fit;
  let correct = 0;
  for (let i = 0; i < real.labels.length; i++) {
    let top = 0;
    for (let c = 1; c < C; c++) if ((p[i * C + c] as number) > (p[i * C + top] as number)) top = c;
    if (top === real.labels[i]) correct++;
  }
  return real.labels.length === 0 ? 0 : correct / real.labels.length;
}

/**
 * Class probabilities (n × C) of synthetic instances (raw features): from the full-data head. No
 * synthetic instance is in any head's training set, so the full head is as out-of-sample for them
 * as a fold head, and it has seen K/(K−1) times the real data at 1/K of the cost of averaging.
 */
export async function headProbabilities(fit: CrossFittedHead, features: Float32Array): Promise<Float32Array> {
  const C = fit.classes;
  const out = new Float32Array((features.length / fit.dim) * C);
  await forEachAffineChunk(features, affineStack(fit.standardizer, [fit.full.weights]), (start, rows, Y) => {
    for (let r = 0; r < rows; r++) {
      let max = -Infinity;
      for (let c = 0; c < C; c++) max = Math.max(max, Y[r * C + c] as number);
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp((Y[r * C + c] as number) - max);
      for (let c = 0; c < C; c++) out[(start + r) * C + c] = Math.exp((Y[r * C + c] as number) - max) / sum;
    }
  });
  return out;
}

export function indices(folds: Int32Array, keep: (fold: number) => boolean): number[] {
  const out: number[] = [];
  folds.forEach((f, i) => {
    if (keep(f)) out.push(i);
  });
  return out;
}

export function gather(features: Float32Array, rows: readonly number[], dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((i, r) => out.set(features.subarray(i * dim, (i + 1) * dim), r * dim));
  return out;
}

/** The given rows of a set, features and labels, in that order. */
export function rowsOf(
  set: FeatureSet,
  rows: readonly number[],
  dim: number,
): { features: Float32Array; labels: Int32Array } {
  return { features: gather(set.features, rows, dim), labels: Int32Array.from(rows, (i) => set.labels[i] as number) };
}

export function subset(set: FeatureSet, folds: Int32Array, keep: (fold: number) => boolean, dim: number): FeatureSet {
  return rowsOf(set, indices(folds, keep), dim);
}

/** Fold k's training set: the real images outside fold k, then the extra instances (standardised). */
export function foldTrainingSet(fit: CrossFittedHead, k: number): FeatureSet {
  return withExtra(
    subset(fit.real, fit.folds, (f) => f !== k, fit.dim),
    fit.extra,
  );
}

function withExtra(set: FeatureSet, extra: FeatureSet): FeatureSet {
  if (extra.labels.length === 0) return set;
  const features = new Float32Array(set.features.length + extra.features.length);
  features.set(set.features);
  features.set(extra.features, set.features.length);
  const labels = new Int32Array(set.labels.length + extra.labels.length);
  labels.set(set.labels);
  labels.set(extra.labels, set.labels.length);
  return { features, labels };
}

function meanWeights(fits: readonly HeadFit[]): Float64Array {
  const out = new Float64Array(fits[0]!.weights.length);
  for (const fit of fits) axpy(1 / fits.length, fit.weights, out);
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (a[k] as number) * (b[k] as number);
  return s;
}

function norm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

/** y += a·x */
function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let k = 0; k < y.length; k++) y[k]! += a * (x[k] as number);
}
