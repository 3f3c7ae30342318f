import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, dispatch } from '../../src/main/service/winnowService.ts';
import { addClass } from '../../src/main/store/classes.ts';
import { curate } from '../../src/main/store/curation.ts';
import { openProject, type Project } from '../../src/main/store/project.ts';
import { recordScores } from '../../src/main/store/scores.ts';
import { exportDataset } from '../../src/main/pipeline/exportDataset.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { addInstance, newProject } from '../helpers/scoredProject.ts';

// Tags, notes and saved views through the API (validated as every transport validates) on a real
// SQLite file: tagging round-trips, undoes like a decision, filters the review and the map, reaches
// exports; a saved view survives reopening the project.
let project: Project;
let shirt: number;
let coat: number;
let ids: number[];
let coatId: number;
const call = <T = Record<string, unknown>>(method: Parameters<typeof dispatch>[1], request: object) =>
  dispatch(createEngine(project).api, method, request) as Promise<T>;
const idsOf = (items: unknown) => (items as { id: number }[]).map((i) => i.id);

beforeAll(() => {
  project = newProject();
  shirt = addClass(project.db, { name: 'shirt' }).id;
  coat = addClass(project.db, { name: 'coat' }).id;
  ids = [1, 2, 3, 4].map(() => addInstance(project.db, shirt));
  coatId = addInstance(project.db, coat);
  recordScores(
    project.db,
    [...ids, coatId].map((instanceId, k) => ({ instanceId, kind: 'quality', value: k, runId: null, roundIndex: 0 })),
  );
  curate(project.db, { instanceIds: ids, action: 'accept' });
  curate(project.db, { instanceIds: [coatId], action: 'accept' });
});
afterAll(() => project.close());

describe('tags', () => {
  it('are added trimmed and without case duplicates, listed with counts, shown on lists and in the detail', async () => {
    const [a, b, c] = ids as [number, number, number];
    expect(await call('tagAdd', { ids: [a, b], tags: ['  blurry ', 'odd pose'] })).toEqual({
      batch: expect.any(String),
      changed: 2,
    });
    // "Blurry" is the tag a and b already carry; only c changes, and keeps the first spelling.
    expect(await call('tagAdd', { ids: [a, c], tags: ['Blurry'] })).toMatchObject({ changed: 1 });
    expect(await call('tagAdd', { ids: [coatId], tags: ['blurry'] })).toMatchObject({ changed: 1 });
    // One tag however spelled (named by one of its spellings), counted over all classes, most used first.
    const { tags } = await call<{ tags: { tag: string; count: number }[] }>('tagList', {});
    expect(tags.map((t) => [t.tag.toLowerCase(), t.count])).toEqual([
      ['blurry', 4],
      ['odd pose', 2],
    ]);
    const page = await call<{ items: { id: number; tags: string[] }[] }>('classPage', {
      labelId: shirt,
      order: 'newest',
      offset: 0,
      limit: 10,
    });
    expect(Object.fromEntries(page.items.map((i) => [i.id, i.tags]))).toEqual({
      [a]: ['blurry', 'odd pose'],
      [b]: ['blurry', 'odd pose'],
      [c]: ['Blurry'],
      [ids[3]!]: [],
    });
    expect(await call('instanceDetail', { id: a })).toMatchObject({ tags: ['blurry', 'odd pose'], note: null });
  });

  it('filter the strips and the grid, without case', async () => {
    const [a, b, c] = ids as [number, number, number];
    const filtered = { tag: 'BLURRY' };
    const extremes = await call('classExtremes', { classId: shirt, n: 10, ...filtered });
    expect(idsOf(extremes.best).sort()).toEqual([a, b, c].sort());
    const page = await call('classPage', { labelId: shirt, order: 'best', offset: 0, limit: 10, tag: 'odd pose' });
    expect(page.total).toBe(2);
    expect(idsOf(page.items).sort()).toEqual([a, b].sort());
    const none = await call('classPage', { labelId: shirt, order: 'newest', offset: 0, limit: 10, tag: 'nothing' });
    expect(none.total).toBe(0);
  });

  it('undo and redo in the review like a decision, scoped to the class', async () => {
    const d = ids[3] as number;
    await call('tagAdd', { ids: [d], tags: ['keep'] });
    const undone = await call<{ undone: Record<string, unknown> }>('classUndo', { classId: shirt });
    expect(undone.undone).toMatchObject({ action: 'tag', count: 1, tags: ['keep'], fromLabelId: shirt });
    expect(await call('instanceDetail', { id: d })).toMatchObject({ tags: [] });
    expect((await call<{ redone: unknown }>('classRedo', { classId: shirt })).redone).toMatchObject({ action: 'tag' });
    expect(await call('instanceDetail', { id: d })).toMatchObject({ tags: ['keep'] });
    // Removing is a batch too; undoing it restores the tag.
    expect(await call('tagRemove', { ids: [d, ids[0]!], tags: ['KEEP'] })).toMatchObject({ changed: 1 });
    expect(await call('instanceDetail', { id: d })).toMatchObject({ tags: [] });
    expect((await call<{ undone: unknown }>('classUndo', { classId: shirt })).undone).toMatchObject({
      action: 'untag',
      tags: ['keep'],
    });
    expect(await call('instanceDetail', { id: d })).toMatchObject({ tags: ['keep'] });
    // A tagging that changes nothing is no batch to undo.
    expect(await call('tagAdd', { ids: [d], tags: ['keep'] })).toEqual({ batch: null, changed: 0 });
  });

  it('are refused empty, too long or over several lines, in sentences', async () => {
    await expect(call('tagAdd', { ids, tags: ['   '] })).rejects.toThrow('The tags (item 1) must not be empty');
    await expect(call('tagAdd', { ids, tags: ['x'.repeat(65)] })).rejects.toThrow(/at most 64 characters/);
    await expect(call('tagAdd', { ids, tags: ['two\nlines'] })).rejects.toThrow(/one line of text/);
    await expect(call('tagAdd', { ids: [999_999], tags: ['x'] })).rejects.toThrow(
      'There is no instance with id 999999',
    );
  });
});

