import {
  type AcceptanceRule,
  chooseOnValidation,
  decide,
  type RuleTrial,
  type ScoreRule,
} from '../learn/acceptance.ts';
import { crossValidatedAccuracy, type CrossFitOptions, rowsOf } from '../learn/headFit.ts';
import { SCORING_DEFAULTS, type ScoringSettings } from '../learn/learnDefaults.ts';
import type { ImageEncoder } from '../models/imageEncoder.ts';
import { writeTransaction } from '../store/database.ts';
import { type InstanceKey, listInstanceKeys } from '../store/instances.ts';
import type { Project } from '../store/project.ts';
import { createRun, finishRun, recordMetric } from '../store/runs.ts';
import { accuracy, type FeatureSet, type SoftmaxHead } from '../learn/softmaxHead.ts';
import { featuresOf } from './featureCache.ts';
import { allRealData, emptySet, loadRealData, type RealData } from './realData.ts';
import { decidingKind, DEFAULT_FILTER, SCORE_DEFAULT_RULE, VALIDATED_CANDIDATES } from '../../shared/runSettings.ts';
import type { ScoreKindName } from '../../shared/scoreKinds.ts';
import { recordRuleChoice, recordScored, type RuleChoice, type ScoredInstances, scoreInstances } from './scoreStage.ts';
import type { ClipModel } from '../models/clip.ts';
import { WinnowError } from '../errors.ts';
import { fitTrainedHead, scoringReference } from './scoring.ts';

export interface ScoreOptions {
  /** The score kind that decides ('clip' needs `clip`). */
  readonly by: ScoreKindName;
  /** A CLIP model: adds the `clip` score kind. */
  readonly clip?: ClipModel;
  readonly rule: AcceptanceRule;
  /** The scores' tunables (quality's weights, k, damping, η). */
  readonly settings: ScoringSettings;
  /** The head fit's settings (folds, λ grid or a fixed λ); defaults: learnDefaults.ts. */
  readonly head?: Pick<CrossFitOptions, 'folds' | 'lambdaGrid' | 'lambda'>;
}

export const defaultScoreOptions: ScoreOptions = {
  by: DEFAULT_FILTER,
  rule: SCORE_DEFAULT_RULE,
  settings: SCORING_DEFAULTS,
};

export interface ScoreResult {
  readonly runId: number;
  readonly scored: number;
  readonly accepted: number;
  /** Out-of-sample accuracy of the cross-fitted head on the labelled real images. */
  readonly cvAccuracy: number;
  readonly lambda: number;
  /** Under the validated rule: its candidates, each one's validation accuracy, and its pick. */
  readonly choice?: RuleChoice;
  /** Where the project has a test split: what the accepted instances do for a head on held-out real images. */
  readonly test?: TestReport;
}

/**
 * Accuracy on the test split (which nothing fits, scores or chooses on) of a head trained as the loop
 * trains one (fitTrainedHead, the run's λ): on the real training images alone, and with the accepted
 * instances (a curator's override wins) added.
 */
export interface TestReport {
  readonly images: number;
  readonly realOnly: number;
  readonly withAccepted: number;
}

/**
 * Scores every synthetic instance of the project, however it was made, against the project's real
 * data, with no generation: the head is cross-fitted on every labelled real image (train and
 * validation splits) and each instance gets every score kind (scoring.ts). Decisions follow the
 * rule; a curator's override stays as it is.
 */
