import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { addClass, findClass, getClass, listClasses, updateClass } from '../../src/main/store/classes.ts';
import {
  actionHistory,
  curate,
  latestVerdicts,
  recordVerdict,
  undoLastAction,
  undoLastVerdict,
} from '../../src/main/store/curation.ts';
import type { Db } from '../../src/main/store/database.ts';
import { listExports, recordExport } from '../../src/main/store/exports.ts';
import { recordImage } from '../../src/main/store/images.ts';
import {
  effectiveStatus,
  getInstance,
  insertInstance,
  instancesOfRun,
  type ClassPage,
  listInstances,
  type NewInstance,
  pageOfClass,
  setStatus,
} from '../../src/main/store/instances.ts';
import { initProject, type Project } from '../../src/main/store/project.ts';
import { findRealSampleByHash, insertRealSample, listRealSamples } from '../../src/main/store/realSamples.ts';
import {
  createRun,
  finishRound,
  finishRun,
  getRun,
  listRounds,
  metricsOf,
  recordMetric,
  ensureRound,
} from '../../src/main/store/runs.ts';
import { latestScores, recordScores, scoreHistory } from '../../src/main/store/scores.ts';
import { getSetting, setSetting } from '../../src/main/store/settings.ts';
import { tempDir } from '../helpers/fixtures.ts';

let project: Project;
let db: Db;

beforeEach(() => {
  project = initProject(join(tempDir(), 'p'));
  db = project.db;
  return () => project.close();
});

function hash(n: number): string {
  return n.toString(16).padStart(64, '0');
}

function newInstance(n: number, classId: number): NewInstance {
  recordImage(db, { hash: hash(n), width: 28, height: 28, channels: 1, bytes: 100 });
  return {
    imageHash: hash(n),
    classId,
    labelId: classId,
    source: 'generated',
    sourcePath: null,
    prompt: 'a photo of a shirt',
    negativePrompt: '',
    seed: n,
    epsilon: 0.5,
    perturbation: JSON.stringify({ directionSeed: n }),
    generatorId: 'test-generator',
    genParams: JSON.stringify({ guidance: 3, steps: 20 }),
    runId: null,
    roundIndex: null,
  };
}

describe('settings', () => {
  it('round-trip JSON values and overwrite', () => {
    setSetting(db, 'budget', { perRound: 100 });
    setSetting(db, 'budget', { perRound: 200 });
    expect(getSetting(db, 'budget')).toEqual({ perRound: 200 });
    expect(getSetting(db, 'missing')).toBeUndefined();
  });
});

describe('classes', () => {
  it('are added, found case-insensitively, listed and updated', () => {
    const shirt = addClass(db, { name: 'shirt', disambiguation: 'shirt, a garment with buttons' });
    addClass(db, { name: 'coat', promptTemplates: ['a realistic photo of a {label}'] });
    expect(findClass(db, 'SHIRT')?.id).toBe(shirt.id);
    expect(listClasses(db).map((c) => c.name)).toEqual(['shirt', 'coat']);
    const updated = updateClass(db, shirt.id, { negativePrompt: 'bunny', budgetWeight: 2 });
    expect(updated).toMatchObject({
      name: 'shirt',
      negativePrompt: 'bunny',
      budgetWeight: 2,
      disambiguation: 'shirt, a garment with buttons',
    });
    expect(updated.promptTemplates).toEqual(['a photo of a {label}']);
  });

  it("keep a class's own guidance scale (none by default), leave it when a change names none and clear it with null", () => {
    const shirt = addClass(db, { name: 'shirt' });
    expect(shirt.guidanceScale).toBeNull();
    expect(updateClass(db, shirt.id, { guidanceScale: 4 }).guidanceScale).toBe(4);
    expect(updateClass(db, shirt.id, { budgetWeight: 0.5 })).toMatchObject({ guidanceScale: 4, budgetWeight: 0.5 });
    expect(getClass(db, shirt.id).guidanceScale).toBe(4);
    expect(updateClass(db, shirt.id, { guidanceScale: null }).guidanceScale).toBeNull();
    // The schema refuses a scale below 1 (no guidance at all), whoever writes it.
    expect(() => updateClass(db, shirt.id, { guidanceScale: 0.5 })).toThrow(/CHECK/);
    expect(addClass(db, { name: 'coat', guidanceScale: 7 }).guidanceScale).toBe(7);
  });

  it('reject duplicates and names that cannot be folder names', () => {
    addClass(db, { name: 'bun' });
    expect(() => addClass(db, { name: 'Bun' })).toThrow(/already exists/);
    for (const bad of ['', 'a/b', '..', ' bun', 'c:d']) expect(() => addClass(db, { name: bad })).toThrow(/Class name/);
    expect(() => getClass(db, 999)).toThrow(/no class with id 999/);
  });
});

