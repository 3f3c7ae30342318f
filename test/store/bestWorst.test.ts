import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addClass } from '../../src/main/store/classes.ts';
import { EXTREMES_SQL, extremesOfClass } from '../../src/main/store/instances.ts';
import { initProject, type Project } from '../../src/main/store/project.ts';
import { tempDir } from '../helpers/fixtures.ts';

const N = 200_000;
const CLASSES = 10;
let project: Project;
const contributions = new Map<number, number[]>(); // class id → all its contributions

beforeAll(() => {
  project = initProject(join(tempDir(), 'big'));
  const { db } = project;
  const classIds = Array.from({ length: CLASSES }, (_, i) => addClass(db, { name: `class-${i}` }).id);
  const image = db.prepare(
    "INSERT INTO images (hash, width, height, channels, bytes, created_at) VALUES (?, 28, 28, 1, 100, '')",
  );
  const instance = db.prepare(
    "INSERT INTO instances (image_hash, class_id, label_id, source, contribution, created_at) VALUES (?, ?, ?, 'generated', ?, '')",
  );
  let state = 12345;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  db.transaction(() => {
    for (let i = 0; i < N; i++) {
      const hash = i.toString(16).padStart(64, '0');
      const classId = classIds[i % CLASSES] as number;
      // One in ten is not scored yet: it must appear in neither end.
      const value = i % 10 === 3 ? null : random();
      image.run(hash);
      instance.run(hash, classId, classId, value);
      if (value === null) continue;
      const values = contributions.get(classId) ?? [];
      values.push(value);
      contributions.set(classId, values);
    }
  })();
  db.exec('ANALYZE');
});

afterAll(() => project.close());

describe('best/worst N of a class by contribution on 200k instances', () => {
  it('is a range scan of the (label, contribution) index, with no sort step', () => {
    for (const sql of Object.values(EXTREMES_SQL)) {
      const plan = project.db
        .prepare<[number, number], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
        .all(3, 50)
        .map((r) => r.detail)
        .join('\n');
      expect(plan).toMatch(/USING INDEX instances_label_contribution \(label_id=\? AND contribution>\?\)/);
      expect(plan).not.toMatch(/TEMP B-TREE/);
    }
  });

  it('returns the right instances in well under 50 ms', () => {
    const classId = 4;
    const sorted = [...(contributions.get(classId) ?? [])].sort((a, b) => b - a);
    extremesOfClass(project.db, classId, 50, 'best'); // prepare once
    const started = performance.now();
    const best = extremesOfClass(project.db, classId, 50, 'best');
    const worst = extremesOfClass(project.db, classId, 50, 'worst');
    const elapsed = performance.now() - started;
    expect(best.map((i) => i.contribution)).toEqual(sorted.slice(0, 50));
    expect(worst.map((i) => i.contribution)).toEqual(sorted.slice(-50).reverse());
    expect(best.every((i) => i.labelId === classId)).toBe(true);
    expect(elapsed).toBeLessThan(50);
  });
});
