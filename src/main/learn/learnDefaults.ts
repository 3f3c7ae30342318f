/**
 * Every setting of the cross-fitted head and the scores built on it, with its default, in one
 * place. None of these was tuned on the demo's Fashion-MNIST data: they are the textbook choices
 * stated below, to be confirmed or replaced by the leave-one-dataset-out evaluation (issue #11, 7).
 */
export interface HeadFitSettings {
  readonly folds: number;
  readonly lambdaGrid: readonly number[];
  readonly gradientTolerance: number;
  readonly searchGradientTolerance: number;
  readonly maxIterations: number;
  readonly lbfgsMemory: number;
  readonly foldSeed: number;
}

export const HEAD_FIT_DEFAULTS: HeadFitSettings = {
  /**
   * Folds of the cross-fitting and of the cross-validation that picks λ: every labelled real image
   * is held out exactly once. Five is the usual bias/variance compromise (cleanlab's default too).
   */
  folds: 5,
  /**
   * λ candidates (L2 strength on the weights, not the biases, against a class-balanced *mean* loss,
   * on standardised features), half a decade apart. 1e-3 is what scikit-learn's C = 1 amounts to
   * for about a thousand images; the grid spans two decades either side.
   */
  lambdaGrid: [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1],
  /**
   * Convergence: L-BFGS stops when the Euclidean norm of the objective's gradient is below this.
   * The objective is a mean loss (O(1)), so 1e-6 leaves the weights accurate to about
   * 1e-6 / (smallest Hessian eigenvalue ≥ λ).
   */
  gradientTolerance: 1e-6,
  /**
   * The looser tolerance of the fits that only rank λ candidates by CV log-loss (which 1e-4 moves
   * by far less than the grid's steps do); the chosen λ's fold heads are then refined to
   * gradientTolerance. Most of the search's cost is the weakly regularised, ill-conditioned fits.
   */
  searchGradientTolerance: 1e-4,
  /** A safety cap; the tests check that fits end by tolerance, not by this cap. */
  maxIterations: 2000,
  /** Pairs kept by L-BFGS (the usual 10). */
  lbfgsMemory: 10,
  /** Seed of the stratified fold assignment (deterministic: same data, same folds). */
  foldSeed: 0,
};

export const INFLUENCE_DEFAULTS = {
  /**
   * δ added to the Hessian (H + δI) before solving: the bias has a null direction (adding one
   * constant to every class's bias changes nothing), and δ keeps the solve well posed. Small
   * against every λ of the grid but the smallest, so the estimate stays the exact influence.
   */
  damping: 1e-5,
  /** Conjugate gradients stop when ‖r‖ ≤ tolerance · ‖b‖. */
  cgTolerance: 1e-8,
  cgMaxIterations: 1000,
} as const;

export const NEIGHBOUR_DEFAULTS = {
  /**
   * k of the k-nearest-real-images scores (realism and label vote): 10 is what the 0.982
   * label-vote measurement used; realism uses min(k, images of the class − 1) for a small class.
   */
  k: 10,
} as const;

/** BSGAL's look-ahead step η: one plain SGD step of size 1 on the instance alone. */
export const LOOKAHEAD_STEP = 1;

/**
 * The default ranking `quality` (scoring.ts) adds three log-scale terms:
 *   quality = log p(y) + realismWeight · realism + voteWeight · log((votes + 1) / (k + C)),
 * with votes = label_vote · k. Weights 1 are the neutral choice (each term counts as a log-likelihood
 * of its own), NOT tuned on any data; the leave-one-dataset-out evaluation (bench/) chooses them.
 */
export const QUALITY_DEFAULTS = {
  realismWeight: 1,
  voteWeight: 1,
} as const;

/** Every tunable of the scores (what `winnow score` takes as flags), with its default. */
export interface ScoringSettings {
  readonly realismWeight: number;
  readonly voteWeight: number;
  /** k of realism and label vote. */
  readonly neighbours: number;
  /** δ of the influence solve. */
  readonly damping: number;
  /** η of the look-ahead. */
  readonly lookaheadStep: number;
}

export const SCORING_DEFAULTS: ScoringSettings = {
  ...QUALITY_DEFAULTS,
  neighbours: NEIGHBOUR_DEFAULTS.k,
  damping: INFLUENCE_DEFAULTS.damping,
  lookaheadStep: LOOKAHEAD_STEP,
};
