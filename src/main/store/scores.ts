import type { ScoreKindName } from '../../shared/scoreKinds.ts';
import { WinnowError } from '../errors.ts';
import { now } from './clock.ts';
import { type Db, writeTransaction } from './database.ts';

/** The score kind whose latest value is kept on the instance row as its contribution (exports and the API show it). */
export const CONTRIBUTION = 'contribution' satisfies ScoreKindName;

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
 * Appends scores to the history (nothing is ever overwritten there), and keeps each instance's
 * latest score of each kind in `latest_scores` (with its pseudo-label, for the review's orderings)
 * and its latest contribution on its row, all in one transaction (or savepoint).
 */
export function recordScores(db: Db, entries: Iterable<ScoreEntry>): void {
  const insert = db.prepare(
    'INSERT INTO scores (instance_id, run_id, round_index, kind, value, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const contribution = db.prepare('UPDATE instances SET contribution = ? WHERE id = ?');
  // Once the rows are in, one statement makes each the latest of its instance and kind, in id order
  // so the last of an instance and kind wins (measured: cheaper than an upsert per row).
  const latest = db.prepare(
    `INSERT INTO latest_scores (instance_id, kind, label_id, value)
     SELECT s.instance_id, s.kind, i.label_id, s.value FROM scores s JOIN instances i ON i.id = s.instance_id
     WHERE s.id > ? ORDER BY s.id
     ON CONFLICT (instance_id, kind) DO UPDATE SET value = excluded.value`,
  );
  const at = now();
  writeTransaction(db, () => {
    const before = db.prepare<[], { id: number | null }>('SELECT max(id) AS id FROM scores').get()?.id ?? 0;
    for (const e of entries) {
      checkScoreKind(e.kind);
      if (!Number.isFinite(e.value)) {
        throw new WinnowError(`Score ${e.kind} of instance ${e.instanceId} is ${e.value}, not a finite number.`);
      }
      insert.run(e.instanceId, e.runId, e.roundIndex, e.kind, e.value, at);
      if (e.kind === CONTRIBUTION) contribution.run(e.value, e.instanceId);
    }
    latest.run(before);
  });
}

export function scoreHistory(db: Db, instanceId: number): ScoreHistoryRow[] {
  return db
    .prepare<[number], ScoreHistoryRow>(
      `SELECT id, instance_id AS instanceId, kind, value, run_id AS runId, round_index AS roundIndex, created_at AS createdAt
       FROM scores WHERE instance_id = ? ORDER BY id`,
    )
    .all(instanceId);
}

/**
 * The latest value of every score kind of the instances with ids in [fromId, toId] (all of them
 * when no range is given): instance id → kind → value. A walk over a million instances reads it a
 * page at a time.
 */
export function latestScores(db: Db, fromId = 0, toId = Number.MAX_SAFE_INTEGER): Map<number, Record<string, number>> {
  const rows = db
    .prepare<[number, number], { instanceId: number; kind: string; value: number }>(
      'SELECT instance_id AS instanceId, kind, value FROM latest_scores WHERE instance_id BETWEEN ? AND ?',
    )
    .all(fromId, toId);
  const byInstance = new Map<number, Record<string, number>>();
  for (const r of rows) {
    const scores = byInstance.get(r.instanceId) ?? {};
    scores[r.kind] = r.value;
    byInstance.set(r.instanceId, scores);
  }
  return byInstance;
}

/** The kinds any instance has been scored by. */
export function scoreKinds(db: Db): string[] {
  return db
    .prepare<[], { kind: string }>('SELECT DISTINCT kind FROM latest_scores ORDER BY kind')
    .all()
    .map((r) => r.kind);
}

/** An instance's latest score of a kind, or null when it has none. */
export function latestScore(db: Db, instanceId: number, kind: string): number | null {
  return (
    db
      .prepare<[number, string], { value: number }>(
        'SELECT value FROM latest_scores WHERE instance_id = ? AND kind = ?',
      )
      .get(instanceId, kind)?.value ?? null
  );
}

/** The latest value of one score kind of every instance scored by it: instance id → value. */
export function latestScoresOf(db: Db, kind: string): Map<number, number> {
  const rows = db
    .prepare<[string], { instanceId: number; value: number }>(
      'SELECT instance_id AS instanceId, value FROM latest_scores WHERE kind = ?',
    )
    .all(kind);
  return new Map(rows.map((r) => [r.instanceId, r.value]));
}
