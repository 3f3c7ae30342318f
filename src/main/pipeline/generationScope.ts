import { randomUUID } from 'node:crypto';
import type { Db } from '../store/database.ts';
import { writeTransaction } from '../store/database.ts';
import { getSetting, setSetting } from '../store/settings.ts';

const PROJECT_KEY = 'queueKey';

/**
 * What a run's (or a round's) generation jobs are named by in a shared queue: a random key of the
 * project (two projects both have a run 1), the run and the round. Made once, kept in the project.
 */
export function generationScope(db: Db, runId: number, round: number | null): string {
  const key =
    getSetting<string>(db, PROJECT_KEY) ??
    writeTransaction(db, () => {
      const existing = getSetting<string>(db, PROJECT_KEY);
      if (existing !== undefined) return existing;
      const fresh = randomUUID().slice(0, 8);
      setSetting(db, PROJECT_KEY, fresh);
      return fresh;
    });
  return `${key}-run${runId}-${round === null ? 'all' : `round${round}`}`;
}
