// Projects with synthetic instances and score histories, written through the store as a scoring
// pass writes them.
import { join } from 'node:path';
import type { Db } from '../../src/main/store/database.ts';
import { recordImage } from '../../src/main/store/images.ts';
import { insertInstance } from '../../src/main/store/instances.ts';
import { initProject, type Project } from '../../src/main/store/project.ts';
import { createRun, ensureRound } from '../../src/main/store/runs.ts';
import { recordScores } from '../../src/main/store/scores.ts';
import { tempDir } from './fixtures.ts';
import { syntheticRow } from './instanceRows.ts';

let made = 0;

/** A new synthetic instance of a class (its label too); `run` says which run and round made it. */
export function addInstance(db: Db, classId: number, run?: { runId: number; roundIndex: number }): number {
  const hash = (++made).toString(16).padStart(64, 'f');
  recordImage(db, { hash, width: 1, height: 1, channels: 1, bytes: 1 });
  return insertInstance(
    db,
    syntheticRow(hash, classId, { runId: run?.runId ?? null, roundIndex: run?.roundIndex ?? null }),
  );
}

/**
 * A loop run of one class: round r makes one instance per value of `scores[kind][r]`, scored that
 * round with those values (the kinds' lists must be as long as each other).
 */
export function addScoredRun(db: Db, classId: number, scores: Record<string, number[][]>): number {
  const runId = createRun(db, 'loop', {});
  const [first = []] = Object.values(scores);
  first.forEach((values, roundIndex) => {
    ensureRound(db, runId, roundIndex, {});
    values.forEach((_, k) => {
      const instanceId = addInstance(db, classId, { runId, roundIndex });
      recordScores(
        db,
        Object.entries(scores).map(([kind, byRound]) => ({
          instanceId,
          kind,
          value: byRound[roundIndex]![k]!,
          runId,
          roundIndex,
        })),
      );
    });
  });
  return runId;
}

export function newProject(): Project {
  return initProject(join(tempDir(), 'p'));
}