describe('notes', () => {
  it('are set trimmed, replaced, cleared by empty text, and shown in the detail with their time', async () => {
    const a = ids[0] as number;
    const set = await call<{ note: { text: string; updatedAt: string } }>('noteSet', {
      id: a,
      text: ' looks like a T-shirt \n',
    });
    expect(set.note.text).toBe('looks like a T-shirt');
    expect(Date.parse(set.note.updatedAt)).not.toBeNaN();
    await call('noteSet', { id: a, text: 'sleeves too short' });
    expect(await call('instanceDetail', { id: a })).toMatchObject({ note: { text: 'sleeves too short' } });
    await call('noteSet', { id: ids[1]!, text: 'tmp' });
    expect(await call('noteSet', { id: ids[1]!, text: '  ' })).toEqual({ note: null });
    expect(await call('instanceDetail', { id: ids[1]! })).toMatchObject({ note: null });
    await expect(call('noteSet', { id: a, text: 'x'.repeat(4001) })).rejects.toThrow(/The note must be at most 4000/);
  });
});

describe('exports', () => {
  it('carry each instance’s tags and note in manifest.jsonl and manifest.csv', async () => {
    const out = join(tempDir(), 'export');
    await exportDataset(project, out, { status: 'accepted', formats: ['jsonl', 'csv'] });
    const jsonl = readFileSync(join(out, 'manifest.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; tags: string[]; note: string | null });
    const [a, , , d] = ids as [number, number, number, number];
    expect(jsonl.find((r) => r.id === a)).toMatchObject({ tags: ['blurry', 'odd pose'], note: 'sleeves too short' });
    expect(jsonl.find((r) => r.id === d)).toMatchObject({ tags: ['keep'], note: null });
    const csv = parse(readFileSync(join(out, 'manifest.csv')), { columns: true }) as Record<string, string>[];
    const row = csv.find((r) => Number(r.id) === a);
    expect(JSON.parse(row?.tags ?? '')).toEqual(['blurry', 'odd pose']);
    expect(row?.note).toBe('sleeves too short');
  });
});

describe('saved views', () => {
  const view = { order: 'worst', kind: 'quality', status: 'accepted', tag: 'blurry', minScore: 0.5 };

  it('are saved, replaced by name without case, listed after reopening the project, and deleted', async () => {
    const saved = await call<{ id: number; name: string }>('viewSave', { name: ' Blurry ones ', view });
    expect(saved).toMatchObject({ name: 'Blurry ones', view });
    const replaced = await call<{ id: number }>('viewSave', {
      name: 'blurry ONES',
      view: { ...view, order: 'best' },
    });
    expect(replaced.id).toBe(saved.id);
    await call('viewSave', { name: 'all', view: { order: 'newest', kind: 'contribution' } });
    const dir = project.dir;
    project.close();
    project = openProject(dir);
    const { views } = await call<{ views: { id: number; name: string; view: object }[] }>('viewList', {});
    expect(views.map((v) => [v.name, v.view])).toEqual([
      ['all', { order: 'newest', kind: 'contribution' }],
      ['Blurry ones', { ...view, order: 'best' }],
    ]);
    await call('viewDelete', { id: saved.id });
    expect(((await call('viewList', {})).views as unknown[]).length).toBe(1);
    await expect(call('viewDelete', { id: saved.id })).rejects.toThrow(`There is no saved view with id ${saved.id}`);
    await expect(call('viewSave', { name: 'x', view: { ...view, kind: 'nope' } })).rejects.toThrow(
      /The view's score kind must be/,
    );
  });

  it('select the instances of every class the map highlights, with their scores of the view’s kind', async () => {
    const matching = await call<{ ids: number[]; scores: (number | null)[] }>('viewInstances', {
      kind: 'quality',
      tag: 'blurry',
      minScore: 1,
    });
    // Quality k for the k-th instance: a (0) is below the minimum; b, c and the coat pass.
    const [, b, c] = ids as [number, number, number];
    expect(matching).toEqual({ ids: [b, c, coatId], scores: [1, 2, 4] });
    const all = await call<{ ids: number[]; scores: (number | null)[] }>('viewInstances', { kind: 'contribution' });
    expect(all.ids).toEqual([...ids, coatId]);
    expect(all.scores).toEqual([null, null, null, null, null]);
  });
});
