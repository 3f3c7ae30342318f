// Times the review screen's queries through the engine's API on a seeded project of scored
// instances: best 50 + worst 50 of one class (the strips) and the grid's first page of 240, by the
// default ranking (quality) and by cosine contribution. Every instance has a score history of every
// head score kind over two rounds, recorded as a loop's rounds record it (timed too: what keeping
// the review's orderings current costs the writes).
//
//   node bench/store-queries.ts [--instances 100000] [--classes 10,1] [--repeats 100]
//
// --classes: the layouts to time, the instances spread evenly over that many classes (1: all in one).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { HEAD_SCORE_KINDS, type ScoreKindName } from '../src/shared/scoreKinds.ts';
import { createEngine } from '../src/main/service/winnowService.ts';
import { addClass } from '../src/main/store/classes.ts';
import { writeTransaction } from '../src/main/store/database.ts';
import { initProject } from '../src/main/store/project.ts';
import { recordScores, type ScoreEntry } from '../src/main/store/scores.ts';
import { addBareInstances } from '../test/helpers/bareInstances.ts';
import { quantile } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    instances: { type: 'string', default: '100000' },
    classes: { type: 'string', default: '10,1' },
    repeats: { type: 'string', default: '100' },
  },
});
const N = Number(args.instances);
const REPEATS = Number(args.repeats);
const ROUNDS = 2;

for (const classCount of args.classes.split(',').map(Number)) {
  const dir = mkdtempSync(join(tmpdir(), 'winnow-bench-'));
  const project = initProject(join(dir, 'p'));
  const { db } = project;
  const classIds = Array.from({ length: classCount }, (_, i) => addClass(db, { name: `class-${i}` }).id);
  addBareInstances(db, N, classIds);
  // Each round's scores in one transaction, as a round of the loop writes them (it holds the write lock).
  const writes: string[] = [];
  let started = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const entries: ScoreEntry[] = [];
    for (let id = 1; id <= N; id++)
      HEAD_SCORE_KINDS.forEach((kind, k) =>
        entries.push({ instanceId: id, kind, value: Math.sin(id * (k + 1) + round), runId: null, roundIndex: round }),
      );
    started = performance.now();
    writeTransaction(db, () => recordScores(db, entries));
    writes.push(`${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  db.exec('ANALYZE');
  const { api } = createEngine(project);

  const time = async (work: (classId: number) => Promise<unknown>) => {
    await work(classIds[0] as number); // prepare once
    const times: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      const classId = classIds[r % classIds.length] as number;
      started = performance.now();
      await work(classId);
      times.push(performance.now() - started);
    }
    const at = (q: number) => quantile(times, q).toFixed(2);
    return `median ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1)} ms`;
  };
  const strips = (kind: ScoreKindName) => (classId: number) => api.classExtremes({ classId, n: 50, kind });
  const grid = (kind: ScoreKindName) => (classId: number) =>
    api.classPage({ labelId: classId, order: 'best', kind, offset: 0, limit: 240 });
  console.log(`${N} instances in ${classCount} class(es):`);
  console.log(`  recording a round's ${HEAD_SCORE_KINDS.length * N} scores: ${writes.join(', then ')}`);
  for (const kind of ['quality', 'contribution'] as const) {
    console.log(`  ${kind}: best 50 + worst 50 of one class: ${await time(strips(kind))}`);
    console.log(`  ${kind}: grid's first page (240, highest first): ${await time(grid(kind))}`);
  }
  project.close();
  rmSync(dir, { recursive: true, force: true });
}