describe('real samples', () => {
  it('are stored per split and found by hash; the same image twice is refused by the schema', () => {
    const c = addClass(db, { name: 'bag' });
    recordImage(db, { hash: hash(1), width: 28, height: 28, channels: 1, bytes: 1 });
    recordImage(db, { hash: hash(1), width: 28, height: 28, channels: 1, bytes: 1 }); // idempotent
    insertRealSample(db, { imageHash: hash(1), classId: c.id, split: 'val', sourcePath: '/x/1.png' });
    expect(findRealSampleByHash(db, hash(1))).toMatchObject({ classId: c.id, split: 'val' });
    expect(listRealSamples(db, 'val')).toHaveLength(1);
    expect(listRealSamples(db, 'train')).toHaveLength(0);
    expect(() => insertRealSample(db, { imageHash: hash(1), classId: c.id, split: 'train', sourcePath: null })).toThrow(
      /UNIQUE/,
    );
    expect(() => insertRealSample(db, { imageHash: hash(2), classId: c.id, split: 'train', sourcePath: null })).toThrow(
      /FOREIGN KEY/,
    );
  });
});

describe('instances and scores', () => {
  it('keep every score in history and the latest contribution on the row', () => {
    const c = addClass(db, { name: 'shirt' });
    const id = insertInstance(db, newInstance(1, c.id));
    expect(getInstance(db, id)).toMatchObject({
      status: 'pending',
      override: null,
      contribution: null,
      seed: 1,
      epsilon: 0.5,
    });
    recordScores(db, [
      { instanceId: id, kind: 'contribution', value: 0.2, runId: null, roundIndex: 0 },
      { instanceId: id, kind: 'self_confidence', value: 0.9, runId: null, roundIndex: 0 },
    ]);
    recordScores(db, [{ instanceId: id, kind: 'contribution', value: -0.3, runId: null, roundIndex: 1 }]);
    expect(getInstance(db, id)?.contribution).toBe(-0.3);
    expect(scoreHistory(db, id).map((s) => [s.kind, s.value, s.roundIndex])).toEqual([
      ['contribution', 0.2, 0],
      ['self_confidence', 0.9, 0],
      ['contribution', -0.3, 1],
    ]);
    expect(latestScores(db).get(id)).toEqual({ contribution: -0.3, self_confidence: 0.9 });
    expect(() =>
      recordScores(db, [{ instanceId: id, kind: 'Bad Kind', value: 1, runId: null, roundIndex: null }]),
    ).toThrow(/not a valid score kind/);
    expect(() =>
      recordScores(db, [
        { instanceId: id, kind: 'contribution', value: 0.7, runId: null, roundIndex: 2 },
        { instanceId: id, kind: 'contribution', value: NaN, runId: null, roundIndex: 2 },
      ]),
    ).toThrow(/not a finite number/);
    // A refused batch writes nothing, not even its good scores.
    expect(scoreHistory(db, id)).toHaveLength(3);
    expect(latestScores(db).get(id)).toEqual({ contribution: -0.3, self_confidence: 0.9 });
    expect(getInstance(db, id)?.contribution).toBe(-0.3);
  });

  it('filter by effective status: the curator override wins over the automatic status', () => {
    const c = addClass(db, { name: 'shirt' });
    const a = insertInstance(db, newInstance(1, c.id));
    const b = insertInstance(db, newInstance(2, c.id));
    setStatus(db, a, 'accepted');
    setStatus(db, b, 'accepted');
    curate(db, { instanceIds: [b], action: 'reject' });
    expect(listInstances(db, { status: 'accepted' }).map((i) => i.id)).toEqual([a]);
    expect(listInstances(db, { status: 'rejected' }).map((i) => i.id)).toEqual([b]);
    const row = getInstance(db, b);
    expect(row && effectiveStatus(row)).toBe('rejected');
    expect(row?.status).toBe('accepted');
  });
});

