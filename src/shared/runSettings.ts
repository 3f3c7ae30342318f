import { z } from 'zod';
import { DEFAULT_SCORE_KIND, type ScoreKindName } from './scoreKinds.ts';

/**
 * The one home of the acceptance rules' shapes and of the defaults of what decides acceptance,
 * shared by the engine (loop and `winnow score`), the API's schema, the CLI and the UI.
 */

/** BSGAL's rule for its cosine contribution: reject below −0.05. Kept as an option. */
export const BSGAL_THRESHOLD = -0.05;

/** The usual number of each rule kind when the user switches to it. */
export const RULE_DEFAULTS = {
  threshold: { kind: 'threshold', threshold: BSGAL_THRESHOLD },
  percentile: { kind: 'percentile', keep: 0.7, window: 5000 },
  'top-k': { kind: 'top-k', k: 20 },
  'class-percentile': { kind: 'class-percentile', keep: 0.7 },
  confident: { kind: 'confident' },
  validated: { kind: 'validated' },
} as const;

/**
 * The loop's default rule (`winnow run`, the run form): keep every instance unless confident learning
 * flags its label. It sets no share or number: each class's bar is how confident the head is on its
 * real images, so a class whose images are right keeps nearly all of them. Chosen on the loop's
 * validation split among the default ranking's rules (bench/loop-filters.ts: 79.8% against 79.4% for
 * the top 70% or 90% of each class, 79.3% for accepting everything); on the test images it is ahead
 * of all-synthetic at every round. The validated rule matched it in the loop and bought nothing
 * there (bench/results/loop-filters-seeds7-9.md), at five head fits a round instead of one.
 */
export const DEFAULT_RULE = RULE_DEFAULTS.confident;

/**
 * `winnow score`'s default rule: chosen on the project's validation split among VALIDATED_CANDIDATES.
 * An imported set's share of wrong labels is unknown, and on labelled sets of three domains with 20%
 * or 40% of them wrong it beat the confident rule on held-out test images, as the test fixed before
 * the run (commit ac54fce) required: +1.2 ± 0.3 points pooled over 36 sets, no setting below −0.3
 * (bench/results/rule-eval-seeds10-15.md). Its cost: five head fits per scoring pass instead of one.
 */
export const SCORE_DEFAULT_RULE = RULE_DEFAULTS.validated;

/**
 * The rules the validated rule chooses among, in order of preference on a tie: the confident rule
 * (the loop's default), then the top shares of each class that bench/loop-filters.ts compares it with. Each decides, a head is
 * trained on each one's decisions, and the earliest whose head is within one standard error of the
 * best on the project's validation split decides (each round, in the loop, where a run holds its
 * last choice while that one is within one SE; learn/acceptance.ts's chooseOnValidation): the share
 * a dataset needs is read from its own data, not fixed on the demo's.
 */
export const VALIDATED_CANDIDATES = [
  DEFAULT_RULE,
  ...[0.9, 0.8, 0.7, 0.6].map((keep) => ({ ...RULE_DEFAULTS['class-percentile'], keep })),
] as const satisfies readonly ScoreRule[];

/**
 * The validated rule's record of each round, as metric names: each candidate's validation accuracy
 * (`rule_val_accuracy:class-percentile 0.9`), and the one chosen (`rule_chosen:confident`, value 1).
 */
export const RULE_VAL_ACCURACY = 'rule_val_accuracy:';
export const RULE_CHOSEN = 'rule_chosen:';

/** What a test accuracy is, where a run or a scoring pass reports one (the UI's tooltips and notes). */
export const TEST_SPLIT_NOTE =
  "accuracy on the project's test split, which nothing fits, scores or chooses on: the independent figure";

/** A rule in a few words, as tables and metric names show it: `confident`, `class-percentile 0.9`, `threshold -0.05`. */
export function ruleLabel(rule: AcceptanceRule): string {
  switch (rule.kind) {
    case 'threshold':
      return `threshold ${rule.threshold}`;
    case 'percentile':
      return `percentile ${rule.keep} of ${rule.window}`;
    case 'top-k':
      return `top-k ${rule.k}`;
    case 'class-percentile':
    case 'random':
      return `${rule.kind} ${rule.keep}`;
    case 'confident':
    case 'all':
    case 'validated':
      return rule.kind;
  }
}

