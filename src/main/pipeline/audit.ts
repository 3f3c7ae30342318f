import type { AccuracyEstimate, AuditPopulation, AuditSummary } from '../../shared/api.ts';
import { wilsonInterval } from '../learn/metrics.ts';
import { seededUniform } from '../models/random.ts';
import { listClasses } from '../store/classes.ts';
import { type StandingVerdict, standingVerdicts } from '../store/curation.ts';
import type { Db } from '../store/database.ts';
import { countByLabel, effectiveStatus, getInstance, idsOfClassByScore, type Instance } from '../store/instances.ts';
import { latestScore } from '../store/scores.ts';
import { DEFAULT_SCORE_KIND, type ScoreKindName } from '../../shared/scoreKinds.ts';
import { bootstrapAuroc, stratifiedEstimate } from './auditStatistics.ts';

/** The effective status of a population's members: `exported` holds what an export of accepted instances holds. */
function statusOf(population: AuditPopulation): 'accepted' | undefined {
  return population === 'all' ? undefined : 'accepted';
}

/**
 * Draws up to `perClass` instances of each class of a population for a pseudo-label audit, stratified by the
 * default ranking (`quality`): the class's instances sorted by score are cut into `perClass` equal strata and one
 * is drawn from each, so the audit sees good, middling and bad scores alike. Instances that already
 * have a verdict on their current label are left out (one relabelled since its verdict can be judged
 * again, as its new label). Deterministic for a seed. It holds one class's ids at a time, not its rows.
 */
export function drawAuditSample(
  db: Db,
  perClass: number,
  seed: number,
  population: AuditPopulation = 'all',
  onProgress?: (done: number, total: number) => void,
): Instance[] {
  const audited = new Set(standingVerdicts(db).map((v) => judgement(v.instanceId, v.labelId)));
  const random = seededUniform(seed);
  const classes = listClasses(db);
  return classes.flatMap((c, done) => {
    const pool = idsOfClassByScore(db, c.id, DEFAULT_SCORE_KIND, statusOf(population)).filter(
      (id) => !audited.has(judgement(id, c.id)),
    );
    const k = Math.min(perClass, pool.length);
    const drawn = Array.from({ length: k }, (_, s) => {
      const start = Math.floor((s * pool.length) / k);
      const end = Math.floor(((s + 1) * pool.length) / k);
      return getInstance(db, pool[start + Math.floor(random() * (end - start))] as number) as Instance;
    });
    onProgress?.(done + 1, classes.length);
    return drawn;
  });
}

/** One instance judged as one label. */
const judgement = (instanceId: number, labelId: number) => `${instanceId}:${labelId}`;

function estimate(correct: number, audited: number): AccuracyEstimate {
  const { low, high } = wilsonInterval(correct, audited);
  return { audited, correct, accuracy: audited === 0 ? null : correct / audited, low, high };
}

/** The population an audit summary is of (default: all instances), and its bootstrap's seed (default 1). */
export interface AuditSummaryOptions {
  readonly population?: AuditPopulation;
  readonly seed?: number;
}

/**
 * Per-class pseudo-label accuracy of a population from the standing verdicts, each counted under
 * the label it judged (an instance judged incorrect as a shirt and then relabelled stays an
 * incorrect shirt); the population's accuracy with each class weighted by its size there (the
 * stratified estimator: the sample takes as many of a small class as of a large one); and the
 * agreement of a score kind with the verdicts on instances' current labels, the labels their
 * scores rank, with a bootstrap interval. A verdict counts while its instance is in the population.
 */
export function auditSummary(
  db: Db,
  kind: ScoreKindName = DEFAULT_SCORE_KIND,
  { population = 'all', seed = 1 }: AuditSummaryOptions = {},
): AuditSummary {
  // Verdicts are a curator's, a few thousand at most; the population is counted in SQL, never listed.
  const status = statusOf(population);
  const standing = standingVerdicts(db);
  const instances = new Map<number, Instance>();
  for (const v of standing) {
    const instance = getInstance(db, v.instanceId);
    if (instance !== undefined && (status === undefined || effectiveStatus(instance) === status))
      instances.set(instance.id, instance);
  }
  const scores = new Map(
    [...instances.keys()].flatMap((id) => {
      const score = latestScore(db, id, kind);
      return score === null ? [] : [[id, score] as const];
    }),
  );
  const sizes = countByLabel(db, status);
  const verdicts = standing.filter((v) => instances.has(v.instanceId));
  const correct = (vs: readonly StandingVerdict[]) => vs.filter((v) => v.verdict === 'correct').length;
  const classes = listClasses(db).map((c) => {
    const mine = verdicts.filter((v) => v.labelId === c.id);
    return {
      classId: c.id,
      name: c.name,
      ...estimate(correct(mine), mine.length),
      relabelled: mine.filter((v) => instances.get(v.instanceId)?.labelId !== c.id).length,
      size: sizes.get(c.id) ?? 0,
    };
  });
  const scored = verdicts.flatMap((v) => {
    const instance = instances.get(v.instanceId);
    const score = scores.get(v.instanceId);
    return instance !== undefined && score !== undefined && instance.labelId === v.labelId
      ? [{ score, bad: v.verdict === 'incorrect' }]
      : [];
  });
  const mean = (xs: readonly { score: number }[]) =>
    xs.length === 0 ? null : xs.reduce((s, x) => s + x.score, 0) / xs.length;
  const bootstrap = bootstrapAuroc(
    scored.map((x) => x.score),
    scored.map((x) => x.bad),
    seed,
  );
  return {
    population,
    classes,
    overall: estimate(correct(verdicts), verdicts.length),
    stratified: { size: [...sizes.values()].reduce((a, b) => a + b, 0), ...stratifiedEstimate(classes) },
    agreement: {
      kind,
      scored: scored.length,
      incorrect: scored.filter((x) => x.bad).length,
      ...bootstrap,
      seed,
      meanCorrect: mean(scored.filter((x) => !x.bad)),
      meanIncorrect: mean(scored.filter((x) => x.bad)),
    },
    incorrect: verdicts
      .filter((v) => v.verdict === 'incorrect')
      .reverse()
      .map((v) => {
        const instance = instances.get(v.instanceId) as Instance;
        return { id: v.instanceId, imageHash: instance.imageHash, judgedLabelId: v.labelId, labelId: instance.labelId };
      }),
  };
}
