import { WinnowError } from '../errors.ts';
import { now } from './clock.ts';
import type { Db } from './database.ts';
import { I_COLUMNS, type Instance, type InstanceStatus } from './instances.ts';

/**
 * Suggested labels: for each scored instance, the class the scoring head finds most probable and
 * that probability (the latest scoring's). Set beside an instance's pseudo-label they make the label
 * issues matrix: off its diagonal, the head disagrees with the label.
 */

export interface LabelSuggestion {
  readonly instanceId: number;
  /** The suggested class (a class id). */
  readonly labelId: number;
  /** The head's probability of that class, in [0, 1]. */
  readonly probability: number;
  readonly runId: number | null;
  readonly roundIndex: number | null;
}

/** Records the latest suggestion of each instance (replacing any earlier one), inside the caller's transaction. */
export function recordSuggestions(db: Db, suggestions: Iterable<LabelSuggestion>): void {
  const upsert = db.prepare(
    `INSERT INTO label_suggestions (instance_id, label_id, probability, run_id, round_index, created_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (instance_id) DO UPDATE SET label_id = excluded.label_id, probability = excluded.probability,
       run_id = excluded.run_id, round_index = excluded.round_index, created_at = excluded.created_at`,
  );
  const at = now();
  for (const s of suggestions) {
    if (!(s.probability >= 0 && s.probability <= 1))
      throw new WinnowError(`The suggested label's probability for instance ${s.instanceId} is ${s.probability}.`);
    upsert.run(s.instanceId, s.labelId, s.probability, s.runId, s.roundIndex, at);
  }
}

/** An instance's latest suggestion, or undefined when it was never scored. */
export function suggestionOf(db: Db, instanceId: number): LabelSuggestion | undefined {
  return db
    .prepare<[number], LabelSuggestion>(
      `SELECT instance_id AS instanceId, label_id AS labelId, probability, run_id AS runId, round_index AS roundIndex
       FROM label_suggestions WHERE instance_id = ?`,
    )
    .get(instanceId);
}

/** One cell of the matrix: how many instances labelled `labelId` the head suggests `suggestedId` for. */
export interface SuggestionCell {
  readonly labelId: number;
  readonly suggestedId: number;
  readonly count: number;
}

/** The counts of pseudo-label × suggested label over the instances with a suggestion (by effective status when given). */
export function suggestionMatrix(
  db: Db,
  status?: InstanceStatus,
): { readonly cells: SuggestionCell[]; readonly unsuggested: number } {
  const params = { status: status ?? null };
  const cells = db
    .prepare<typeof params, SuggestionCell>(
      `SELECT i.label_id AS labelId, s.label_id AS suggestedId, count(*) AS count
       FROM label_suggestions s JOIN instances i ON i.id = s.instance_id
       WHERE :status IS NULL OR coalesce(i.override, i.status) = :status
       GROUP BY i.label_id, s.label_id ORDER BY i.label_id, s.label_id`,
    )
    .all(params);
  const unsuggested =
    db
      .prepare<typeof params, { n: number }>(
        `SELECT count(*) AS n FROM instances i
         WHERE (:status IS NULL OR coalesce(i.override, i.status) = :status)
           AND NOT EXISTS (SELECT 1 FROM label_suggestions s WHERE s.instance_id = i.id)`,
      )
      .get(params)?.n ?? 0;
  return { cells, unsuggested };
}

export interface SuggestionPage {
  /** One cell of the matrix; without it, every disagreement (suggestion ≠ pseudo-label). */
  readonly cell?: { readonly labelId: number; readonly suggestedId: number };
  readonly status?: InstanceStatus;
  readonly offset: number;
  readonly limit: number;
}

/** An instance with its suggestion and its latest score of the kind asked for (null: unscored by it). */
export type SuggestedInstance = Instance & {
  readonly suggestedId: number;
  readonly probability: number;
  readonly score: number | null;
};

/**
 * The instances of one cell, or all disagreements, the most probable suggestion first (ties by id),
 * and how many there are in all; each with its latest score of `kind`.
 */
export function pageOfSuggestions(
  db: Db,
  page: SuggestionPage,
  kind: string,
): { total: number; items: SuggestedInstance[] } {
  const params = {
    labelId: page.cell?.labelId ?? null,
    suggestedId: page.cell?.suggestedId ?? null,
    status: page.status ?? null,
    kind,
  };
  const where = `(:labelId IS NULL OR (s.label_id = :suggestedId AND i.label_id = :labelId))
    AND (:labelId IS NOT NULL OR s.label_id <> i.label_id)
    AND (:status IS NULL OR coalesce(i.override, i.status) = :status)`;
  const total =
    db
      .prepare<typeof params, { n: number }>(
        `SELECT count(*) AS n FROM label_suggestions s JOIN instances i ON i.id = s.instance_id WHERE ${where}`,
      )
      .get(params)?.n ?? 0;
  const items = db
    .prepare<typeof params & { limit: number; offset: number }, SuggestedInstance>(
      `SELECT ${I_COLUMNS}, s.label_id AS suggestedId, s.probability AS probability, ls.value AS score
       FROM label_suggestions s JOIN instances i ON i.id = s.instance_id
       LEFT JOIN latest_scores ls ON ls.instance_id = i.id AND ls.kind = :kind
       WHERE ${where}
       ORDER BY s.probability DESC, i.id LIMIT :limit OFFSET :offset`,
    )
    .all({ ...params, limit: page.limit, offset: page.offset });
  return { total, items };
}
