/**
 * Every score kind Winnow computes for synthetic instances, in one table: "higher = keep" for all
 * of them. Everything else about kinds (the lists below, the API's enums, the CLI's choices, the
 * UI's labels and number formats) is derived from this table, and the scoring function
 * (src/main/pipeline/scoring.ts) holds one computation per row, so adding a kind is one row here
 * and one computation there (a test fails when either is missing).
 */
export type ScoreFamily = 'contribution' | 'label quality' | 'realism' | 'model' | 'combined';

/**
 * What a kind is computed from: the cross-fitted head, the k nearest real images (standardised
 * features), or an optional CLIP model (the kind is only there when one is given).
 */
export type ScoreNeed = 'head' | 'neighbours' | 'clip';

export interface ScoreKindInfo {
  readonly name: string;
  readonly family: ScoreFamily;
  /** A few words for the UI's pickers and legends. */
  readonly label: string;
  /** One sentence: what a high value means. */
  readonly description: string;
  /** [low, high] when the kind is bounded; unbounded kinds have none. */
  readonly range?: readonly [number, number];
  /** Decimal places to show; values too small for them are shown in significant digits instead. */
  readonly digits: number;
  readonly needs: readonly ScoreNeed[];
}

export const SCORE_KIND_TABLE = [
  {
    name: 'quality',
    family: 'combined',
    label: 'Quality (default ranking)',
    description:
      'log self-confidence + realism + log smoothed label vote: how likely the label is right and the image looks real.',
    digits: 3,
    needs: ['head', 'neighbours'],
  },
  {
    name: 'contribution',
    family: 'contribution',
    label: 'Contribution (cosine, BSGAL)',
    description: "Cosine between the instance's gradient and the held-out real gradient, over the folds.",
    range: [-1, 1],
    digits: 3,
    needs: ['head'],
  },
  {
    name: 'contribution_inner',
    family: 'contribution',
    label: 'Contribution (inner product)',
    description: "Inner product of the instance's gradient with the held-out real gradient, over the folds.",
    digits: 4,
    needs: ['head'],
  },
  {
    name: 'contribution_lookahead',
    family: 'contribution',
    label: 'Contribution (look-ahead)',
    description: 'How much one step on the instance lowers the held-out real loss, over the folds.',
    digits: 4,
    needs: ['head'],
  },
  {
    name: 'influence',
    family: 'contribution',
    label: 'Influence',
    description: 'Exact damped influence of up-weighting the instance on the held-out real loss, over the folds.',
    digits: 4,
    needs: ['head'],
  },
  {
    name: 'self_confidence',
    family: 'label quality',
    label: 'Self-confidence',
    description: "The head's probability of the instance's label.",
    range: [0, 1],
    digits: 3,
    needs: ['head'],
  },
  {
    name: 'normalized_margin',
    family: 'label quality',
    label: 'Normalized margin',
    description: "The label's probability minus the largest other class's.",
    range: [-1, 1],
    digits: 3,
    needs: ['head'],
  },
  {
    name: 'small_loss',
    family: 'label quality',
    label: 'Small loss',
    description: 'The negated loss, log p(label): small loss scores high.',
    digits: 3,
    needs: ['head'],
  },
  {
    name: 'confident_margin',
    family: 'label quality',
    label: 'Confident-learning margin',
    description:
      "Negative exactly when confident learning flags the label: a class the head is confident about (its probability reaches the class's mean on real images of it) beats the label.",
    digits: 3,
    needs: ['head'],
  },
  {
    name: 'label_vote',
    family: 'label quality',
    label: 'Label vote',
    description: "The share of the k nearest real images that carry the instance's label.",
    range: [0, 1],
    digits: 2,
    needs: ['neighbours'],
  },
  {
    name: 'realism',
    family: 'realism',
    label: 'Realism',
    description:
      "log(typical k-NN distance among the class's real images / the instance's): 0 is as close as a real image, negative is farther.",
    digits: 3,
    needs: ['neighbours'],
  },
  {
    name: 'prototype',
    family: 'realism',
    label: 'Prototype cosine',
    description: "Cosine of the instance's features to its class's mean real features.",
    range: [-1, 1],
    digits: 3,
    needs: [],
  },
  {
    name: 'clip',
    family: 'model',
    label: 'CLIP score',
    description: "CLIP's image–text cosine of the instance with its class prompt.",
    range: [-1, 1],
    digits: 3,
    needs: ['clip'],
  },
] as const satisfies readonly ScoreKindInfo[];

export type ScoreKindName = (typeof SCORE_KIND_TABLE)[number]['name'];
type Tuple<T> = readonly [T, ...T[]];

export const SCORE_KINDS = SCORE_KIND_TABLE.map((k) => k.name) as unknown as Tuple<ScoreKindName>;

/** The kinds that need an optional model, present only when it is given. */
export type ModelScoreKind = Extract<(typeof SCORE_KIND_TABLE)[number], { needs: readonly ['clip'] }>['name'];
export const MODEL_SCORE_KINDS = SCORE_KIND_TABLE.filter((k) => (k.needs as readonly ScoreNeed[]).includes('clip')).map(
  (k) => k.name,
) as unknown as Tuple<ModelScoreKind>;

/** The kinds every scoring computes from the project's real data alone. */
export type HeadScoreKind = Exclude<ScoreKindName, ModelScoreKind>;
export const HEAD_SCORE_KINDS = SCORE_KINDS.filter(
  (k) => !(MODEL_SCORE_KINDS as readonly string[]).includes(k),
) as unknown as Tuple<HeadScoreKind>;

/** The default ranking: what the review opens with, `score` and `run` decide with, the audit and exports use. */
export const DEFAULT_SCORE_KIND = 'quality' satisfies ScoreKindName;

/** What can decide acceptance in a run: any score kind, or a fixed baseline policy. */
export const LOOP_FILTERS = [...SCORE_KINDS, 'all', 'random', 'none'] as const;

export const ACQUISITIONS = ['random', 'entropy', 'margin', 'least-confidence'] as const;

const BY_NAME = new Map<string, ScoreKindInfo>(SCORE_KIND_TABLE.map((k) => [k.name, k]));

/** The registry's row of a kind (undefined for a kind it does not know, e.g. `contribution_batch`). */
export function scoreKindInfo(kind: string): ScoreKindInfo | undefined {
  return BY_NAME.get(kind);
}

/**
 * A score as the UI shows it: the kind's decimal places, or three significant digits for a value
 * those would show as zero (never "-0.000"); an unknown kind gets four significant digits.
 */
export function formatScore(kind: string, value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  const digits = scoreKindInfo(kind)?.digits;
  if (value === 0) return digits === undefined ? '0' : (0).toFixed(digits);
  if (digits === undefined || Math.abs(value) < 0.5 * 10 ** -digits)
    return value.toPrecision(digits === undefined ? 4 : 3);
  return value.toFixed(digits);
}
