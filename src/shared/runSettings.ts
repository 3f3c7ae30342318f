import { z } from 'zod';
import { DEFAULT_SCORE_KIND } from './scoreKinds.ts';

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
} as const;

/**
 * The default rule: keep the top 70% of each class. It suits the default ranking `quality`, a
 * log-likelihood-like score with no fixed zero (a threshold would need a number per dataset), and
 * compares a class's instances only with each other, so no class is accepted or rejected wholesale.
 */
export const DEFAULT_RULE = RULE_DEFAULTS['class-percentile'];

/** What decides acceptance by default in `winnow score` and `winnow run`: the default ranking. */
export const DEFAULT_FILTER = DEFAULT_SCORE_KIND;

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

/** Every acceptance rule (see src/main/learn/acceptance.ts for what each keeps). */
export const ruleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('threshold'), threshold: z.number() }),
  z.object({ kind: z.literal('percentile'), keep: z.number().gt(0).max(1), window: z.number().int().positive() }),
  z.object({ kind: z.literal('top-k'), k: z.number().int().positive() }),
  z.object({ kind: z.literal('class-percentile'), keep: z.number().gt(0).max(1) }),
  z.object({ kind: z.literal('all') }),
  z.object({ kind: z.literal('random'), keep: z.number().min(0).max(1), seed: z.number().int() }),
]);
export type AcceptanceRule = z.infer<typeof ruleSchema>;
