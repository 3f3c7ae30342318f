import Database from 'better-sqlite3';
import { WinnowError } from '../errors.ts';
import { latestSchemaVersion, type Migration, migrations } from './migrations.ts';

export type Db = Database.Database;

/** Opens (creating if asked) a SQLite file with the pragmas every Winnow connection uses. */
export function openDatabase(file: string, options: { create: boolean; readonly?: boolean }): Db {
  const db = new Database(file, { fileMustExist: !options.create, readonly: options.readonly ?? false });
  if (!options.readonly) db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // WAL makes NORMAL durable against application crashes; only an OS crash can lose the last commit.
  db.pragma('synchronous = NORMAL');
  return db;
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
      db.transaction(() => {
        db.exec(migration.sql);
        if (migration.rebuildsTables && (db.pragma('foreign_key_check') as unknown[]).length > 0)
          throw new Error(`Migration ${migration.version} left rows that break a foreign key.`);
        db.pragma(`user_version = ${migration.version}`);
      })();
    } finally {
      if (migration.rebuildsTables) db.pragma('foreign_keys = ON');
    }
  }
}
