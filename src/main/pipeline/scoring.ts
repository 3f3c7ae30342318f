import { meanGradient } from '../learn/contribution.ts';
import { contributions } from '../learn/contributionGraph.ts';
import {
  type CrossFitOptions,
  type CrossFittedHead,
  crossFitHead,
  fitLogistic,
  rowsOf,
  headProbabilities,
  indices,
  logisticProblem,
} from '../learn/headFit.ts';
import {
  crossFittedLookahead,
  type InfluenceReference,
  influenceReference,
  influenceScores,
} from '../learn/influence.ts';
import {
  classPrototypes,
  confidenceThresholds,
  confidentMargin,
  labelQualityFromProbabilities,
  prototypeSimilarity,
} from '../learn/labelQuality.ts';
import { SCORING_DEFAULTS, type ScoringSettings } from '../learn/learnDefaults.ts';
import { type NeighbourReference, neighbourReference, neighbourScores } from '../learn/neighbours.ts';
import type { FeatureSet, SoftmaxHead } from '../learn/softmaxHead.ts';
import { fitStandardizer, forEachStandardizedChunk, standardize } from '../learn/standardizer.ts';
import { concatSets } from './realData.ts';
import type { ScoreEntry } from '../store/scores.ts';
import type { HeadScoreKind } from '../../shared/scoreKinds.ts';

/**
 * The one scoring function of `winnow score` and the loop's score stage. Everything is measured
 * against the head cross-fitted on ALL labelled real images (learn/headFit.ts): the label-quality
 * baselines from its probabilities, the contribution kinds from each fold head against its own
 * held-out real fold (averaged over the folds), realism and label vote from the k nearest real
 * images in the standardised feature space, and `quality`, the default ranking, from those.
 */

/** What the scores of synthetic instances are measured against: built once, used for any number of sets. */
export interface ScoringReference {
  readonly fit: CrossFittedHead;
  readonly influence: InfluenceReference;
  readonly neighbours: NeighbourReference;
  /** Per fold, the mean loss gradient of the fold head on its held-out real fold (the first-order scores' G). */
  readonly heldOutGradients: readonly Float32Array[];
  /** Class means of the real features (raw), for the prototype kind. */
  readonly prototypes: Float32Array;
  /** Confident learning's per-class thresholds, from the real images' out-of-sample probabilities. */
  readonly confidenceThresholds: Float64Array;
  readonly settings: ScoringSettings;
}

/**
 * Fits the cross-fitted head on `real` (options: fixed λ, folds, grid, and `extra` training data,
 * e.g. the loop's accepted instances), then the influence directions and neighbour references.
 * `warmStart`, the reference of a nearby problem, is where the head fits and influence solves
 * start from: the same result, sooner.
 */
export async function scoringReference(
  real: FeatureSet,
  classes: number,
  settings: ScoringSettings = SCORING_DEFAULTS,
  head: Omit<CrossFitOptions, 'warmStart'> = {},
  warmStart?: ScoringReference,
): Promise<ScoringReference> {
  const fit = crossFitHead(real, classes, warmStart ? { ...head, warmStart: warmStart.fit } : head);
  const heldOutGradients = fit.foldHeads.map((f, k) => {
    return meanGradient(
      f.head,
      rowsOf(
        fit.real,
        indices(fit.folds, (fold) => fold === k),
        fit.dim,
      ),
    );
  });
  return {
    fit,
    influence: influenceReference(
      fit,
      warmStart ? { damping: settings.damping, warmStart: warmStart.influence } : { damping: settings.damping },
    ),
    neighbours: await neighbourReference(fit, settings.neighbours),
    heldOutGradients,
    prototypes: classPrototypes(real, classes, fit.dim),
    confidenceThresholds: confidenceThresholds(fit.outOfSample, fit.real.labels, classes),
    settings,
  };
}

/** What the computations share for one set: each piece computed once, on first use. */
interface ScoringInputs {
  readonly reference: ScoringReference;
  readonly set: FeatureSet;
  /** The head's out-of-sample class probabilities of the set (n × C). */
  readonly probabilities: () => Promise<Float32Array>;
  readonly labelQuality: () => Promise<ReturnType<typeof labelQualityFromProbabilities>>;
  readonly firstOrder: () => Promise<{ cosine: Float32Array; inner: Float32Array }>;
  readonly neighbourScores: () => Promise<{ realism: Float32Array; labelVote: Float32Array }>;
}

