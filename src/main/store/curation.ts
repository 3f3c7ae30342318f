import { randomUUID } from 'node:crypto';
import { WinnowError } from '../errors.ts';
import { getClass } from './classes.ts';
import { now } from './clock.ts';
import type { Db } from './database.ts';
import { writeTransaction } from './database.ts';
import { getInstance, type Override } from './instances.ts';
import { setInstanceTags, tagKey, tagsOfInstance } from './tags.ts';

export type DecisionAction = 'accept' | 'reject' | 'relabel' | 'clear';
export type TagAction = 'tag' | 'untag';
export type CuratorAction = DecisionAction | TagAction;

/** What a decision changes on an instance; `before` and `after` are kept for undo. */
interface DecisionState {
  readonly override: Override | null;
  readonly labelId: number;
}

/** What a tagging changes: the instance's tag set; its label is kept only to scope the review's undo. */
interface TagState {
  readonly labelId: number;
  readonly tags: readonly string[];
}

type CuratedState = DecisionState | TagState;
const isTagState = (s: CuratedState): s is TagState => 'tags' in s;

export interface ActionRequest {
  readonly instanceIds: readonly number[];
  readonly action: DecisionAction;
  /** The new pseudo-label, for `relabel`. */
  readonly labelId?: number;
}

function nextState(action: DecisionAction, current: DecisionState, labelId: number | undefined): DecisionState {
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
  if (isTagState(s)) return setInstanceTags(db, id, s.tags);
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
  actions: readonly { id: number; action: DecisionAction; labelId: number | undefined }[],
): string {
  return recordBatch(db, actions, ({ id, action, labelId }) => {
    const instance = existing(db, id);
    const before: DecisionState = { override: instance.override, labelId: instance.labelId };
    const after = nextState(action, before, labelId);
    // An action that changes nothing (accept of an accepted instance: a key pressed twice) is no undo step.
    if (after.override === before.override && after.labelId === before.labelId) return undefined;
    return { id, action, before, after };
  });
}

function existing(db: Db, id: number) {
  const instance = getInstance(db, id);
  if (instance === undefined) throw new WinnowError(`There is no instance with id ${id}.`);
  return instance;
}

/**
 * Applies and records, in one transaction as one batch, the change `change` works out for each
 * item (undefined: nothing to change on it). An instance is recorded once: a later item naming an
 * instance already in the batch (a "select all" that paged over a re-scored listing repeats ids) is
 * left out, so the batch's count is its instances and its undo restores each from before the batch.
 * Returns the batch id.
 */
function recordBatch<T>(
  db: Db,
  items: readonly T[],
  change: (item: T) => { id: number; action: CuratorAction; before: CuratedState; after: CuratedState } | undefined,
): string {
  const batch = randomUUID();
  const record = db.prepare(
    'INSERT INTO curator_actions (instance_id, action, before, after, batch, at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  writeTransaction(db, () => {
    const at = now();
    const recorded = new Set<number>();
    for (const item of items) {
      const step = change(item);
      if (step === undefined || recorded.has(step.id)) continue;
      recorded.add(step.id);
      apply(db, step.id, step.after);
      record.run(step.id, step.action, JSON.stringify(step.before), JSON.stringify(step.after), batch, at);
    }
  });
  return batch;
}

/**
 * Adds (`tag`) or removes (`untag`) tags on several instances as one batch of the curator trail, so
 * that the review's undo and redo take it back like a decision. Instances that already have (or lack)
 * every tag are left out of the batch. Tags are trimmed; one that is empty is refused.
 */
export function tagInstances(
  db: Db,
  instanceIds: readonly number[],
  action: TagAction,
  tags: readonly string[],
): { batch: string | null; changed: number } {
  const wanted = tags.map((t) => t.trim());
  if (wanted.some((t) => t === ''))
    throw new WinnowError('A tag cannot be empty.', 'Type at least one letter or digit.');
  const wantedKeys = new Set(wanted.map(tagKey));
  let changed = 0;
  const batch = recordBatch(db, instanceIds, (id) => {
    const { labelId } = existing(db, id);
    const current = tagsOfInstance(db, id);
    const next = action === 'tag' ? withTags(current, wanted) : current.filter((t) => !wantedKeys.has(tagKey(t)));
    if (next.length === current.length) return undefined;
    changed++;
    return { id, action, before: { labelId, tags: current }, after: { labelId, tags: next } };
  });
  return { batch: changed > 0 ? batch : null, changed };
}

/** `current` with each of `added` it lacks (without case), in the order given. */
function withTags(current: readonly string[], added: readonly string[]): string[] {
  const keys = new Set(current.map(tagKey));
  const next = [...current];
  for (const tag of added)
    if (!keys.has(tagKey(tag))) {
      keys.add(tagKey(tag));
      next.push(tag);
    }
  return next;
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
  /** For a tag or untag: the tags it added or removed (on its first instance). */
  readonly tags?: readonly string[];
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
    if (!isCurrent(db, row.instanceId, JSON.parse(row[from]) as CuratedState))
      throw new WinnowError(
        `Instance ${row.instanceId} was changed by a later action, so this ${row.action} cannot be ${from === 'after' ? 'undone' : 'redone'} on its own.`,
        'Undo the later action first (from the screen of the class it moved the instance to).',
      );
  }
  for (const row of rows) apply(db, row.instanceId, JSON.parse(row[to]) as CuratedState);
}

/** Whether an instance is still in the state an action left it in (its tags, for a tagging). */
function isCurrent(db: Db, instanceId: number, expected: CuratedState): boolean {
  if (isTagState(expected)) {
    const now = tagsOfInstance(db, instanceId).map(tagKey).sort();
    const then = expected.tags.map(tagKey).sort();
    return now.length === then.length && now.every((t, k) => t === then[k]);
  }
  const instance = getInstance(db, instanceId);
  return instance?.override === expected.override && instance.labelId === expected.labelId;
}

function summarize(batch: string, rows: readonly BatchRow[]): BatchSummary {
  const first = rows[0] as BatchRow;
  const before = JSON.parse(first.before) as CuratedState;
  const after = JSON.parse(first.after) as CuratedState;
  return {
    batch,
    action: first.action,
    count: rows.length,
    fromLabelId: before.labelId,
    toLabelId: after.labelId,
    ...(isTagState(before) && isTagState(after) ? { tags: changedTags(before.tags, after.tags) } : {}),
  };
}

/** The tags in one set and not the other (a tagging either adds or removes). */
function changedTags(a: readonly string[], b: readonly string[]): string[] {
  const keysOf = (tags: readonly string[]) => new Set(tags.map(tagKey));
  const [inA, inB] = [keysOf(a), keysOf(b)];
  return [...a.filter((t) => !inB.has(tagKey(t))), ...b.filter((t) => !inA.has(tagKey(t)))];
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
