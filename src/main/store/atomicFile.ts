import { randomBytes } from 'node:crypto';
import { type Stats, statSync } from 'node:fs';
import { link, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { WinnowError } from '../errors.ts';

/**
 * Writes a file atomically: a reader sees the old file or the whole new one, never a torn write.
 * `mode`: the new file's permissions from its first byte (0o600 for a file holding a secret).
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  { mode }: { mode?: number } = {},
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, data, mode === undefined ? {} : { mode });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** How long a process waits for another's lock; locks are held only to re-read and rewrite a small file. */
const LOCK_WAIT_MS = 15_000;
/** A lock older than this is taken to be left by a crash even when its holder cannot be checked (another host). */
const LOCK_STALE_MS = 60_000;

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
}

/**
 * Runs `fn` while this process holds `<path>.lock`, so that a read-modify-write of `path` by several
 * processes at once loses nothing. The lock is a file created with O_EXCL (one creator wins) naming
 * its holder; a lock whose holder process is gone (killed) or that is older than LOCK_STALE_MS is
 * broken. Breaking renames the lock aside first and checks it is the stale one, so two processes
 * breaking the same stale lock cannot remove a fresh one.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  await mkdir(dirname(path), { recursive: true });
  const me: LockOwner = { pid: process.pid, host: hostname(), token: randomBytes(8).toString('hex') };
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await writeFile(lock, JSON.stringify(me), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await breakIfStale(lock)) continue;
    if (Date.now() > deadline) {
      throw new WinnowError(
        `${path} is locked by another Winnow process (${lock}).`,
        `Wait for it to finish and try again; if no Winnow is running, delete ${lock}.`,
      );
    }
    await delay(25 + Math.random() * 25);
  }
  try {
    return await fn();
  } finally {
    // Remove only our own lock (a holder that outlived LOCK_STALE_MS may have lost it).
    if ((await readLock(lock))?.text === JSON.stringify(me)) await rm(lock, { force: true });
  }
}

/** A lock file's content and age, or undefined when there is none. */
async function readLock(lock: string): Promise<{ text: string; age: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(lock, 'utf8'), stat(lock)]);
    return { text, age: Date.now() - info.mtimeMs };
  } catch {
    return undefined;
  }
}

function holderIsGone(text: string): boolean {
  let owner: LockOwner;
  try {
    owner = JSON.parse(text) as LockOwner;
  } catch {
    return false; // caught between its creation and its first write: judged by age alone
  }
  if (owner.host !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function breakIfStale(lock: string): Promise<boolean> {
  const seen = await readLock(lock);
  if (seen === undefined) return true; // released meanwhile: try again
  if (seen.age < LOCK_STALE_MS && !holderIsGone(seen.text)) return false;
  const aside = `${lock}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(lock, aside);
  } catch {
    return true; // another process broke it first
  }
  if ((await readLock(aside))?.text !== seen.text) {
    // A fresh lock was taken in between and we moved it: put it back unless another has been made.
    await link(aside, lock).catch(() => undefined);
  }
  await rm(aside, { force: true });
  return true;
}

/**
 * Refuses a folder path that cannot be made, naming the file in the way: the path itself is a file,
 * or one of its parents is (which the file system reports only as ENOTDIR).
 */
export function checkFolderPath(path: string): void {
  for (let at = path; ; at = dirname(at)) {
    let info: Stats | undefined;
    try {
      info = statSync(at, { throwIfNoEntry: false });
    } catch {
      info = undefined; // ENOTDIR: a parent is a file; found further up
    }
    if (info !== undefined) {
      if (info.isDirectory()) return;
      throw new WinnowError(
        at === path ? `${path} is a file, not a folder.` : `${path} cannot be made: ${at} is a file, not a folder.`,
        'Choose a new or empty folder path.',
      );
    }
    if (dirname(at) === at) return;
  }
}
