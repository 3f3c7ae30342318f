import Database from 'better-sqlite3';
import { WinnowError } from '../errors.ts';
import { latestSchemaVersion, type Migration, migrations } from './migrations.ts';

export type Db = Database.Database;

/**
 * How long a connection waits for another process's write lock before giving up. Write transactions
 * are synchronous work on rows already in memory (images are decoded and stored before one starts),
 * so a lock is held only for the commit: a round's scores, or an import's rows (one transaction, so
 * a failed import changes nothing; measured on the 2-core build machine: 3,000 images 0.7 s, 30,000
 * images 6.8 s). 30 s covers imports of about 100,000 images; 5 s covered only 20,000.
 */
export const BUSY_TIMEOUT_MS = 30_000;

/** Opens (creating if asked) a SQLite file with the pragmas every Winnow connection uses. */
export function openDatabase(file: string, options: { create: boolean; readonly?: boolean }): Db {
  const db = new Database(file, { fileMustExist: !options.create, readonly: options.readonly ?? false });
  if (!options.readonly) db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // WAL makes NORMAL durable against application crashes; only an OS crash can lose the last commit.
  db.pragma('synchronous = NORMAL');
  return db;
}

/**
 * Runs `fn` in a transaction that takes the write lock up front (BEGIN IMMEDIATE): the one way
 * Winnow writes several statements at once. A deferred transaction that reads first cannot wait
 * for another process's write lock: SQLite answers "database is locked" at once (the busy timeout
 * does not apply when a read lock would have to become a write lock). Taking the lock first, it
 * waits up to BUSY_TIMEOUT_MS for the other writer and then succeeds. Nested calls become
 * savepoints of the outer transaction.
 */
export function writeTransaction<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
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
    writeTransaction(db, () => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    });
  }
}
