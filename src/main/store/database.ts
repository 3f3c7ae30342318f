import { statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { WinnowError } from '../errors.ts';
import { importCommitting } from './importStaging.ts';
import { latestSchemaVersion, type Migration, migrations } from './migrations.ts';

export type Db = Database.Database;

/**
 * How long a connection waits for another process's write lock before giving up. Write transactions
 * are synchronous work on rows already in memory (images are decoded and stored before one starts),
 * so a lock is held only for the commit: a round's scores, or an import's rows (one transaction, so
 * a failed import changes nothing; measured on the 2-core build machine: 3,000 images 0.7 s, 30,000
 * images 6.8 s; the chunks staged before it hold the lock only briefly each). 30 s covers imports of about 100,000 images; 5 s covered only 20,000.
 */
export const BUSY_TIMEOUT_MS = 30_000;

// Lets SQLite take `file:` URIs, for the immutable read-only open below. better-sqlite3 reads this
// once, when its first connection loads the addon; Winnow passes absolute paths, never "file:" names.
process.env.SQLITE_USE_URI ??= '1';

/** Opens (creating if asked) a SQLite file with the pragmas every Winnow connection uses. */
export function openDatabase(file: string, options: { create: boolean; readonly?: boolean }): Db {
  const db = options.readonly
    ? openReadonly(file)
    : new Database(file, { fileMustExist: !options.create, readonly: false });
  if (!options.readonly) db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // WAL makes NORMAL durable against application crashes; only an OS crash can lose the last commit.
  db.pragma('synchronous = NORMAL');
  // Up to 64 MiB of pages in memory (SQLite's default is 2 MiB), used only as pages are read:
  // recording a round's scores updates latest_scores_rank at places spread over the whole index,
  // which with the default cache meant rereading pages from the OS for most of them.
  db.pragma('cache_size = -65536');
  reusePreparedStatements(db);
  return db;
}

/**
 * Makes `db.prepare` return one statement per SQL text, prepared once. The store prepares its SQL
 * where it runs it, once per call; each statement holds about 10 KB of native memory V8 does not
 * count, so it is freed only when a collection happens to run: an import of 30,000 files held 1 GB
 * more at its commit, and a test of 30,000 inserts in one transaction 365 MB against 66 MB with one
 * statement (measured). The SQL texts are a fixed set (filters choose among a few), and no statement
 * is put in a mode (pluck, raw) or iterated, so one serves every caller of its text.
 */
function reusePreparedStatements(db: Db): void {
  const prepare = db.prepare.bind(db);
  const statements = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    let statement = statements.get(sql);
    if (statement === undefined) statements.set(sql, (statement = prepare(sql)));
    return statement;
  }) as Db['prepare'];
}

/**
 * A read-only connection that writes nothing, not even WAL's `-shm` index. SQLite reads a WAL
 * database read-only only if it may create `-shm` beside it; in a folder the user cannot write (a
 * read-only mount, another user's project) it cannot, so the file is opened as immutable instead,
 * which is exact when no `-wal` holds commits not yet copied into it (Winnow's last close copies
 * them). With such a `-wal`, it refuses rather than show an old state.
 */
function openReadonly(file: string): Db {
  const db = new Database(file, { fileMustExist: true, readonly: true });
  try {
    db.pragma('user_version');
    return db;
  } catch (error) {
    db.close();
    const code = (error as { code?: string }).code ?? '';
    if (code !== 'SQLITE_READONLY_DIRECTORY' && code !== 'SQLITE_CANTOPEN') throw error;
  }
  if ((statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0) > 0)
    throw new WinnowError(
      `${file} has changes not yet merged from ${file}-wal, and its folder cannot be written, so it cannot be read as it is.`,
      'Open the project once with write access (any Winnow command that changes it, or the workstation), or work on a copy.',
    );
  return new Database(`${pathToFileURL(file).href}?immutable=1`, { readonly: true });
}

/**
 * SQLite's errors for a full disk and a read-only database as sentences; anything else unchanged.
 * A failed transaction is rolled back whole, so "nothing was written" holds whenever this is used.
 */