describe('instances of a run', () => {
  it('lists what a run made, in id order, all rounds or one', () => {
    const c = addClass(db, { name: 'shirt' });
    const run = createRun(db, 'loop', { rounds: 2 });
    const other = createRun(db, 'generate', {});
    const made = (n: number, runId: number, roundIndex: number) =>
      insertInstance(db, { ...newInstance(n, c.id), runId, roundIndex });
    const a = made(1, run, 0);
    made(2, other, 0);
    const b = made(3, run, 1);
    const d = made(4, run, 0);
    insertInstance(db, newInstance(5, c.id));
    expect(instancesOfRun(db, run).map((i) => i.id)).toEqual([a, b, d]);
    expect(instancesOfRun(db, run, 0).map((i) => i.id)).toEqual([a, d]);
    expect(instancesOfRun(db, run, 1).map((i) => i.id)).toEqual([b]);
    expect(instancesOfRun(db, run, 2)).toEqual([]);
  });
});

describe('review pages', () => {
  it('page a class by any score kind, unscored last, with a status filter and a total', () => {
    const c = addClass(db, { name: 'shirt' });
    const ids = [1, 2, 3, 4].map((n) => insertInstance(db, newInstance(n, c.id)));
    recordScores(db, [
      { instanceId: ids[0]!, kind: 'contribution', value: 0.1, runId: null, roundIndex: 0 },
      { instanceId: ids[1]!, kind: 'contribution', value: 0.5, runId: null, roundIndex: 0 },
      { instanceId: ids[2]!, kind: 'contribution', value: -0.3, runId: null, roundIndex: 0 },
      { instanceId: ids[0]!, kind: 'self_confidence', value: 0.9, runId: null, roundIndex: 0 },
      { instanceId: ids[1]!, kind: 'self_confidence', value: 0.2, runId: null, roundIndex: 0 },
      { instanceId: ids[1]!, kind: 'self_confidence', value: 0.95, runId: null, roundIndex: 1 },
    ]);
    const order = (page: Omit<ClassPage, 'labelId' | 'offset' | 'limit'>, offset = 0, limit = 10) =>
      pageOfClass(db, { labelId: c.id, offset, limit, ...page }).items.map((i) => i.id);
    expect(order({ order: 'best', kind: 'contribution' })).toEqual([ids[1], ids[0], ids[2], ids[3]]);
    expect(order({ order: 'worst', kind: 'contribution' })).toEqual([ids[2], ids[0], ids[1], ids[3]]);
    // The latest self-confidence of ids[1] (0.95), not its first (0.2), orders it.
    expect(order({ order: 'best', kind: 'self_confidence' })).toEqual([ids[1], ids[0], ids[2], ids[3]]);
    expect(order({ order: 'worst', kind: 'self_confidence' }, 1, 1)).toEqual([ids[1]]);
    // Pages across the end of the scored instances go on with the unscored ones, by id.
    expect(order({ order: 'best', kind: 'self_confidence' }, 1, 2)).toEqual([ids[0], ids[2]]);
    expect(order({ order: 'best', kind: 'self_confidence' }, 3, 2)).toEqual([ids[3]]);
    expect(order({ order: 'best', kind: 'self_confidence' }, 4, 2)).toEqual([]);
    setStatus(db, ids[0]!, 'accepted');
    expect(
      pageOfClass(db, { labelId: c.id, order: 'newest', kind: 'quality', status: 'accepted', offset: 0, limit: 10 }),
    ).toMatchObject({ total: 1 });
  });

  it('show each instance with its latest score of the kind, and filter by it, by status and by round', () => {
    const c = addClass(db, { name: 'shirt' });
    const other = addClass(db, { name: 'coat' });
    const ids = [1, 2, 3, 4, 5].map((n) =>
      insertInstance(db, { ...newInstance(n, c.id), runId: null, roundIndex: n % 2 }),
    );
    insertInstance(db, newInstance(6, other.id));
    const quality = [-1, -2, -0.5, -3];
    recordScores(
      db,
      quality.map((value, k) => ({ instanceId: ids[k]!, kind: 'quality', value, runId: null, roundIndex: 0 })),
    );
    recordScores(db, [{ instanceId: ids[3]!, kind: 'quality', value: -0.1, runId: null, roundIndex: 1 }]);
    setStatus(db, ids[2]!, 'accepted');
    setStatus(db, ids[4]!, 'accepted');
    const page = (p: Partial<ClassPage>) =>
      pageOfClass(db, { labelId: c.id, kind: 'quality', order: 'best', offset: 0, limit: 10, ...p });
    const shown = (p: Partial<ClassPage>) => page(p).items.map((i) => [i.id, i.score]);
    expect(page({})).toMatchObject({ total: 5 });
    expect(shown({})).toEqual([
      [ids[3], -0.1],
      [ids[2], -0.5],
      [ids[0], -1],
      [ids[1], -2],
      [ids[4], null],
    ]);
    expect(shown({ order: 'newest' })).toEqual([
      [ids[4], null],
      [ids[3], -0.1],
      [ids[2], -0.5],
      [ids[1], -2],
      [ids[0], -1],
    ]);
    // A score range leaves out the unscored, in every order, and counts only what it keeps.
    expect(page({ minScore: -1, maxScore: -0.2 })).toMatchObject({ total: 2 });
    expect(shown({ minScore: -1, maxScore: -0.2, order: 'worst' })).toEqual([
      [ids[0], -1],
      [ids[2], -0.5],
    ]);
    expect(shown({ minScore: -1, order: 'newest' }).map(([id]) => id)).toEqual([ids[3], ids[2], ids[0]]);
    expect(shown({ maxScore: -1, order: 'newest' }).map(([id]) => id)).toEqual([ids[1], ids[0]]);
    // Filters on the instance apply to the scored and the unscored alike.
    expect(page({ status: 'accepted' })).toMatchObject({ total: 2 });
    expect(shown({ status: 'accepted' })).toEqual([
      [ids[2], -0.5],
      [ids[4], null],
    ]);
    expect(shown({ status: 'accepted', offset: 1 })).toEqual([[ids[4], null]]);
    expect(shown({ roundIndex: 1, order: 'worst' }).map(([id]) => id)).toEqual([ids[0], ids[2], ids[4]]);
    expect(shown({ promptContains: 'SHIRT', limit: 1 }).map(([id]) => id)).toEqual([ids[3]]);
    expect(shown({ promptContains: '100%' })).toEqual([]);
    expect(shown({ generatorId: 'test-generator', maxScore: -1.5 })).toEqual([[ids[1], -2]]);
    expect(shown({ generatorId: 'other' })).toEqual([]);
  });

  it('follow a relabel and its undo: an instance is ranked in the class it is labelled as', () => {
    const shirt = addClass(db, { name: 'shirt' });
    const coat = addClass(db, { name: 'coat' });
    const [a, b] = [1, 2].map((n) => insertInstance(db, newInstance(n, shirt.id))) as [number, number];
    recordScores(db, [
      { instanceId: a, kind: 'quality', value: -1, runId: null, roundIndex: 0 },
      { instanceId: b, kind: 'quality', value: -2, runId: null, roundIndex: 0 },
    ]);
    const best = (labelId: number) =>
      pageOfClass(db, { labelId, kind: 'quality', order: 'best', offset: 0, limit: 10 }).items.map((i) => i.id);
    curate(db, { instanceIds: [a], action: 'relabel', labelId: coat.id });
    expect([best(shirt.id), best(coat.id)]).toEqual([[b], [a]]);
    // A score recorded after the relabel is ranked in the new class too.
    recordScores(db, [{ instanceId: a, kind: 'contribution', value: 0.3, runId: null, roundIndex: 1 }]);
    expect(
      pageOfClass(db, { labelId: coat.id, kind: 'contribution', order: 'best', offset: 0, limit: 10 }).items,
    ).toMatchObject([{ id: a, score: 0.3 }]);
    undoLastAction(db);
    expect([best(shirt.id), best(coat.id)]).toEqual([[a, b], []]);
    expect(
      pageOfClass(db, { labelId: shirt.id, kind: 'contribution', order: 'best', offset: 0, limit: 10 }).items,
    ).toMatchObject([
      { id: a, score: 0.3 },
      { id: b, score: null },
    ]);
  });
});

