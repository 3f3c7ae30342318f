import { randomUUID } from 'node:crypto';
import { WinnowError } from '../errors.ts';
import { getClass } from './classes.ts';
import { now } from './clock.ts';
import type { Db } from './database.ts';
import { writeTransaction } from './database.ts';
import { getInstance, type Override } from './instances.ts';

export type CuratorAction = 'accept' | 'reject' | 'relabel' | 'clear';

/** What a curator action changes on an instance; `before` and `after` are kept for undo. */
interface CuratedState {
  readonly override: Override | null;
  readonly labelId: number;
}

export interface ActionRequest {
  readonly instanceIds: readonly number[];
  readonly action: CuratorAction;
  /** The new pseudo-label, for `relabel`. */
  readonly labelId?: number;
}

function nextState(action: CuratorAction, current: CuratedState, labelId: number | undefined): CuratedState {
  switch (action) {
    case 'accept':
      return { ...current, override: 'accepted' };
    case 'reject':
      return { ...current, override: 'rejected' };
    case 'clear':
      return { ...current, override: null };
    case 'relabel':
      if (labelId === undefined)
        throw new WinnowError('A relabel needs the new class.', 'Pass the class to relabel to.');
      return { ...current, labelId };
  }
}

/** Sets an instance's curated state; its latest scores follow its pseudo-label (the review orders by them). */
function apply(db: Db, id: number, s: CuratedState): void {
  db.prepare('UPDATE instances SET override = ?, label_id = ? WHERE id = ?').run(s.override, s.labelId, id);
  db.prepare('UPDATE latest_scores SET label_id = ? WHERE instance_id = ? AND label_id <> ?').run(
    s.labelId,
    id,
    s.labelId,
  );
}

/**
 * Applies one curator action to several instances at once, in one transaction, recorded as one
 * batch so that one undo reverts all of it. Returns the batch id.
 */
export function curate(db: Db, request: ActionRequest): string {
  if (request.labelId !== undefined) getClass(db, request.labelId);
  return curateBatch(
    db,
    request.instanceIds.map((id) => ({ id, action: request.action, labelId: request.labelId })),
  );
}

/**
 * Relabels each instance to its own class (instance id → class id) as one batch of relabels: what
 * applying suggested labels does, recorded, exported and undone exactly as a curator's relabel.
 */
export function relabelEach(db: Db, labels: ReadonlyMap<number, number>): string {
  for (const labelId of new Set(labels.values())) getClass(db, labelId);
  return curateBatch(
    db,
    [...labels].map(([id, labelId]) => ({ id, action: 'relabel' as const, labelId })),
  );
}

function curateBatch(
  db: Db,
  actions: readonly { id: number; action: CuratorAction; labelId: number | undefined }[],
): string {
  const batch = randomUUID();
  const record = db.prepare(
    'INSERT INTO curator_actions (instance_id, action, before, after, batch, at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  writeTransaction(db, () => {
    const at = now();
    for (const { id, action, labelId } of actions) {
      const instance = getInstance(db, id);
      if (instance === undefined) throw new WinnowError(`There is no instance with id ${id}.`);
      const before: CuratedState = { override: instance.override, labelId: instance.labelId };
      const after = nextState(action, before, labelId);
      apply(db, id, after);
      record.run(id, action, JSON.stringify(before), JSON.stringify(after), batch, at);
    }
  });
  return batch;
}

/**
 * Undoes the most recent batch of curator actions that is not undone yet, restoring each
 * instance's state from before it. Returns the undone batch id, or undefined when there is none.
 */
export function undoLastAction(db: Db): string | undefined {
  return writeTransaction(db, () => {
    const last = db
      .prepare<[], { batch: string }>(
        'SELECT batch FROM curator_actions WHERE undone_at IS NULL ORDER BY id DESC LIMIT 1',
      )
      .get();
    if (last === undefined) return undefined;
    const actions = db
      .prepare<[string], { id: number; instanceId: number; before: string }>(
        'SELECT id, instance_id AS instanceId, before FROM curator_actions WHERE batch = ? ORDER BY id DESC',
      )
      .all(last.batch);
    for (const a of actions) apply(db, a.instanceId, JSON.parse(a.before) as CuratedState);
    db.prepare('UPDATE curator_actions SET undone_at = ? WHERE batch = ?').run(now(), last.batch);
    return last.batch;
  });
}

