import type { AccuracyEstimate, AuditSummary } from '../../shared/api.ts';
import { auroc, wilsonInterval } from '../learn/metrics.ts';
import { seededUniform } from '../models/random.ts';
import { listClasses } from '../store/classes.ts';
import { currentVerdicts } from '../store/curation.ts';
import type { Db } from '../store/database.ts';
import { type Instance, listInstances } from '../store/instances.ts';

/**
 * Draws up to `perClass` instances of each class for a pseudo-label audit, stratified by
 * contribution: the class's instances sorted by score are cut into `perClass` equal strata and one
 * is drawn from each, so the audit sees good, middling and bad scores alike. Instances that already
 * have a verdict are left out. Deterministic for a seed.
 */
export function drawAuditSample(db: Db, perClass: number, seed: number): Instance[] {
  const audited = currentVerdicts(db);
  const random = seededUniform(seed);
  return listClasses(db).flatMap((c) => {
    const pool = listInstances(db, { labelId: c.id })
      .filter((i) => !audited.has(i.id))
      .sort((a, b) => (a.contribution ?? Infinity) - (b.contribution ?? Infinity) || a.id - b.id);
    const k = Math.min(perClass, pool.length);
    return Array.from({ length: k }, (_, s) => {
      const start = Math.floor((s * pool.length) / k);
      const end = Math.floor(((s + 1) * pool.length) / k);
      return pool[start + Math.floor(random() * (end - start))] as Instance;
    });
  });
}

function estimate(correct: number, audited: number): AccuracyEstimate {
  const { low, high } = wilsonInterval(correct, audited);
  return { audited, correct, accuracy: audited === 0 ? null : correct / audited, low, high };
}

/** Per-class pseudo-label accuracy from the standing verdicts, and the score's agreement with them. */
export function auditSummary(db: Db): AuditSummary {
  const verdicts = currentVerdicts(db);
  const audited = listInstances(db).filter((i) => verdicts.has(i.id));
  const classes = listClasses(db).map((c) => {
    const mine = audited.filter((i) => i.labelId === c.id);
    return {
      classId: c.id,
      name: c.name,
      ...estimate(mine.filter((i) => verdicts.get(i.id) === 'correct').length, mine.length),
    };
  });
  const scored = audited.filter((i) => i.contribution !== null);
  const bad = scored.map((i) => verdicts.get(i.id) === 'incorrect');
  const mean = (xs: Instance[]) =>
    xs.length === 0 ? null : xs.reduce((s, i) => s + (i.contribution as number), 0) / xs.length;
  const area = auroc(
    scored.map((i) => i.contribution as number),
    bad,
  );
  return {
    classes,
    overall: estimate(audited.filter((i) => verdicts.get(i.id) === 'correct').length, audited.length),
    agreement: {
      scored: scored.length,
      auroc: Number.isNaN(area) ? null : area,
      meanCorrect: mean(scored.filter((_, k) => !bad[k])),
      meanIncorrect: mean(scored.filter((_, k) => bad[k])),
    },
  };
}
