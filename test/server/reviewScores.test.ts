import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, dispatch } from '../../src/main/service/winnowService.ts';
import { addClass } from '../../src/main/store/classes.ts';
import { curate } from '../../src/main/store/curation.ts';
import { recordScores } from '../../src/main/store/scores.ts';
import { addInstance, newProject } from '../helpers/scoredProject.ts';

// The review's API on a real project: the strips and the grid take any kind of the registry (the
// default ranking when none is given) and show each instance's latest score of it; lists ordered
// by no kind show the default ranking, never the cosine contribution in its place.
const project = newProject();
afterAll(() => project.close());
const { db } = project;
const shirt = addClass(db, { name: 'shirt' }).id;
const coat = addClass(db, { name: 'coat' }).id;
const [a, b, c] = [1, 2, 3].map(() => addInstance(db, shirt)) as [number, number, number];
recordScores(
  db,
  [
    [a, -1, 0.9],
    [b, -3, 0.5],
    [c, -2, -0.4],
  ].flatMap(([id, quality, contribution]) => [
    { instanceId: id!, kind: 'quality', value: quality!, runId: null, roundIndex: 0 },
    { instanceId: id!, kind: 'contribution', value: contribution!, runId: null, roundIndex: 0 },
  ]),
);
const call = (method: Parameters<typeof dispatch>[1], request: object) =>
  dispatch(createEngine(project).api, method, request) as Promise<Record<string, unknown>>;
const ranked = (items: unknown) => (items as { id: number; score: number }[]).map((i) => [i.id, i.score]);

describe("the review's strips and grid", () => {
  it('are ordered by quality unless another kind is asked for', async () => {
    const byDefault = await call('classExtremes', { classId: shirt, n: 2 });
    expect(ranked(byDefault.best)).toEqual([
      [a, -1],
      [c, -2],
    ]);
    expect(ranked(byDefault.worst)).toEqual([
      [b, -3],
      [c, -2],
    ]);
    const byContribution = await call('classExtremes', { classId: shirt, n: 1, kind: 'contribution' });
    expect(ranked(byContribution.best)).toEqual([[a, 0.9]]);
    expect(ranked(byContribution.worst)).toEqual([[c, -0.4]]);
    const page = await call('classPage', { labelId: shirt, order: 'worst', offset: 0, limit: 10 });
    expect(ranked(page.items)).toEqual([
      [b, -3],
      [c, -2],
      [a, -1],
    ]);
  });

  it('refuse a kind the registry does not know', async () => {
    await expect(call('classExtremes', { classId: shirt, n: 2, kind: 'contribution_batch' })).rejects.toThrow(
      /score kind/,
    );
  });

  it('move an instance to the class it is relabelled as', async () => {
    curate(db, { instanceIds: [c], action: 'relabel', labelId: coat });
    expect(ranked((await call('classExtremes', { classId: coat, n: 5 })).best)).toEqual([[c, -2]]);
    expect(ranked((await call('classExtremes', { classId: shirt, n: 5 })).best)).toEqual([
      [a, -1],
      [b, -3],
    ]);
  });
});

describe('lists ordered by no kind', () => {
  it('show the default ranking as the score', async () => {
    expect(await call('instanceDetail', { id: b })).toMatchObject({ score: -3, contribution: 0.5 });
    const sample = await call('auditSample', { perClass: 5, seed: 1 });
    expect(new Map(ranked(sample.items) as [number, number][])).toEqual(
      new Map([
        [a, -1],
        [b, -3],
        [c, -2],
      ]),
    );
  });
});
