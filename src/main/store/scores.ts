import { WinnowError } from '../errors.ts';
import { now } from './clock.ts';
import type { Db } from './database.ts';

/** The score kind whose latest value is kept on the instance row (and indexed) as its contribution. */
export const CONTRIBUTION = 'contribution';

export const SCORE_KIND = /^[a-z][a-z0-9_]{0,63}$/;

export interface ScoreEntry {
  readonly instanceId: number;
  readonly kind: string;
  readonly value: number;
  readonly runId: number | null;
  readonly roundIndex: number | null;
}

export interface ScoreHistoryRow extends ScoreEntry {
  readonly id: number;
  readonly createdAt: string;
}

export function checkScoreKind(kind: string): string {
  if (!SCORE_KIND.test(kind)) {
    throw new WinnowError(
      `"${kind}" is not a valid score kind.`,
      'Use lowercase letters, digits and underscores, starting with a letter (e.g. "contribution", "self_confidence").',
    );
  }
  return kind;
}

/**
 * Appends scores to the history (nothing is ever overwritten there) and keeps each instance's
 * latest contribution on its row. Call inside a transaction when recording many.
 */
export function recordScores(db: Db, entries: Iterable<ScoreEntry>): void {
  const insert = db.prepare(
    'INSERT INTO scores (instance_id, run_id, round_index, kind, value, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const latest = db.prepare('UPDATE instances SET contribution = ? WHERE id = ?');
  const at = now();
  for (const e of entries) {
    checkScoreKind(e.kind);
    if (!Number.isFinite(e.value)) {
      throw new WinnowError(`Score ${e.kind} of instance ${e.instanceId} is ${e.value}, not a finite number.`);
    }
    insert.run(e.instanceId, e.runId, e.roundIndex, e.kind, e.value, at);
    if (e.kind === CONTRIBUTION) latest.run(e.value, e.instanceId);
  }
}

export function scoreHistory(db: Db, instanceId: number): ScoreHistoryRow[] {
  return db
    .prepare<[number], ScoreHistoryRow>(
      `SELECT id, instance_id AS instanceId, kind, value, run_id AS runId, round_index AS roundIndex, created_at AS createdAt
       FROM scores WHERE instance_id = ? ORDER BY id`,
    )
    .all(instanceId);
}

/** The latest value of every score kind of every instance: instance id → kind → value. */
export function latestScores(db: Db): Map<number, Record<string, number>> {
  const rows = db
    .prepare<[], { instanceId: number; kind: string; value: number }>(
      // SQLite takes bare columns from the row that holds max(id): the newest score per kind.
      'SELECT instance_id AS instanceId, kind, value, max(id) FROM scores GROUP BY instance_id, kind',
    )
    .all();
  const byInstance = new Map<number, Record<string, number>>();
  for (const r of rows) {
    const scores = byInstance.get(r.instanceId) ?? {};
    scores[r.kind] = r.value;
    byInstance.set(r.instanceId, scores);
  }
  return byInstance;
}

export function scoreKinds(db: Db): string[] {
  return db
    .prepare<[], { kind: string }>('SELECT DISTINCT kind FROM scores ORDER BY kind')
    .all()
    .map((r) => r.kind);
}

/** The latest value of one score kind of every instance scored by it: instance id → value. */
export function latestScoresOf(db: Db, kind: string): Map<number, number> {
  const rows = db
    .prepare<[string], { instanceId: number; value: number }>(
      // As in latestScores: the bare column comes from the row that holds max(id).
      'SELECT instance_id AS instanceId, value, max(id) FROM scores WHERE kind = ? GROUP BY instance_id',
    )
    .all(kind);
  return new Map(rows.map((r) => [r.instanceId, r.value]));
}