describe('curator actions', () => {
  it('apply to many instances as one batch that one undo reverts', () => {
    const shirt = addClass(db, { name: 'shirt' });
    const coat = addClass(db, { name: 'coat' });
    const ids = [1, 2, 3].map((n) => insertInstance(db, newInstance(n, shirt.id)));
    curate(db, { instanceIds: [ids[0] as number], action: 'accept' });
    curate(db, { instanceIds: ids, action: 'relabel', labelId: coat.id });
    expect(ids.map((id) => getInstance(db, id)?.labelId)).toEqual([coat.id, coat.id, coat.id]);
    undoLastAction(db);
    expect(ids.map((id) => getInstance(db, id)?.labelId)).toEqual([shirt.id, shirt.id, shirt.id]);
    expect(getInstance(db, ids[0] as number)?.override).toBe('accepted');
    undoLastAction(db);
    expect(getInstance(db, ids[0] as number)?.override).toBeNull();
    expect(undoLastAction(db)).toBeUndefined();
    const history = actionHistory(db, ids[0] as number);
    expect(history.map((h) => h.action)).toEqual(['accept', 'relabel']);
    expect(history.every((h) => h.undoneAt !== null)).toBe(true);
  });

  it('fail as a whole when one instance is missing', () => {
    const c = addClass(db, { name: 'shirt' });
    const id = insertInstance(db, newInstance(1, c.id));
    expect(() => curate(db, { instanceIds: [id, 999], action: 'reject' })).toThrow(/no instance with id 999/);
    expect(getInstance(db, id)?.override).toBeNull();
    expect(() => curate(db, { instanceIds: [id], action: 'relabel' })).toThrow(/needs the new class/);
  });

  it('audit verdicts: the latest standing verdict counts, undo restores the one before', () => {
    const c = addClass(db, { name: 'shirt' });
    const id = insertInstance(db, newInstance(1, c.id));
    recordVerdict(db, id, 'correct');
    recordVerdict(db, id, 'incorrect');
    expect(latestVerdicts(db).get(id)).toMatchObject({ verdict: 'incorrect', labelId: c.id });
    undoLastVerdict(db);
    expect(latestVerdicts(db).get(id)).toMatchObject({ verdict: 'correct', labelId: c.id });
    undoLastVerdict(db);
    expect(latestVerdicts(db).has(id)).toBe(false);
  });
});

