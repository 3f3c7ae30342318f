import { WinnowError } from '../errors.ts';
import { now } from './clock.ts';
import type { Db } from './database.ts';

/**
 * Curators' tags (many per instance, free text) and notes (one per instance). Tags compare as
 * SQLite's NOCASE does, ASCII letters without case: "Blurry" is "blurry", and the first spelling
 * given stays. Adding and removing tags is a curator action (curation.ts records it for undo);
 * this module only reads and writes the rows.
 */

/** A tag as NOCASE compares it: ASCII letters folded, nothing else. */
export function tagKey(tag: string): string {
  return tag.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** An instance's tags, in NOCASE order. */
export function tagsOfInstance(db: Db, instanceId: number): string[] {
  return db
    .prepare<[number], { tag: string }>('SELECT tag FROM instance_tags WHERE instance_id = ? ORDER BY tag')
    .all(instanceId)
    .map((r) => r.tag);
}

/** The tags of many instances at once (one query, for a page of the grid); untagged ones are absent. */
export function tagsOf(db: Db, instanceIds: readonly number[]): Map<number, string[]> {
  const tags = new Map<number, string[]>();
  if (instanceIds.length === 0) return tags;
  const rows = db
    .prepare<[string], { instanceId: number; tag: string }>(
      `SELECT instance_id AS instanceId, tag FROM instance_tags
       WHERE instance_id IN (SELECT value FROM json_each(?)) ORDER BY instance_id, tag`,
    )
    .all(JSON.stringify(instanceIds));
  for (const { instanceId, tag } of rows) tags.set(instanceId, [...(tags.get(instanceId) ?? []), tag]);
  return tags;
}

/** Replaces an instance's tag set (what a tagging and its undo write). */
export function setInstanceTags(db: Db, instanceId: number, tags: readonly string[]): void {
  db.prepare('DELETE FROM instance_tags WHERE instance_id = ?').run(instanceId);
  const insert = db.prepare('INSERT INTO instance_tags (instance_id, tag) VALUES (?, ?)');
  for (const tag of tags) insert.run(instanceId, tag);
}

/** Every tag of the project with how many instances carry it, most used first. */
export function tagCounts(db: Db): { tag: string; count: number }[] {
  return db
    .prepare<[], { tag: string; count: number }>(
      // A tag spelled differently on different instances is one tag, named by one of its spellings.
      'SELECT min(tag) AS tag, count(*) AS count FROM instance_tags GROUP BY tag ORDER BY count DESC, tag',
    )
    .all();
}

export interface InstanceNote {
  readonly text: string;
  readonly updatedAt: string;
}

export function noteOf(db: Db, instanceId: number): InstanceNote | null {
  return (
    db
      .prepare<[number], InstanceNote>('SELECT text, updated_at AS updatedAt FROM instance_notes WHERE instance_id = ?')
      .get(instanceId) ?? null
  );
}

/** Sets an instance's note; empty (or only spaces) clears it. Returns the note now, null when cleared. */
export function setNote(db: Db, instanceId: number, text: string): InstanceNote | null {
  if (db.prepare('SELECT 1 FROM instances WHERE id = ?').get(instanceId) === undefined)
    throw new WinnowError(`There is no instance with id ${instanceId}.`);
  const trimmed = text.trim();
  if (trimmed === '') {
    db.prepare('DELETE FROM instance_notes WHERE instance_id = ?').run(instanceId);
    return null;
  }
  const note = { text: trimmed, updatedAt: now() };
  db.prepare(
    `INSERT INTO instance_notes (instance_id, text, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (instance_id) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at`,
  ).run(instanceId, note.text, note.updatedAt);
  return note;
}

/**
 * Reads one instance's tags and note at a time, for exports: two index lookups per instance, so an
 * export holds no more of them in memory than the rows it is writing.
 */
export function curatorAnnotations(db: Db): (instanceId: number) => { tags: string[]; note: string | null } {
  const tags = db.prepare<[number], { tag: string }>(
    'SELECT tag FROM instance_tags WHERE instance_id = ? ORDER BY tag',
  );
  const note = db.prepare<[number], { text: string }>('SELECT text FROM instance_notes WHERE instance_id = ?');
  return (instanceId) => ({
    tags: tags.all(instanceId).map((r) => r.tag),
    note: note.get(instanceId)?.text ?? null,
  });
}