export function describeWriteFailure(db: Db, error: unknown): unknown {
  const code = (error as { code?: string }).code ?? '';
  if (code.startsWith('SQLITE_FULL'))
    return new WinnowError(
      `The disk holding ${db.name} is full (or the database reached its size limit); nothing of this change was written.`,
      'Free some disk space and try again.',
    );
  if (code.startsWith('SQLITE_BUSY')) return new WriteLockBusyError(db);
  if (code.startsWith('SQLITE_READONLY'))
    return new WinnowError(
      `${db.name} cannot be written (${db.readonly ? 'the project was opened read-only' : 'the file or its folder is read-only'}); nothing of this change was written.`,
      'Open the project with write access: check the permissions of its folder, or work on a copy.',
    );
  return error;
}

/**
 * Runs `fn` in a transaction that takes the write lock up front (BEGIN IMMEDIATE): the one way
 * Winnow writes several statements at once. A deferred transaction that reads first cannot wait
 * for another process's write lock: SQLite answers "database is locked" at once (the busy timeout
 * does not apply when a read lock would have to become a write lock). Taking the lock first, it
 * waits up to BUSY_TIMEOUT_MS for the other writer and then succeeds; for as long as the other
 * writer is a live process committing an import (which may take longer), and fails after that
 * with who held the lock. Nested calls become savepoints of the outer transaction.
 */
export function writeTransaction<T>(db: Db, fn: () => T): T {
  for (;;) {
    try {
      return db.transaction(fn).immediate();
    } catch (error) {
      // An import's commit may hold the lock longer than the busy timeout: wait on while it lives
      // (unless the caller chose not to wait at all, with a timeout of 0).
      if (isBusy(error) && !db.inTransaction && busyTimeout(db) > 0 && importCommitting(db)) continue;
      throw describeWriteFailure(db, error);
    }
  }
}

function isBusy(error: unknown): boolean {
  return ((error as { code?: string }).code ?? '').startsWith('SQLITE_BUSY');
}

/** This connection's busy timeout, ms (0: a locked database fails at once). */
export const busyTimeout = (db: Db) => db.pragma('busy_timeout', { simple: true }) as number;

/** The write lock stayed with another process past this connection's busy timeout. */
export class WriteLockBusyError extends WinnowError {
  constructor(db: Db) {
    super(
      `Another process held the write lock of ${db.name} for more than ${busyTimeout(db) / 1000} s; nothing of this change was written.`,
      'Try again once it is done: a run or an import in another window or terminal (`winnow status` lists runs under way).',
    );
    this.name = 'WriteLockBusyError';
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the schema up to `target` (default: the latest), one migration per transaction, so a
 * failure leaves the database at the last good version. Refuses a database made by a newer Winnow.
 */
export function migrate(db: Db, target: number = latestSchemaVersion, all: readonly Migration[] = migrations): void {
  const current = schemaVersion(db);
  if (current > latestSchemaVersion) {
    throw new WinnowError(
      `${db.name} has schema version ${current}, but this Winnow knows versions up to ${latestSchemaVersion}.`,
      'Open it with a newer Winnow, or work on a copy made by this version.',
    );
  }
  for (const migration of all) {
    if (migration.version <= current || migration.version > target) continue;
    // Foreign keys can only be switched outside a transaction; a rebuild must not cascade deletes.
    if (migration.rebuildsTables) db.pragma('foreign_keys = OFF');
    try {
      writeTransaction(db, () => {
        // Another process opening the project at the same time may have applied it while this one
        // waited for the lock.
        if (schemaVersion(db) >= migration.version) return;
        db.exec(migration.sql);
        if (migration.rebuildsTables && (db.pragma('foreign_key_check') as unknown[]).length > 0)
          throw new Error(`Migration ${migration.version} left rows that break a foreign key.`);
        db.pragma(`user_version = ${migration.version}`);
      });
    } finally {
      if (migration.rebuildsTables) db.pragma('foreign_keys = ON');
    }
  }
}
