import type { Db } from './database.ts';

/** Every score of one kind that a run's rounds gave, with its round, for the run screen's histograms. */
export function roundScores(db: Db, runId: number, kind: string): { round: number; value: number }[] {
  return db
    .prepare<[number, string], { round: number; value: number }>(
      'SELECT round_index AS round, value FROM scores WHERE run_id = ? AND kind = ? AND round_index IS NOT NULL',
    )
    .all(runId, kind);
}

/** A run's instances per class (its current label) and curated decision (an override wins). */
export function decisionsPerClass(
  db: Db,
  runId: number,
): { name: string; accepted: number; rejected: number; pending: number }[] {
  return db
    .prepare<[number], { name: string; accepted: number; rejected: number; pending: number }>(
      `SELECT c.name,
         sum(coalesce(i.override, i.status) = 'accepted') AS accepted,
         sum(coalesce(i.override, i.status) = 'rejected') AS rejected,
         sum(coalesce(i.override, i.status) = 'pending') AS pending
       FROM instances i JOIN classes c ON c.id = i.label_id WHERE i.run_id = ? GROUP BY c.id ORDER BY c.id`,
    )
    .all(runId);
}
