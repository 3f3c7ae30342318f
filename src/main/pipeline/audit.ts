import type { AccuracyEstimate, AuditPopulation, AuditSummary } from '../../shared/api.ts';
import { wilsonInterval } from '../learn/metrics.ts';
import { seededUniform } from '../models/random.ts';
import { listClasses } from '../store/classes.ts';
import { type StandingVerdict, standingVerdicts } from '../store/curation.ts';
import type { Db } from '../store/database.ts';
import { effectiveStatus, type Instance, listInstances } from '../store/instances.ts';
import { latestScoresOf } from '../store/scores.ts';
import { DEFAULT_SCORE_KIND, type ScoreKindName } from '../../shared/scoreKinds.ts';
import { bootstrapAuroc, stratifiedEstimate } from './auditStatistics.ts';

/** Whether an instance belongs to a population: `exported` holds what an export of accepted instances holds. */
function inPopulation(population: AuditPopulation): (i: Instance) => boolean {
  return population === 'all' ? () => true : (i) => effectiveStatus(i) === 'accepted';
}

/**
 * Draws up to `perClass` instances of each class of a population for a pseudo-label audit, stratified by the
 * default ranking (`quality`): the class's instances sorted by score are cut into `perClass` equal strata and one
 * is drawn from each, so the audit sees good, middling and bad scores alike. Instances that already
 * have a verdict on their current label are left out (one relabelled since its verdict can be judged
 * again, as its new label). Deterministic for a seed.
 */
export function drawAuditSample(
  db: Db,
  perClass: number,
  seed: number,
  population: AuditPopulation = 'all',
): Instance[] {
  const scores = latestScoresOf(db, DEFAULT_SCORE_KIND);
  const audited = new Set(standingVerdicts(db).map((v) => judgement(v.instanceId, v.labelId)));
  const random = seededUniform(seed);
  const member = inPopulation(population);
  return listClasses(db).flatMap((c) => {
    const pool = listInstances(db, { labelId: c.id })
      .filter((i) => member(i) && !audited.has(judgement(i.id, i.labelId)))
      .sort((a, b) => (scores.get(a.id) ?? Infinity) - (scores.get(b.id) ?? Infinity) || a.id - b.id);
    const k = Math.min(perClass, pool.length);
    return Array.from({ length: k }, (_, s) => {
      const start = Math.floor((s * pool.length) / k);
      const end = Math.floor(((s + 1) * pool.length) / k);
      return pool[start + Math.floor(random() * (end - start))] as Instance;
    });
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
  const scores = latestScoresOf(db, kind);
  const member = inPopulation(population);
  const members = listInstances(db).filter(member);
  const instances = new Map(members.map((i) => [i.id, i]));
  const verdicts = standingVerdicts(db).filter((v) => instances.has(v.instanceId));
  const correct = (vs: readonly StandingVerdict[]) => vs.filter((v) => v.verdict === 'correct').length;
  const classes = listClasses(db).map((c) => {
    const mine = verdicts.filter((v) => v.labelId === c.id);
    return {
      classId: c.id,
      name: c.name,
      ...estimate(correct(mine), mine.length),
      relabelled: mine.filter((v) => instances.get(v.instanceId)?.labelId !== c.id).length,
      size: members.filter((i) => i.labelId === c.id).length,
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
    stratified: { size: members.length, ...stratifiedEstimate(classes) },
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