/**
 * One computation per kind of the registry that needs no optional model (the type makes a missing
 * one a compile error; test/pipeline/scoring.test.ts checks the table against the registry).
 * `quality` is computed last, from the others.
 */
const COMPUTATIONS: {
  readonly [K in Exclude<HeadScoreKind, 'quality'>]: (x: ScoringInputs) => Promise<Float32Array> | Float32Array;
} = {
  contribution: async (x) => (await x.firstOrder()).cosine,
  contribution_inner: async (x) => (await x.firstOrder()).inner,
  contribution_lookahead: (x) => crossFittedLookahead(x.reference.fit, x.set, x.reference.settings.lookaheadStep),
  influence: (x) => influenceScores(x.reference.fit, x.reference.influence, x.set),
  self_confidence: async (x) => (await x.labelQuality()).selfConfidence,
  normalized_margin: async (x) => (await x.labelQuality()).normalizedMargin,
  small_loss: async (x) => (await x.labelQuality()).negativeLoss,
  confident_margin: async (x) =>
    confidentMargin(await x.probabilities(), x.set.labels, x.reference.confidenceThresholds, x.reference.fit.classes),
  label_vote: async (x) => (await x.neighbourScores()).labelVote,
  realism: async (x) => (await x.neighbourScores()).realism,
  prototype: (x) => prototypeSimilarity(x.reference.prototypes, x.set, x.reference.fit.dim),
};

/** The kinds the scoring function computes, `quality` included (for the registry's completeness test). */
export const COMPUTED_KINDS: readonly HeadScoreKind[] = [...Object.keys(COMPUTATIONS), 'quality'] as HeadScoreKind[];

/**
 * Every score kind (but the optional model's) of every instance of `set` (raw features, pseudo-labels).
 * `probabilities`: the head's class probabilities of `set` (headProbabilities), when the caller has them.
 */
export async function scoreAll(
  reference: ScoringReference,
  set: FeatureSet,
  probabilities?: Float32Array,
): Promise<Record<HeadScoreKind, Float32Array>> {
  const once = <T>(make: () => T): (() => T) => {
    let value: { v: T } | undefined;
    return () => (value ??= { v: make() }).v;
  };
  const { fit } = reference;
  const classProbabilities = once(async () => probabilities ?? (await headProbabilities(fit, set.features)));
  const inputs: ScoringInputs = {
    reference,
    set,
    probabilities: classProbabilities,
    labelQuality: once(async () => labelQualityFromProbabilities(await classProbabilities(), set.labels, fit.classes)),
    firstOrder: once(async () => {
      const n = set.labels.length;
      const cosine = new Float32Array(n);
      const inner = new Float32Array(n);
      const K = fit.foldHeads.length;
      await forEachStandardizedChunk(fit.standardizer, set, async (start, chunk) => {
        for (let k = 0; k < K; k++) {
          const c = await contributions(fit.foldHeads[k]!.head, reference.heldOutGradients[k]!, chunk);
          c.cosine.forEach((v, i) => (cosine[start + i]! += v / K));
          c.inner.forEach((v, i) => (inner[start + i]! += v / K));
        }
      });
      return { cosine, inner };
    }),
    neighbourScores: once(() => neighbourScores(fit, reference.neighbours, set)),
  };
  const out = {} as Record<HeadScoreKind, Float32Array>;
  for (const [kind, compute] of Object.entries(COMPUTATIONS)) out[kind as HeadScoreKind] = await compute(inputs);
  out.quality = qualityScores(out, reference.settings, fit.classes);
  return out;
}

/**
 * The default ranking, three log-scale terms (learnDefaults.ts, QUALITY_DEFAULTS):
 *   quality = log max(self_confidence, 1e-12)
 *           + realismWeight · realism                       (0 where realism is undefined)
 *           + voteWeight · log((label_vote · k + 1) / (k + C))
 * The first is the head's log-likelihood of the label; realism is a log density ratio against the
 * class's real images; the last is the log of the k-NN vote's Laplace-smoothed label probability.
 * Each is scale-free (a log of a ratio), so weights of 1 add like log-likelihoods.
 */
export function qualityScores(
  kinds: Pick<Record<HeadScoreKind, Float32Array>, 'self_confidence' | 'realism' | 'label_vote'>,
  settings: Pick<ScoringSettings, 'realismWeight' | 'voteWeight' | 'neighbours'>,
  classes: number,
): Float32Array {
  const k = settings.neighbours;
  return kinds.self_confidence.map((p, i) => {
    const realism = kinds.realism[i] as number;
    const votes = (kinds.label_vote[i] as number) * k;
    return (
      Math.log(Math.max(p, 1e-12)) +
      settings.realismWeight * (Number.isFinite(realism) ? realism : 0) +
      settings.voteWeight * Math.log((votes + 1) / (k + classes))
    );
  });
}