/** A batch of curator actions as undo and redo report it: what it did, to how many, from and to which class. */
export interface BatchSummary {
  readonly batch: string;
  readonly action: CuratorAction;
  readonly count: number;
  /** The class its instances were in before it (the first instance's, for a batch that spans classes). */
  readonly fromLabelId: number;
  /** The class they were in after it (differs from `fromLabelId` for a relabel). */
  readonly toLabelId: number;
}

interface BatchRow {
  readonly instanceId: number;
  readonly action: CuratorAction;
  readonly before: string;
  readonly after: string;
}

// A batch touches a class when one of its instances was in it before or after (a relabel touches both).
const touchesClass = (row: string) =>
  `(json_extract(${row}.before, '$.labelId') = :labelId OR json_extract(${row}.after, '$.labelId') = :labelId)`;

function batchRows(db: Db, batch: string): BatchRow[] {
  return db
    .prepare<[string], BatchRow>(
      'SELECT instance_id AS instanceId, action, before, after FROM curator_actions WHERE batch = ? ORDER BY id',
    )
    .all(batch);
}

/**
 * Moves every instance of a batch from state `from` to state `to` (its after and before, or the
 * reverse), after checking that each is still in `from`: a later action of another class's screen
 * on the same instances would otherwise be silently overwritten.
 */
function swapBatch(db: Db, rows: readonly BatchRow[], from: 'before' | 'after', to: 'before' | 'after'): void {
  for (const row of rows) {
    const expected = JSON.parse(row[from]) as CuratedState;
    const instance = getInstance(db, row.instanceId);
    if (instance?.override !== expected.override || instance.labelId !== expected.labelId)
      throw new WinnowError(
        `Instance ${row.instanceId} was changed by a later action, so this ${row.action} cannot be ${from === 'after' ? 'undone' : 'redone'} on its own.`,
        'Undo the later action first (from the screen of the class it moved the instance to).',
      );
  }
  for (const row of rows) apply(db, row.instanceId, JSON.parse(row[to]) as CuratedState);
}

function summarize(batch: string, rows: readonly BatchRow[]): BatchSummary {
  const first = rows[0] as BatchRow;
  return {
    batch,
    action: first.action,
    count: rows.length,
    fromLabelId: (JSON.parse(first.before) as CuratedState).labelId,
    toLabelId: (JSON.parse(first.after) as CuratedState).labelId,
  };
}

/**
 * Undoes the latest standing batch that touched class `labelId`, leaving other classes' batches
 * alone (the review screen's undo acts on what it shows). Returns what it undid, or undefined.
 */
export function undoLastActionInClass(db: Db, labelId: number): BatchSummary | undefined {
  return writeTransaction(db, () => {
    const last = db
      .prepare<{ labelId: number }, { batch: string }>(
        `SELECT batch FROM curator_actions a WHERE undone_at IS NULL AND ${touchesClass('a')} ORDER BY id DESC LIMIT 1`,
      )
      .get({ labelId });
    if (last === undefined) return undefined;
    const rows = batchRows(db, last.batch);
    swapBatch(db, rows, 'after', 'before');
    db.prepare('UPDATE curator_actions SET undone_at = ? WHERE batch = ?').run(now(), last.batch);
    return summarize(last.batch, rows);
  });
}

/**
 * Re-applies the batch touching class `labelId` that was undone last. As in any editor, a new action
 * ends the redo history: one taken in the class after the undo, or on the batch's instances after
 * the batch. A redone batch stands again in its original place, so the next undo finds it.
 * Returns what it redid, or undefined.
 */
