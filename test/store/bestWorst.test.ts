import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addClass } from '../../src/main/store/classes.ts';
import { EXTREMES_SQL, extremesOfClass, pageOfClass, scoredSql } from '../../src/main/store/instances.ts';
import type { Project } from '../../src/main/store/project.ts';
import { recordScores, type ScoreEntry } from '../../src/main/store/scores.ts';
import { addBareInstances } from '../helpers/bareInstances.ts';
import { queryPlan } from '../helpers/queryPlan.ts';
import { newProject } from '../helpers/scoredProject.ts';

// The review's strips and grid on 100,000 instances scored by two kinds, as a scoring pass records
// them: every kind is ordered by one index walk, not by reading and sorting the score history.
const N = 100_000;
const CLASSES = 10;
const KINDS = ['quality', 'contribution'] as const;
let project: Project;
const values = new Map<string, number[]>(); // `${kind}:${class id}` → all its latest values

beforeAll(() => {
  project = newProject();
  const { db } = project;
  const classIds = Array.from({ length: CLASSES }, (_, i) => addClass(db, { name: `class-${i}` }).id);
  const ids = addBareInstances(db, N, classIds);
  let state = 12345;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  db.transaction(() => {
    const entries: ScoreEntry[] = [];
    for (let i = 0; i < N; i++) {
      const id = ids[i] as number;
      const classId = classIds[i % CLASSES] as number;
      // One in seven is not scored yet: it must appear in neither end.
      if (i % 7 === 3) continue;
      for (const kind of KINDS) {
        // An older score first: only the latest may count.
        entries.push({ instanceId: id, kind, value: 5, runId: null, roundIndex: 0 });
        const value = kind === 'quality' ? random() * 4 - 4 : random();
        entries.push({ instanceId: id, kind, value, runId: null, roundIndex: 1 });
        const key = `${kind}:${classId}`;
        if (!values.has(key)) values.set(key, []);
        values.get(key)?.push(value);
      }
    }
    recordScores(db, entries);
  })();
  db.exec('ANALYZE');
}, 60_000);

afterAll(() => project.close());

describe(`best/worst N of a class by any score kind on ${N / 1000}k instances`, () => {
  it('is a range scan of the (kind, label, value) index, with no sort step, filtered or not', () => {
    const params = { kind: 'quality', labelId: 3, limit: 50, offset: 0, status: 'accepted' };
    for (const sql of [
      ...Object.values(EXTREMES_SQL),
      scoredSql('best', ' AND coalesce(i.override, i.status) = :status'),
      scoredSql('worst', ' AND coalesce(i.override, i.status) = :status'),
    ]) {
      const plan = queryPlan(project.db, sql, params);
      expect(plan).toMatch(/SEARCH ls USING (COVERING )?INDEX latest_scores_rank \(kind=\? AND label_id=\?\)/);
      expect(plan).not.toMatch(/TEMP B-TREE/);
    }
  });

  it.each(KINDS)('returns the right instances by %s in well under 50 ms', (kind) => {
    const classId = 4;
    const sorted = [...(values.get(`${kind}:${classId}`) ?? [])].sort((a, b) => b - a);
    expect(sorted.length).toBeGreaterThan(8000);
    extremesOfClass(project.db, classId, kind, 50, 'best'); // prepare once
    const started = performance.now();
    const best = extremesOfClass(project.db, classId, kind, 50, 'best');
    const worst = extremesOfClass(project.db, classId, kind, 50, 'worst');
    const elapsed = performance.now() - started;
    expect(best.map((i) => i.score)).toEqual(sorted.slice(0, 50));
    expect(worst.map((i) => i.score)).toEqual(sorted.slice(-50).reverse());
    expect([...best, ...worst].every((i) => i.labelId === classId)).toBe(true);
    expect(elapsed).toBeLessThan(50);
  });

  it.each(KINDS)("gives the grid's first and last pages by %s, with the total, in well under 50 ms", (kind) => {
    const classId = 5;
    const sorted = [...(values.get(`${kind}:${classId}`) ?? [])].sort((a, b) => b - a);
    const page = (offset: number) =>
      pageOfClass(project.db, { labelId: classId, kind, order: 'best', offset, limit: 240 });
    page(0); // prepare once
    const started = performance.now();
    const first = page(0);
    const elapsed = performance.now() - started;
    expect(first.total).toBe(N / CLASSES);
    expect(first.items.map((i) => i.score)).toEqual(sorted.slice(0, 240));
    expect(elapsed).toBeLessThan(50);
    // The page across the end of the scored: the lowest scores, then the unscored, by id.
    const across = page(sorted.length - 100).items;
    expect(across.slice(0, 100).map((i) => i.score)).toEqual(sorted.slice(-100));
    expect(across.slice(100).map((i) => i.score)).toEqual(Array(140).fill(null));
    expect(across.slice(100).map((i) => i.id)).toEqual(
      across
        .slice(100)
        .map((i) => i.id)
        .sort((a, b) => a - b),
    );
  });
});
