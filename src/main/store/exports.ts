import { now } from './clock.ts';
import type { Db } from './database.ts';

export interface ExportRecord {
  readonly destination: string;
  readonly formats: readonly string[];
  readonly filter: unknown;
  readonly counts: Record<string, number>;
}

/** Remembers an export; a project opened read-only cannot, and its exports are still made. */
export function recordExport(db: Db, e: ExportRecord): number | undefined {
  if (db.readonly) return undefined;
  return Number(
    db
      .prepare('INSERT INTO exports (destination, formats, filter, counts, at) VALUES (?, ?, ?, ?, ?)')
      .run(e.destination, JSON.stringify(e.formats), JSON.stringify(e.filter), JSON.stringify(e.counts), now())
      .lastInsertRowid,
  );
}

export function listExports(db: Db): (ExportRecord & { id: number; at: string })[] {
  return db
    .prepare<[], { id: number; destination: string; formats: string; filter: string; counts: string; at: string }>(
      'SELECT id, destination, formats, filter, counts, at FROM exports ORDER BY id',
    )
    .all()
    .map((r) => ({ ...r, formats: JSON.parse(r.formats), filter: JSON.parse(r.filter), counts: JSON.parse(r.counts) }));
}