export function redoLastUndoneInClass(db: Db, labelId: number): BatchSummary | undefined {
  return writeTransaction(db, () => {
    // Undos go from the newest batch back, so of batches undone in the same millisecond the oldest was undone last.
    const last = db
      .prepare<{ labelId: number }, { batch: string }>(
        `SELECT batch FROM curator_actions a WHERE undone_at IS NOT NULL AND ${touchesClass('a')}
           AND NOT EXISTS (SELECT 1 FROM curator_actions b
                           WHERE b.undone_at IS NULL AND b.at > a.undone_at AND ${touchesClass('b')})
           AND NOT EXISTS (SELECT 1 FROM curator_actions c JOIN curator_actions b
                             ON b.instance_id = c.instance_id AND b.id > c.id AND b.undone_at IS NULL
                           WHERE c.batch = a.batch)
         ORDER BY undone_at DESC, id ASC LIMIT 1`,
      )
      .get({ labelId });
    if (last === undefined) return undefined;
    const rows = batchRows(db, last.batch);
    swapBatch(db, rows, 'before', 'after');
    db.prepare('UPDATE curator_actions SET undone_at = NULL WHERE batch = ?').run(last.batch);
    return summarize(last.batch, rows);
  });
}

export interface CuratorActionRow {
  readonly id: number;
  readonly instanceId: number;
  readonly action: CuratorAction;
  readonly before: string;
  readonly after: string;
  readonly batch: string;
  readonly at: string;
  readonly undoneAt: string | null;
}

export function actionHistory(db: Db, instanceId: number): CuratorActionRow[] {
  return db
    .prepare<[number], CuratorActionRow>(
      `SELECT id, instance_id AS instanceId, action, before, after, batch, at, undone_at AS undoneAt
       FROM curator_actions WHERE instance_id = ? ORDER BY id`,
    )
    .all(instanceId);
}

export type Verdict = 'correct' | 'incorrect';

/** A verdict judges one pseudo-label ("is this a shirt?"): it stays with that label after a relabel. */
export interface StandingVerdict {
  readonly id: number;
  readonly instanceId: number;
  /** The label it judged. */
  readonly labelId: number;
  readonly verdict: Verdict;
}

/**
 * Records an auditor's verdict on an instance as `labelId` (default: its current label, which is what
 * an audit shows); a later verdict on the same instance and label supersedes it.
 */
export function recordVerdict(db: Db, instanceId: number, verdict: Verdict, labelId?: number): StandingVerdict {
  const instance = getInstance(db, instanceId);
  if (instance === undefined) throw new WinnowError(`There is no instance with id ${instanceId}.`);
  const judged = labelId ?? instance.labelId;
  if (labelId !== undefined) getClass(db, labelId);
  const id = Number(
    db
      .prepare('INSERT INTO audit_verdicts (instance_id, label_id, verdict, at) VALUES (?, ?, ?, ?)')
      .run(instanceId, judged, verdict, now()).lastInsertRowid,
  );
  return { id, instanceId, labelId: judged, verdict };
}

/** Undoes the latest standing verdict; returns its id, or undefined when there is none. */
export function undoLastVerdict(db: Db): number | undefined {
  const last = db
    .prepare<[], { id: number }>('SELECT id FROM audit_verdicts WHERE undone_at IS NULL ORDER BY id DESC LIMIT 1')
    .get();
  if (last === undefined) return undefined;
  db.prepare('UPDATE audit_verdicts SET undone_at = ? WHERE id = ?').run(now(), last.id);
  return last.id;
}

/** The standing (latest, not undone) verdict on each audited instance and label, oldest first. */
export function standingVerdicts(db: Db): StandingVerdict[] {
  return db
    .prepare<[], StandingVerdict>(
      `SELECT max(id) AS id, instance_id AS instanceId, label_id AS labelId, verdict FROM audit_verdicts
       WHERE undone_at IS NULL GROUP BY instance_id, label_id ORDER BY id`,
    )
    .all();
}

/** The latest standing verdict of each audited instance, whichever label it judged. */
export function latestVerdicts(db: Db): Map<number, StandingVerdict> {
  // standingVerdicts is oldest first, so a later verdict on another label replaces an earlier one.
  return new Map(standingVerdicts(db).map((v) => [v.instanceId, v]));
}
