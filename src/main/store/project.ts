import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { WinnowError } from '../errors.ts';
import { type Db, migrate, openDatabase, schemaVersion, writeTransaction } from './database.ts';
import { cleanUpLeftovers } from './crashLeftovers.ts';
import { latestSchemaVersion } from './migrations.ts';
import { ImageStore } from './imageStore.ts';
import { setSetting } from './settings.ts';

export const DATABASE_FILE = 'winnow.db';
export const IMAGES_DIR = 'images';

/** An open project: a directory holding `winnow.db` and the content-addressed `images/`. */
export interface Project {
  readonly dir: string;
  readonly db: Db;
  readonly images: ImageStore;
  close(): void;
}

export function isProject(dir: string): boolean {
  return existsSync(join(dir, DATABASE_FILE));
}

/** Creates a project in `dir` (which must be missing or empty) and opens it. */
export function initProject(dir: string, name: string = basename(resolve(dir))): Project {
  const root = resolve(dir);
  if (isProject(root)) {
    throw new WinnowError(`${root} is already a Winnow project.`, `Open it instead, e.g. \`winnow status ${dir}\`.`);
  }
  if (existsSync(root)) {
    if (!statSync(root).isDirectory())
      throw new WinnowError(`${root} exists and is not a directory.`, 'Choose another path.');
    if (readdirSync(root).length > 0) {
      throw new WinnowError(`${root} is not empty.`, 'Choose a new or empty directory for the project.');
    }
  }
  makeFolders(join(root, IMAGES_DIR));
  const db = openDatabase(join(root, DATABASE_FILE), { create: true });
  migrate(db);
  writeTransaction(db, () => {
    setSetting(db, 'name', name);
    setSetting(db, 'createdAt', new Date().toISOString());
  });
  return wrap(root, db);
}

/**
 * Creates a folder and its missing parents one level at a time: Node's recursive mkdirSync spins
 * forever under /proc (ENOENT for a parent that exists). A failure names the folder and the fix.
 */
function makeFolders(path: string): void {
  if (existsSync(path) || dirname(path) === path) return;
  makeFolders(dirname(path));
  try {
    mkdirSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST' && statSync(path).isDirectory()) return;
    throw new WinnowError(
      `Cannot create the folder ${path}: ${(error as Error).message}.`,
      'Choose a project folder you can write to, whose parent folders are folders (not files).',
    );
  }
}

export interface OpenOptions {
  /**
   * Only read: SQLite opens the file read-only (no WAL conversion, no schema upgrade, no `-shm` where
   * the folder cannot be written) and `images/` is not created. For commands that only inspect or
   * copy out (status, export elsewhere) so that a read-only project can still be looked at.
   */
  readonly readonly?: boolean;
}

/** SQLite's 16-byte file header: anything else is not a database, and is refused unopened. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Opens an existing project, upgrading its schema if it was made by an older Winnow (unless read-only).
 * Everything that can be checked without SQLite is checked first, so a file that is refused is never
 * modified (SQLite would convert even an empty file to WAL).
 */
export function openProject(dir: string, options: OpenOptions = {}): Project {
  const root = resolve(dir);
  if (!existsSync(root)) {
    throw new WinnowError(`${root} does not exist.`, `Create a project with \`winnow init ${dir}\`.`);
  }
  if (!isProject(root)) {
    throw new WinnowError(
      `${root} is not a Winnow project (it has no ${DATABASE_FILE}).`,
      `Create one with \`winnow init <dir>\`, or pass the project directory with --project.`,
    );
  }
  const file = join(root, DATABASE_FILE);
  checkDatabaseFile(file);
  const images = join(root, IMAGES_DIR);
  if (existsSync(images) && !statSync(images).isDirectory())
    throw new WinnowError(
      `${images} is not a folder: a project keeps its images there.`,
      `Move that file away (the project's images are missing), or open another project.`,
    );
  const readonly = options.readonly ?? false;
  let db: Db;
  try {
    db = openDatabase(file, { create: false, readonly });
  } catch (error) {
    throw databaseFailure(file, error);
  }
  try {
    const version = schemaVersion(db);
    if (version === 0) {
      throw new WinnowError(`${file} is not a Winnow database (schema version 0).`);
    }
    if (readonly && version < latestSchemaVersion)
      throw new WinnowError(
        `${file} was made by an older Winnow (schema version ${version}) and must be upgraded, which a read-only open cannot do.`,
        'Open the project once with write access (any Winnow command that changes it, or the workstation), or work on a copy.',
      );
    if (!readonly) migrate(db);
  } catch (error) {
    db.close();
    throw databaseFailure(file, error);
  }
  if (!readonly) {
    makeFolders(images);
    cleanUpLeftovers(root, images, db);
  }
  return wrap(root, db);
}

/** Refuses a winnow.db that is not a regular file starting with SQLite's header, without writing to it. */
function checkDatabaseFile(file: string): void {
  const info = statSync(file);
  if (!info.isFile())
    throw new WinnowError(`${file} is not a file.`, 'Move it away; a project keeps its SQLite database there.');
  const fix = 'Restore winnow.db from a backup, or create a new project with `winnow init <dir>`.';
  if (info.size === 0) throw new WinnowError(`${file} is empty: it is not a Winnow database.`, fix);
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!header.equals(SQLITE_HEADER))
    throw new WinnowError(`${file} is not a SQLite database (it does not start with SQLite's header).`, fix);
}

/**
 * Opens a project for a command that only reads it: as usual when its folder and database can be
 * written (so an older schema is upgraded and crash leftovers are cleaned), else read-only, so a
 * project on a read-only mount or in another user's folder can still be inspected and exported.
 */
export function openProjectToRead(dir: string): Project {
  const root = resolve(dir);
  let writable = true;
  try {
    accessSync(root, constants.W_OK);
    accessSync(join(root, DATABASE_FILE), constants.W_OK);
  } catch {
    writable = false;
  }
  return openProject(dir, { readonly: !writable });
}

/** SQLite's words for a damaged or unwritable file as a sentence naming it; other errors unchanged. */
function databaseFailure(file: string, error: unknown): unknown {
  const code = (error as { code?: string }).code ?? '';
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN')
    return new WinnowError(
      `${file} cannot be opened for writing (${(error as Error).message}): the project or its folder is read-only.`,
      'Check the permissions of the project folder, or work on a copy; commands that only read open it read-only.',
    );
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
    return new WinnowError(
      `${file} is damaged (${(error as Error).message}).`,
      'Restore winnow.db from a backup; `sqlite3 winnow.db .recover` may save what is left.',
    );
  return error;
}

function wrap(dir: string, db: Db): Project {
  return { dir, db, images: new ImageStore(join(dir, IMAGES_DIR)), close: () => db.close() };
}