describe('runs, rounds and metrics', () => {
  it('record a run with per-round stages and metrics', () => {
    const run = createRun(db, 'loop', { rounds: 2 }, { generator: 'g', encoder: 'e' });
    ensureRound(db, run, 0, { perClass: { shirt: 10 } });
    recordMetric(db, run, 0, 'val_accuracy', 0.7);
    recordMetric(db, run, 0, 'val_accuracy', 0.72);
    finishRound(db, run, 0);
    ensureRound(db, run, 0, { ignored: true }); // a resumed run starts the same round again
    expect(listRounds(db, run)).toHaveLength(1);
    finishRun(db, run, 'done');
    expect(getRun(db, run)).toMatchObject({ kind: 'loop', status: 'done' });
    expect(listRounds(db, run).map((r) => r.stage)).toEqual(['done']);
    expect(metricsOf(db, run)).toEqual([{ roundIndex: 0, name: 'val_accuracy', value: 0.72 }]);
  });

  it('record exports', () => {
    recordExport(db, {
      destination: '/tmp/out',
      formats: ['csv'],
      filter: { status: 'accepted' },
      counts: { instances: 3 },
    });
    expect(listExports(db)).toMatchObject([{ destination: '/tmp/out', formats: ['csv'], counts: { instances: 3 } }]);
  });
});