export async function scoreProject(
  project: Project,
  encoder: ImageEncoder,
  options: ScoreOptions = defaultScoreOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<ScoreResult> {
  const { db } = project;
  if (options.by === 'clip' && !options.clip)
    throw new WinnowError('Deciding by the clip score needs a CLIP model.', 'Pass --clip <name> (see winnow models).');
  const real = await loadRealData(project, encoder);
  const reference = await scoringReference(
    allRealData(real),
    real.classes.length,
    options.settings,
    options.head ?? {},
  );
  // Ids, labels and hashes only: with the feature matrix and the scores, what a scoring pass holds.
  const instances = listInstanceKeys(db);
  const features = await featuresOf(
    project,
    encoder,
    instances.map((i) => i.imageHash),
    onProgress ? { onProgress } : {},
  );
  const scored = await scoreInstances(project, reference, real, instances, features, options.clip);
  const { accepted, choice, head } = decideAll(options, scored, real, reference.fit.lambda);
  const test = testReport(scored, accepted, real, reference.fit.lambda, head);
  const cvAccuracy = crossValidatedAccuracy(reference.fit);
  const runId = createRun(
    db,
    'score',
    { by: options.by, rule: options.rule, settings: options.settings, lambda: reference.fit.lambda },
    { encoder: encoder.id, ...(options.clip ? { clip: options.clip.id } : {}) },
  );
  writeTransaction(db, () => {
    recordScored(db, scored, accepted, runId, null);
    recordMetric(db, runId, 0, 'scored', instances.length);
    recordMetric(db, runId, 0, 'accepted', accepted.filter(Boolean).length);
    recordMetric(db, runId, 0, 'cv_accuracy', cvAccuracy);
    recordMetric(db, runId, 0, 'lambda', reference.fit.lambda);
    if (choice) recordRuleChoice(db, runId, 0, choice);
    if (test) {
      recordMetric(db, runId, 0, 'test_accuracy', test.withAccepted);
      recordMetric(db, runId, 0, 'test_accuracy_real_only', test.realOnly);
    }
    finishRun(db, runId, 'done');
  });
  return {
    runId,
    scored: instances.length,
    accepted: accepted.filter(Boolean).length,
    cvAccuracy,
    lambda: reference.fit.lambda,
    ...(choice ? { choice } : {}),
    ...(test ? { test } : {}),
  };
}

/** The instances a decision keeps, a curator's override winning, as a training set. */
function acceptedSet(scored: ScoredInstances<InstanceKey>, accepted: readonly boolean[]): FeatureSet {
  const dim = scored.set.features.length / Math.max(1, scored.instances.length);
  const rows = scored.instances.flatMap((inst, k) =>
    (inst.override ?? (accepted[k] ? 'accepted' : 'rejected')) === 'accepted' ? [k] : [],
  );
  return rowsOf(scored.set, rows, dim);
}

/** `trained`: the head on the real training images and the accepted instances, where the decision already fitted it. */
function testReport(
  scored: ScoredInstances<InstanceKey>,
  accepted: readonly boolean[],
  real: RealData,
  lambda: number,
  trained: SoftmaxHead | undefined,
): TestReport | undefined {
  if (real.test.labels.length === 0) return undefined;
  const C = real.classes.length;
  const withAccepted = trained ?? fitTrainedHead(real.train, acceptedSet(scored, accepted), C, lambda);
  return {
    images: real.test.labels.length,
    realOnly: accuracy(fitTrainedHead(real.train, emptySet(), C, lambda), real.test),
    withAccepted: accuracy(withAccepted, real.test),
  };
}

/**
 * The rule's decisions; the validated rule trains a head on the real training images plus what each
 * candidate accepts (a curator's override wins) and the validation split chooses (chooseOnValidation);
 * it returns the chosen candidate's head.
 */
function decideAll(
  options: ScoreOptions,
  scored: ScoredInstances<InstanceKey>,
  real: RealData,
  lambda: number,
): { accepted: boolean[]; choice?: RuleChoice; head?: SoftmaxHead } {
  const scoresFor = (rule: ScoreRule) => scored.scores[decidingKind(rule, options.by)]!;
  if (options.rule.kind !== 'validated') return decide(options.rule, scoresFor(options.rule), scored.set.labels);
  const trials = VALIDATED_CANDIDATES.map((rule): RuleTrial => {
    const { accepted } = decide(rule, scoresFor(rule), scored.set.labels);
    return {
      rule,
      accepted,
      head: fitTrainedHead(real.train, acceptedSet(scored, accepted), real.classes.length, lambda),
    };
  });
  const { chosen, accuracies } = chooseOnValidation(trials, real.val);
  return {
    accepted: chosen.accepted,
    choice: { rule: chosen.rule, trials: VALIDATED_CANDIDATES, accuracies },
    head: chosen.head,
  };
}
