/**
 * Every score kind Winnow computes for synthetic instances, "higher = keep" for all of them: the
 * contribution (cosine and inner product against the real gradient, and BSGAL's loss estimate, the
 * exact real-loss drop after one step) and the baselines' scores.
 */
export const HEAD_SCORE_KINDS = [
  'contribution',
  'contribution_inner',
  'contribution_lookahead',
  'self_confidence',
  'normalized_margin',
  'small_loss',
  'prototype',
] as const;
export type HeadScoreKind = (typeof HEAD_SCORE_KINDS)[number];

/**
 * Scores that need an optional model: `clip`, the CLIP image–text cosine of an instance with its
 * class prompt (the "+CLIP" filter of the BSGAL paper's table), when a CLIP model is given.
 */
export const MODEL_SCORE_KINDS = ['clip'] as const;

export const SCORE_KINDS = [...HEAD_SCORE_KINDS, ...MODEL_SCORE_KINDS] as const;
export type ScoreKindName = (typeof SCORE_KINDS)[number];

/** What can decide acceptance in a run: any score kind, or a fixed baseline policy. */
export const LOOP_FILTERS = [...SCORE_KINDS, 'all', 'random', 'none'] as const;

export const ACQUISITIONS = ['random', 'entropy', 'margin', 'least-confidence'] as const;
