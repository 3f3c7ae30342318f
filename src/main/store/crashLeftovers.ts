import { readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { busyTimeout, type Db, writeTransaction, WriteLockBusyError } from './database.ts';
import { anyPendingImport, dropStaleImports } from './importStaging.ts';
import { anyLiveLease, markInterruptedRuns } from './leases.ts';
import { getSetting, setSetting } from './settings.ts';

/** A temp file or partial export untouched this long has no live writer (each is written in one go). */
export const STALE_TEMP_MS = 10 * 60_000;
/**
 * Orphan images (files no `images` row names) are removed only once the image store has had no new
 * file for this long and no import is pending: an import stores all its files before the one
 * transaction that records them, and a file it finds already stored (left by a killed import) is
 * not written again, so the store can look quiet while a live import counts on that file.
 */
export const QUIET_STORE_MS = 60 * 60_000;

const PARTIAL_EXPORT = /^\..+\.partial-[0-9a-f]{8}$/;
const PREFIX_DIR = /^[0-9a-f]{2}$/;
const STORED_PNG = /^([0-9a-f]{64})\.png$/;
/** The newest image-store folder change already cleaned up to (ms since the epoch). */
const CLEANED_UP_TO = 'cleanedUpTo';

export interface LeftoversReport {
  /** Runs left `running` by a process that died, now `interrupted`. */
  readonly interrupted: readonly number[];
  /** Files and folders removed. */
  readonly removed: readonly string[];
}

/**
 * What killed processes leave behind, cleaned when a project is opened: runs still `running` whose
 * process is gone become `interrupted`, and the staged rows of imports whose process is gone are
 * dropped; then, only while no live process holds a lease on any of
 * the project's runs, stale `.partial-*` export folders (in the project and its `exports/`), stale
 * `*.tmp` files and orphan PNGs of the image store are removed. Each is judged by age as well, so a
 * file another live process is still writing (an import holds no lease) is never touched.
 */
export function cleanUpLeftovers(dir: string, imagesDir: string, db: Db, at: number = Date.now()): LeftoversReport {
  const nothing = { interrupted: [], removed: [] };
  if (db.readonly) return nothing;
  // Opening a project never waits for another process's write: while one is writing, the
  // clean-up is left to the next open.
  const waitMs = busyTimeout(db);
  db.pragma('busy_timeout = 0');
  try {
    const interrupted = markInterruptedRuns(db);
    writeTransaction(db, () => dropStaleImports(db));
    if (anyLiveLease(db)) return { interrupted, removed: [] };
    const removed = [...stalePartialExports([dir, join(dir, 'exports')], at), ...staleStoreFiles(imagesDir, db, at)];
    return { interrupted, removed };
  } catch (error) {
    if (error instanceof WriteLockBusyError || (error as { code?: string }).code?.startsWith('SQLITE_BUSY'))
      return nothing;
    throw error;
  } finally {
    db.pragma(`busy_timeout = ${waitMs}`);
  }
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Infinity;
  }
}

/** The newest change anywhere in a folder tree (files written into it update their folder). */
function newestChange(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return Math.max(stats.mtimeMs, ...entries(path).map((name) => newestChange(join(path, name))));
}

function stalePartialExports(dirs: readonly string[], at: number): string[] {
  const removed: string[] = [];
  for (const dir of dirs)
    for (const name of entries(dir).filter((n) => PARTIAL_EXPORT.test(n))) {
      const path = join(dir, name);
      if (at - newestChange(path) < STALE_TEMP_MS) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    }
  return removed;
}

/**
 * `*.tmp` files and orphan PNGs in the store's hash-prefix folders. Only folders changed since the
 * last clean-up are read (a new leftover changes its folder), so opening a clean project is cheap.
 */
function staleStoreFiles(imagesDir: string, db: Db, at: number): string[] {
  const folders = entries(imagesDir)
    .filter((n) => PREFIX_DIR.test(n))
    .map((n) => ({ path: join(imagesDir, n), changed: mtimeOf(join(imagesDir, n)) }));
  const cleanedUpTo = getSetting<number>(db, CLEANED_UP_TO) ?? 0;
  const changed = folders.filter((f) => f.changed > cleanedUpTo);
  if (changed.length === 0) return [];
  const newest = Math.max(...folders.map((f) => f.changed));
  const quiet = at - newest >= QUIET_STORE_MS && !anyPendingImport(db);
  // One folder's stored hashes at a time (a range of the primary key): a million images' would be
  // hundreds of MB for every command that opens the project after an import.
  const storedIn = (prefix: string) =>
    new Set(
      db
        .prepare<[string, string], { hash: string }>('SELECT hash FROM images WHERE hash >= ? AND hash < ?')
        .all(prefix, `${prefix}\uffff`)
        .map((r) => r.hash),
    );
  const removed: string[] = [];
  for (const folder of changed) {
    const known = quiet ? storedIn(basename(folder.path)) : null;
    for (const name of entries(folder.path)) {
      const path = join(folder.path, name);
      const hash = STORED_PNG.exec(name)?.[1];
      const stale =
        (name.endsWith('.tmp') && at - mtimeOf(path) >= STALE_TEMP_MS) ||
        (known !== null && hash !== undefined && !known.has(hash));
      if (!stale) continue;
      rmSync(path, { force: true });
      removed.push(path);
    }
  }
  // Orphans can only be judged once the store is quiet and no import is pending: until then, read
  // these folders again next time.
  if (quiet) setSetting(db, CLEANED_UP_TO, newest);
  return removed;
}
