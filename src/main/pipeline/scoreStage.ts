import type { ScoreRule } from '../learn/acceptance.ts';
import { headProbabilities } from '../learn/headFit.ts';
import { mostProbable } from '../learn/labelQuality.ts';
import type { FeatureSet } from '../learn/softmaxHead.ts';
import type { ClipModel } from '../models/clip.ts';
import type { Db } from '../store/database.ts';
import { type Instance, type InstanceKey, setStatus } from '../store/instances.ts';
import type { Project } from '../store/project.ts';
import { recordMetric } from '../store/runs.ts';
import { recordScores } from '../store/scores.ts';
import { type LabelSuggestion, recordSuggestions } from '../store/suggestions.ts';
import { RULE_CHOSEN, RULE_VAL_ACCURACY, ruleLabel } from '../../shared/runSettings.ts';
import type { ScoreKindName } from '../../shared/scoreKinds.ts';
import { clipScoresOf } from './clipScores.ts';
import { concatArrays, concatSets, type RealData } from './realData.ts';
import { scoreAll, scoreEntries, type ScoringReference } from './scoring.ts';

/**
 * Score → decide → record, the steps `winnow score` and the loop's score stage share: every kind of
 * every instance against one reference, then (learn/acceptance.ts's `decide`) the decision of one
 * kind under one rule, then the scores, suggested labels and decisions written together (inside the
 * caller's write transaction).
 */

export type KindScores = Partial<Record<ScoreKindName, Float32Array>>;

/** Instances with their features and pseudo-labels (head output indices), and every score kind of each. */
export interface ScoredInstances<I extends InstanceKey = Instance> {
  readonly instances: readonly I[];
  readonly set: FeatureSet;
  readonly scores: KindScores;
  /**
   * Each instance's suggested label: the scoring head's most probable class (a class id) and its
   * probability. The head never trained on the instance it scores, so this is out-of-sample.
   */
  readonly suggestions: { readonly labelIds: Int32Array; readonly probabilities: Float32Array };
}

/** Every kind of the registry for `instances` (raw features in `features`, in the same order); `clip` adds its kind. */
export async function scoreInstances<I extends InstanceKey>(
  project: Project,
  reference: ScoringReference,
  real: RealData,
  instances: readonly I[],
  features: Float32Array,
  clip?: ClipModel,
  signal?: AbortSignal,
): Promise<ScoredInstances<I>> {
  const set: FeatureSet = { features, labels: Int32Array.from(instances, (i) => real.indexOf.get(i.labelId) ?? 0) };
  const probabilities = await headProbabilities(reference.fit, features);
  const scores: KindScores = await scoreAll(reference, set, probabilities);
  const top = mostProbable(probabilities, reference.fit.classes);
  const suggestions = {
    labelIds: Int32Array.from(top.classes, (k) => real.classes[k]!.id),
    probabilities: top.probabilities,
  };
  if (clip)
    scores.clip = await clipScoresOf(
      project,
      clip,
      instances.map((i) => i.imageHash),
      set.labels,
      real.classes,
      signal,
    );
  return { instances, set, scores, suggestions };
}

/** Scored groups as one (instances, features, labels and every kind's values in the groups' order). */
export function concatScored<I extends InstanceKey>(parts: readonly ScoredInstances<I>[]): ScoredInstances<I> {
  const kinds = Object.keys(parts[0]?.scores ?? {}) as ScoreKindName[];
  return {
    instances: parts.flatMap((p) => p.instances),
    set: concatSets(parts.map((p) => p.set)),
    scores: Object.fromEntries(kinds.map((kind) => [kind, concatFloat32(parts.map((p) => p.scores[kind]!))])),
    suggestions: {
      labelIds: concatArrays(
        parts.map((p) => p.suggestions.labelIds),
        (n) => new Int32Array(n),
      ),
      probabilities: concatFloat32(parts.map((p) => p.suggestions.probabilities)),
    },
  };
}

export const concatFloat32 = (arrays: readonly Float32Array[]): Float32Array =>
  concatArrays(arrays, (n) => new Float32Array(n));

/**
 * Records every score of `scored` (plus `extra` kinds, e.g. the loop's batch contributions) as
 * history of `runId` (the extra ones are outside the registry: they are not every instance's), each
 * instance's suggested label, and sets each instance's automatic decision. A curator's override is kept.
 */
export function recordScored(
  db: Db,
  scored: ScoredInstances<InstanceKey>,
  accepted: readonly boolean[],
  runId: number,
  roundIndex: number | null,
  extra: Readonly<Record<string, Float32Array>> = {},
): void {
  recordScores(db, scoreEntries(scored.instances, { ...scored.scores, ...extra }, runId, roundIndex));
  recordSuggestions(db, suggestionsOf(scored, runId, roundIndex));
  scored.instances.forEach((inst, k) => setStatus(db, inst.id, accepted[k] ? 'accepted' : 'rejected'));
}

/** What the validated rule chose among: its candidates, each one's validation accuracy, and the pick. */
export interface RuleChoice {
  readonly rule: ScoreRule;
  readonly trials: readonly ScoreRule[];
  readonly accuracies: readonly number[];
}

/** The validated rule's choice as the run's metrics (names: RULE_VAL_ACCURACY and RULE_CHOSEN). */
export function recordRuleChoice(db: Db, runId: number, round: number, choice: RuleChoice): void {
  choice.trials.forEach((rule, k) =>
    recordMetric(db, runId, round, `${RULE_VAL_ACCURACY}${ruleLabel(rule)}`, choice.accuracies[k]!),
  );
  recordMetric(db, runId, round, `${RULE_CHOSEN}${ruleLabel(choice.rule)}`, 1);
}

/** Each instance's suggested label, one at a time (as scoreEntries, to hold no array of a million objects). */
function* suggestionsOf(
  scored: ScoredInstances<InstanceKey>,
  runId: number,
  roundIndex: number | null,
): Generator<LabelSuggestion> {
  for (const [k, inst] of scored.instances.entries())
    yield {
      instanceId: inst.id,
      labelId: scored.suggestions.labelIds[k] as number,
      probability: scored.suggestions.probabilities[k] as number,
      runId,
      roundIndex,
    };
}
