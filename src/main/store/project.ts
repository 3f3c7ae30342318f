import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { WinnowError } from '../errors.ts';
import { type Db, migrate, openDatabase, schemaVersion, writeTransaction } from './database.ts';
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
  mkdirSync(join(root, IMAGES_DIR), { recursive: true });
  const db = openDatabase(join(root, DATABASE_FILE), { create: true });
  migrate(db);
  writeTransaction(db, () => {
    setSetting(db, 'name', name);
    setSetting(db, 'createdAt', new Date().toISOString());
  });
  return wrap(root, db);
}

/** Opens an existing project, upgrading its schema if it was made by an older Winnow. */
export function openProject(dir: string): Project {
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
  const db = openDatabase(join(root, DATABASE_FILE), { create: false });
  try {
    if (schemaVersion(db) === 0) {
      throw new WinnowError(`${join(root, DATABASE_FILE)} is not a Winnow database (schema version 0).`);
    }
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  mkdirSync(join(root, IMAGES_DIR), { recursive: true });
  return wrap(root, db);
}

function wrap(dir: string, db: Db): Project {
  return { dir, db, images: new ImageStore(join(dir, IMAGES_DIR)), close: () => db.close() };
}
