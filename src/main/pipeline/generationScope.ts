import { randomUUID } from 'node:crypto';
import type { Db } from '../store/database.ts';
import { writeTransaction } from '../store/database.ts';
import { getSetting, setSetting } from '../store/settings.ts';

const PROJECT_KEY = 'queueKey';

/**
 * What a batch's generation jobs are named by in a shared queue: a random key of the project (two
 * projects both have a run 1; made once, kept in the project) and `name`, which says what the jobs
 * make: a loop's run and round, or a `winnow generate` request's digest. Equal names must mean equal
 * jobs: enqueuing them again then finds the ones already made or under way.
 */
export function generationScope(db: Db, name: string): string {
  const key =
    getSetting<string>(db, PROJECT_KEY) ??
    writeTransaction(db, () => {
      const existing = getSetting<string>(db, PROJECT_KEY);
      if (existing !== undefined) return existing;
      const fresh = randomUUID().slice(0, 8);
      setSetting(db, PROJECT_KEY, fresh);
      return fresh;
    });
  return `${key}-${name}`;
}
