import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addClass } from '../../src/main/store/classes.ts';
import { curate } from '../../src/main/store/curation.ts';
import type { Project } from '../../src/main/store/project.ts';
import { DECISION_COUNTS_SQL, summarize } from '../../src/main/store/summary.ts';
import { addBareInstances } from '../helpers/bareInstances.ts';
import { queryPlan } from '../helpers/queryPlan.ts';
import { newProject } from '../helpers/scoredProject.ts';

// The project's summary (every screen's header) counts each class's instances by decision. It must
// count the curator's override over the filter's status, and read one index, not every instance row.
let project: Project;
let classIds: number[];
let ids: number[];
// The filter's status of the i-th instance; the curator overrides every 7th (below).
const STATUSES = ['pending', 'accepted', 'rejected', 'accepted', 'rejected'] as const;
const statusOf = (i: number) => STATUSES[i % STATUSES.length]!;

beforeAll(() => {
  project = newProject();
  const { db } = project;
  classIds = ['a', 'b', 'c', 'empty'].map((name) => addClass(db, { name }).id);
  ids = addBareInstances(db, 300, classIds.slice(0, 3));
  const setStatus = db.prepare('UPDATE instances SET status = ? WHERE id = ?');
  db.transaction(() => ids.forEach((id, i) => setStatus.run(statusOf(i), id)))();
  // The curator overrides every 7th instance: accepted on even ids, rejected on odd ones.
  const overridden = ids.filter((_, i) => i % 7 === 0);
  curate(db, { instanceIds: overridden.filter((id) => id % 2 === 0), action: 'accept' });
  curate(db, { instanceIds: overridden.filter((id) => id % 2 === 1), action: 'reject' });
  db.exec('ANALYZE');
});

afterAll(() => project.close());

describe("the project's summary", () => {
  it('counts each class by its effective decision, the override winning, and overrides apart', () => {
    const expected = (classId: number) => {
      const counts = { pending: 0, accepted: 0, rejected: 0, overridden: 0 };
      ids.forEach((id, i) => {
        if (classIds[i % 3] !== classId) return;
        const override = i % 7 === 0 ? (id % 2 === 0 ? 'accepted' : 'rejected') : undefined;
        counts[override ?? statusOf(i)]++;
        if (override) counts.overridden++;
      });
      return counts;
    };
    const summary = summarize(project.db);
    expect(summary.classes.map((c) => c.synthetic)).toEqual(classIds.map(expected));
    expect(summary.classes.at(-1)?.synthetic).toEqual({ pending: 0, accepted: 0, rejected: 0, overridden: 0 });
  });

  it('reads the (label, status, override) index alone', () => {
    const plan = queryPlan(project.db, DECISION_COUNTS_SQL);
    expect(plan).toMatch(/SCAN instances USING COVERING INDEX instances_label_decision/);
    expect(plan).not.toMatch(/TEMP B-TREE/);
  });
});
