import type { RunMetrics } from '../../shared/api.ts';
import type { Db } from '../store/database.ts';
import { listRounds, metricsOf } from '../store/runs.ts';

const BINS = Array.from({ length: 21 }, (_, k) => -1 + k / 10);

/**
 * What the run screen charts: validation accuracy and counts per round, the contribution
 * histogram of each round (BSGAL's Figure 2), and the run's instances per class and decision.
 */
export function runMetrics(db: Db, runId: number): RunMetrics {
  const metrics = metricsOf(db, runId);
  const value = (round: number, name: string) =>
    metrics.find((m) => m.roundIndex === round && m.name === name)?.value ?? null;
  const scores = db
    .prepare<[number], { round: number; value: number }>(
      "SELECT round_index AS round, value FROM scores WHERE run_id = ? AND kind = 'contribution' AND round_index IS NOT NULL",
    )
    .all(runId);
  const rounds = [-1, ...listRounds(db, runId).map((r) => r.roundIndex)].map((round) => {
    const histogram = new Array<number>(BINS.length - 1).fill(0);
    for (const s of scores) {
      if (s.round !== round) continue;
      const bin = Math.min(histogram.length - 1, Math.max(0, Math.floor((s.value + 1) * 10)));
      histogram[bin]! += 1;
    }
    return {
      round,
      valAccuracy: value(round, 'val_accuracy'),
      generated: value(round, 'generated'),
      acceptedNew: value(round, 'accepted_new'),
      histogram,
    };
  });
  const perClass = db
    .prepare<[number], { name: string; accepted: number; rejected: number; pending: number }>(
      `SELECT c.name,
         sum(coalesce(i.override, i.status) = 'accepted') AS accepted,
         sum(coalesce(i.override, i.status) = 'rejected') AS rejected,
         sum(coalesce(i.override, i.status) = 'pending') AS pending
       FROM instances i JOIN classes c ON c.id = i.label_id WHERE i.run_id = ? GROUP BY c.id ORDER BY c.id`,
    )
    .all(runId);
  return { runId, rounds, bins: BINS, perClass };
}
