import { WinnowError } from '../errors.ts';
import { now } from './clock.ts';
import type { Db } from './database.ts';

/**
 * Named review views of a project: a set of filters with a sort and a score kind, stored as the
 * JSON the API validated (the store does not look inside it). Names are unique without case.
 */
export interface SavedViewRow<V> {
  readonly id: number;
  readonly name: string;
  readonly view: V;
  readonly updatedAt: string;
}

export function listSavedViews<V>(db: Db): SavedViewRow<V>[] {
  return db
    .prepare<[], { id: number; name: string; view: string; updatedAt: string }>(
      'SELECT id, name, view, updated_at AS updatedAt FROM saved_views ORDER BY name',
    )
    .all()
    .map((r) => ({ ...r, view: JSON.parse(r.view) as V }));
}

/** Saves a view under a name, replacing the view of that name (without case) if there is one. */
export function saveView<V>(db: Db, name: string, view: V): SavedViewRow<V> {
  const updatedAt = now();
  const row = db
    .prepare<[string, string, string], { id: number; name: string }>(
      `INSERT INTO saved_views (name, view, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET view = excluded.view, updated_at = excluded.updated_at
       RETURNING id, name`,
    )
    .get(name, JSON.stringify(view), updatedAt) as { id: number; name: string };
  return { id: row.id, name: row.name, view, updatedAt };
}

export function deleteSavedView(db: Db, id: number): void {
  if (db.prepare('DELETE FROM saved_views WHERE id = ?').run(id).changes === 0)
    throw new WinnowError(
      `There is no saved view with id ${id}.`,
      'Reload the list of saved views: another window may have deleted it.',
    );
}
