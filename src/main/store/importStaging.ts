import { hostname } from 'node:os';
import { now } from './clock.ts';
import type { Db } from './database.ts';
import type { StoredImage } from './imageStore.ts';
import { isLive } from './processLiveness.ts';

/**
 * Imports staged chunk by chunk (migration 9): a pending import's rows wait in `import_staging`,
 * which nothing but its own commit reads, until one transaction moves them where they are seen.
 */

/** One staged file: its stored image, where it came from, and the importer's row for it (JSON-able). */
export interface StagedFile<R> {
  readonly seq: number;
  readonly image: StoredImage;
  readonly path: string;
  readonly row: R;
}

/** Starts a pending import owned by this process; returns its id. */
export function beginPendingImport(db: Db): number {
  const at = now();
  return Number(
    db
      .prepare('INSERT INTO pending_imports (pid, host, started_at, heartbeat_at) VALUES (?, ?, ?, ?)')
      .run(process.pid, hostname(), at, at).lastInsertRowid,
  );
}

/** Marks the import as still worked on (each chunk does), so that no other process drops it. */
export function heartbeatPendingImport(db: Db, importId: number): void {
  db.prepare('UPDATE pending_imports SET heartbeat_at = ? WHERE id = ?').run(now(), importId);
}

/**
 * Marks the import as committing, in its own transaction just before the commit's: other writers
 * then wait for the write lock as long as this process lives (importCommitting), not BUSY_TIMEOUT_MS.
 */
export function markImportCommitting(db: Db, importId: number): void {
  const at = now();
  db.prepare('UPDATE pending_imports SET committing_since = ?, heartbeat_at = ? WHERE id = ?').run(at, at, importId);
}

/** Whether a live process is committing an import (what holds the write lock when a writer finds it busy). */
export function importCommitting(db: Db): boolean {
  return db
    .prepare<[], { pid: number; host: string; heartbeatAt: string }>(
      'SELECT pid, host, heartbeat_at AS heartbeatAt FROM pending_imports WHERE committing_since IS NOT NULL',
    )
    .all()
    .some((p) => isLive(p));
}

/** Drops a pending import and everything staged for it (committed, or given up). */
export function dropPendingImport(db: Db, importId: number): void {
  db.prepare('DELETE FROM pending_imports WHERE id = ?').run(importId);
}

/**
 * Drops the pending imports whose process is gone (dead on this host, or silent for
 * LEASE_TIMEOUT_MS): what a killed import left. Returns their ids.
 */
export function dropStaleImports(db: Db): number[] {
  const stale = db
    .prepare<[], { id: number; pid: number; host: string; heartbeatAt: string }>(
      'SELECT id, pid, host, heartbeat_at AS heartbeatAt FROM pending_imports ORDER BY id',
    )
    .all()
    .filter((p) => !isLive(p))
    .map((p) => p.id);
  for (const id of stale) dropPendingImport(db, id);
  return stale;
}

/** Whether any import is pending (after dropStaleImports: one whose process is alive). */
export function anyPendingImport(db: Db): boolean {
  return db.prepare('SELECT 1 FROM pending_imports LIMIT 1').get() !== undefined;
}

/** Stages files of a pending import (inside the caller's transaction). */
export function stageFiles<R>(db: Db, importId: number, files: Iterable<StagedFile<R>>): void {
  const insert = db.prepare(
    `INSERT INTO import_staging (import_id, seq, image_hash, width, height, channels, bytes, path, row)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const { seq, image, path, row } of files)
    insert.run(
      importId,
      seq,
      image.hash,
      image.width,
      image.height,
      image.channels,
      image.bytes,
      path,
      JSON.stringify(row),
    );
}

/** The file already staged with this image in the import, if any. */
export function stagedPathOf(db: Db, importId: number, hash: string): string | undefined {
  return db
    .prepare<[number, string], { path: string }>(
      'SELECT path FROM import_staging WHERE import_id = ? AND image_hash = ?',
    )
    .get(importId, hash)?.path;
}

export function stagedCount(db: Db, importId: number): number {
  return (
    db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM import_staging WHERE import_id = ?').get(importId)
      ?.n ?? 0
  );
}

/** Up to `limit` staged files after `afterSeq`, in the import's order. */
export function stagedPage<R>(db: Db, importId: number, afterSeq: number, limit: number): StagedFile<R>[] {
  return db
    .prepare<
      [number, number, number],
      {
        seq: number;
        hash: string;
        width: number;
        height: number;
        channels: number;
        bytes: number;
        path: string;
        row: string;
      }
    >(
      `SELECT seq, image_hash AS hash, width, height, channels, bytes, path, row FROM import_staging
       WHERE import_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    )
    .all(importId, afterSeq, limit)
    .map(({ seq, hash, width, height, channels, bytes, path, row }) => ({
      seq,
      image: { hash, width, height, channels, bytes },
      path,
      row: JSON.parse(row) as R,
    }));
}

/** A file's metadata line staged for an import: where it is, and its data (null: a bad line refused the file). */
export interface StagedMetadata {
  readonly where: string;
  readonly data: unknown;
}

/** Stages the metadata line of a file; false (and nothing staged) when the file has one already. */
export function stageMetadata(db: Db, importId: number, fileName: string, where: string, data: unknown): boolean {
  return (
    db
      .prepare('INSERT OR IGNORE INTO import_metadata (import_id, file_name, line_at, data) VALUES (?, ?, ?, ?)')
      .run(importId, fileName, where, data === null ? null : JSON.stringify(data)).changes > 0
  );
}

export function hasStagedMetadata(db: Db, importId: number, fileName: string): boolean {
  return (
    db.prepare('SELECT 1 FROM import_metadata WHERE import_id = ? AND file_name = ?').get(importId, fileName) !==
    undefined
  );
}

/** The staged metadata line of a file the walk found (marked as found), or undefined when there is none. */
export function takeStagedMetadata(db: Db, importId: number, fileName: string): StagedMetadata | undefined {
  const row = db
    .prepare<[number, string], { where: string; data: string | null }>(
      'SELECT line_at AS "where", data FROM import_metadata WHERE import_id = ? AND file_name = ?',
    )
    .get(importId, fileName);
  if (row === undefined) return undefined;
  db.prepare('UPDATE import_metadata SET matched = 1 WHERE import_id = ? AND file_name = ?').run(importId, fileName);
  return { where: row.where, data: row.data === null ? null : (JSON.parse(row.data) as unknown) };
}

/** The good metadata lines naming files the walk did not find, in the file's order. */
export function unmatchedMetadata(db: Db, importId: number): { fileName: string; where: string }[] {
  return db
    .prepare<[number], { fileName: string; where: string }>(
      `SELECT file_name AS fileName, line_at AS "where" FROM import_metadata
       WHERE import_id = ? AND matched = 0 AND data IS NOT NULL ORDER BY rowid`,
    )
    .all(importId);
}