/** What decides acceptance by default in `winnow score` and `winnow run`: the default ranking. */
export const DEFAULT_FILTER = DEFAULT_SCORE_KIND;

/**
 * The rule a filter decides with when none is given, in the loop (`run`) or one scoring pass
 * (`score`): that command's default rule for the default ranking (and the fixed policies, which
 * ignore it); the top share of each class for any other kind, since the confident rule, and so the
 * validated rule's first candidate, reads confident learning's test and not the filter's score.
 */
export function defaultRuleFor(filter: string, command: 'run' | 'score'): RunRule {
  if (filter !== DEFAULT_FILTER && filter !== 'all' && filter !== 'random' && filter !== 'none')
    return RULE_DEFAULTS['class-percentile'];
  return command === 'score' ? SCORE_DEFAULT_RULE : DEFAULT_RULE;
}

/** The kind the confident rule decides on, whatever ranks the instances: confident learning's test. */
export const CONFIDENT_RULE_KIND = 'confident_margin' satisfies ScoreKindName;

/** The score kind a rule decides on: the confident rule's own, every other rule the filter's. */
export function decidingKind<K extends string>(
  rule: Pick<AcceptanceRule, 'kind'>,
  filter: K,
): K | typeof CONFIDENT_RULE_KIND {
  return rule.kind === 'confident' ? CONFIDENT_RULE_KIND : filter;
}

/** A new run's settings that the UI shows too (the engine's loop.ts adds the rest). */
export const RUN_DEFAULTS = {
  rounds: 5,
  perRound: 200,
  filter: DEFAULT_FILTER,
  rule: DEFAULT_RULE,
  acquisition: 'margin',
  scoring: 'online',
  epsilon: 0.25,
} as const;

/** Each rule's shape and bounds (see src/main/learn/acceptance.ts for what each keeps). */
const RULE_SHAPES = {
  threshold: z.strictObject({ kind: z.literal('threshold'), threshold: z.number().min(-1e6).max(1e6) }),
  percentile: z.strictObject({
    kind: z.literal('percentile'),
    keep: z.number().gt(0).max(1),
    window: z.number().int().min(1).max(1e6),
  }),
  'top-k': z.strictObject({ kind: z.literal('top-k'), k: z.number().int().positive() }),
  'class-percentile': z.strictObject({ kind: z.literal('class-percentile'), keep: z.number().gt(0).max(1) }),
  confident: z.strictObject({ kind: z.literal('confident') }),
  /** Chooses among VALIDATED_CANDIDATES on the validation split. */
  validated: z.strictObject({ kind: z.literal('validated') }),
  all: z.strictObject({ kind: z.literal('all') }),
  random: z.strictObject({ kind: z.literal('random'), keep: z.number().min(0).max(1), seed: z.number().int() }),
};

/** Every acceptance rule the engine runs: the score rules, and the fixed policies the loop's filters map to. */
export const ruleSchema = z.discriminatedUnion('kind', [
  RULE_SHAPES.threshold,
  RULE_SHAPES.percentile,
  RULE_SHAPES['top-k'],
  RULE_SHAPES['class-percentile'],
  RULE_SHAPES.confident,
  RULE_SHAPES.validated,
  RULE_SHAPES.all,
  RULE_SHAPES.random,
]);
export type AcceptanceRule = z.infer<typeof ruleSchema>;
/** The rules that decide from scores alone (every rule but the validated one, which trains a head per candidate). */
export type ScoreRule = Exclude<AcceptanceRule, { kind: 'validated' }>;

/** The rules a run's settings take from the UI and the API: those that decide on a score, with a share or a threshold. */
export const runRuleSchema = z.discriminatedUnion('kind', [
  RULE_SHAPES.threshold,
  RULE_SHAPES.percentile,
  RULE_SHAPES['class-percentile'],
  RULE_SHAPES.confident,
  RULE_SHAPES.validated,
]);
export type RunRule = z.infer<typeof runRuleSchema>;