/**
 * BSGAL's per-batch decision, cross-fitted: for each fold, the cosine between the held-out real
 * gradient and the mean gradient of a whole batch (consecutive groups of `batchSize`), averaged
 * over the folds and given to every member of the batch.
 */
export function batchContributions(reference: ScoringReference, set: FeatureSet, batchSize: number): Float32Array {
  const { fit } = reference;
  const x = { features: standardize(fit.standardizer, set.features), labels: set.labels };
  const out = new Float32Array(set.labels.length);
  fit.foldHeads.forEach((f, k) => {
    const scores = batchCosines(f.head, reference.heldOutGradients[k]!, x, batchSize);
    scores.forEach((s, i) => (out[i]! += s / fit.foldHeads.length));
  });
  return out;
}

/** BSGAL's per-batch cosine for one head and real gradient. */
export function batchCosines(
  head: SoftmaxHead,
  realGradient: Float32Array,
  set: FeatureSet,
  batchSize: number,
): Float32Array {
  const n = set.labels.length;
  const out = new Float32Array(n);
  const D = head.dim;
  let gNorm = 0;
  for (const v of realGradient) gNorm += v * v;
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const g = meanGradient(head, {
      features: set.features.subarray(start * D, end * D),
      labels: set.labels.subarray(start, end),
    });
    let dot = 0;
    let norm = 0;
    g.forEach((v, k) => {
      dot += v * (realGradient[k] as number);
      norm += v * v;
    });
    out.fill(norm === 0 || gNorm === 0 ? 0 : dot / Math.sqrt(norm * gNorm), start, end);
  }
  return out;
}

/**
 * The full head as a SoftmaxHead on raw features: the standardisation folded into its weights
 * (w/σ, b − w·μ/σ), so checkpoints, planning and acquisition take raw features as before.
 */
export function rawHead(
  fit: Pick<CrossFittedHead, 'standardizer' | 'classes' | 'dim'>,
  weights: ArrayLike<number>,
): SoftmaxHead {
  const { mean, scale } = fit.standardizer;
  const { classes: C, dim: D } = fit;
  const out = new Float32Array(C * (D + 1));
  for (let c = 0; c < C; c++) {
    let bias = weights[c * (D + 1) + D] as number;
    for (let d = 0; d < D; d++) {
      const w = (weights[c * (D + 1) + d] as number) / (scale[d] as number);
      out[c * (D + 1) + d] = w;
      bias -= w * (mean[d] as number);
    }
    out[c * (D + 1) + D] = bias;
  }
  return { classes: C, dim: D, weights: out };
}

/**
 * The history entries of scored instances: every kind's value, in the registry's order. A value
 * that is not finite (realism of a class with fewer than two real images) is not recorded: the
 * instance is unscored by that kind.
 */
export function* scoreEntries(
  instances: readonly { readonly id: number }[],
  scores: Partial<Record<string, Float32Array>>,
  runId: number,
  roundIndex: number | null,
): Generator<ScoreEntry> {
  // Yielded one at a time: a million instances' entries of every kind as objects would be GBs.
  const kinds = Object.entries(scores);
  for (const [k, inst] of instances.entries()) {
    for (const [kind, values] of kinds) {
      const value = values![k] as number;
      if (Number.isFinite(value)) yield { instanceId: inst.id, kind, value, runId, roundIndex };
    }
  }
}

/**
 * The loop's model, fitted like the scores' head (standardised on the real training images,
 * class-balanced, L-BFGS to convergence at the run's λ; deterministic) on the real training images
 * plus the accepted synthetic ones, returned as a head on raw features.
 */
export function fitTrainedHead(
  realTrain: FeatureSet,
  synthetic: FeatureSet,
  classes: number,
  lambda: number,
): SoftmaxHead {
  const dim = realTrain.features.length / Math.max(1, realTrain.labels.length);
  const standardizer = fitStandardizer(realTrain.features, dim);
  const set = concatSets([realTrain, synthetic]);
  const fit = fitLogistic(
    logisticProblem({ features: standardize(standardizer, set.features), labels: set.labels }, classes, dim, lambda),
  );
  return rawHead({ standardizer, classes, dim }, fit.weights);
}
