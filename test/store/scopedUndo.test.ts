import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { addClass } from '../../src/main/store/classes.ts';
import { curate, redoLastUndoneInClass, undoLastActionInClass } from '../../src/main/store/curation.ts';
import type { Db } from '../../src/main/store/database.ts';
import { getInstance } from '../../src/main/store/instances.ts';
import { initProject, type Project } from '../../src/main/store/project.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { addInstance } from '../helpers/scoredProject.ts';

// The review screen's undo and redo act on the class it shows: the latest batch touching it.
let project: Project;
let db: Db;
let shirt: number;
let coat: number;

beforeEach(() => {
  project = initProject(join(tempDir(), 'p'));
  db = project.db;
  shirt = addClass(db, { name: 'shirt' }).id;
  coat = addClass(db, { name: 'coat' }).id;
  return () => project.close();
});

const instances = (classId: number, count: number): number[] =>
  Array.from({ length: count }, () => addInstance(db, classId));
const state = (id: number) => {
  const i = getInstance(db, id);
  return { override: i?.override, labelId: i?.labelId };
};

describe('undo and redo scoped to a class', () => {
  it("undoes the class's latest batch, not a later one on another class, and says what it was", () => {
    const shirts = instances(shirt, 3);
    const [c] = instances(coat, 1) as [number];
    curate(db, { instanceIds: shirts, action: 'accept' });
    curate(db, { instanceIds: [c], action: 'reject' });
    expect(undoLastActionInClass(db, shirt)).toMatchObject({
      action: 'accept',
      count: 3,
      fromLabelId: shirt,
      toLabelId: shirt,
    });
    expect(shirts.map((id) => state(id).override)).toEqual([null, null, null]);
    expect(state(c).override).toBe('rejected');
    expect(undoLastActionInClass(db, shirt)).toBeUndefined();
    // Redo re-applies it; the next undo finds it again.
    expect(redoLastUndoneInClass(db, shirt)).toMatchObject({ action: 'accept', count: 3 });
    expect(shirts.map((id) => state(id).override)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(redoLastUndoneInClass(db, shirt)).toBeUndefined();
    expect(undoLastActionInClass(db, shirt)?.action).toBe('accept');
  });

  it('records an instance named twice in one action once, and its undo restores it', () => {
    // "Select all" pages through a listing; a re-score between pages can repeat an id.
    const [a, b] = instances(shirt, 2) as [number, number];
    curate(db, { instanceIds: [a, b, a], action: 'accept' });
    expect(undoLastActionInClass(db, shirt)).toMatchObject({ action: 'accept', count: 2 });
    expect([state(a).override, state(b).override]).toEqual([null, null]);
    expect(redoLastUndoneInClass(db, shirt)).toMatchObject({ action: 'accept', count: 2 });
    expect([state(a).override, state(b).override]).toEqual(['accepted', 'accepted']);
  });

  it('records no step for an action that changes nothing, so one undo takes back the change', () => {
    const [a] = instances(shirt, 1) as [number];
    curate(db, { instanceIds: [a], action: 'reject' });
    curate(db, { instanceIds: [a], action: 'accept' });
    curate(db, { instanceIds: [a], action: 'accept' }); // pressed twice
    expect(undoLastActionInClass(db, shirt)).toMatchObject({ action: 'accept', count: 1 });
    expect(state(a).override).toBe('rejected');
  });

  it('a relabel touches both classes; redo goes back through several undos in order', () => {
    const [a, b] = instances(shirt, 2) as [number, number];
    curate(db, { instanceIds: [a], action: 'reject' });
    curate(db, { instanceIds: [a, b], action: 'relabel', labelId: coat });
    // Seen from the coat screen, the relabel is the latest action touching coats.
    expect(undoLastActionInClass(db, coat)).toMatchObject({ action: 'relabel', fromLabelId: shirt, toLabelId: coat });
    expect([state(a), state(b)]).toEqual([
      { override: 'rejected', labelId: shirt },
      { override: null, labelId: shirt },
    ]);
    expect(undoLastActionInClass(db, shirt)?.action).toBe('reject');
    expect(state(a).override).toBeNull();
    expect(redoLastUndoneInClass(db, shirt)?.action).toBe('reject');
    expect(redoLastUndoneInClass(db, shirt)?.action).toBe('relabel');
    expect([state(a), state(b)]).toEqual([
      { override: 'rejected', labelId: coat },
      { override: null, labelId: coat },
    ]);
  });

  it('a new action in the class ends the redo history', async () => {
    const [a, b] = instances(shirt, 2) as [number, number];
    curate(db, { instanceIds: [a], action: 'accept' });
    undoLastActionInClass(db, shirt);
    await new Promise((done) => setTimeout(done, 5)); // a later timestamp than the undo
    curate(db, { instanceIds: [b], action: 'reject' });
    expect(redoLastUndoneInClass(db, shirt)).toBeUndefined();
    expect(state(a).override).toBeNull();
  });

  it('refuses to undo a batch whose instances a later action on another class changed', () => {
    const [a] = instances(shirt, 1) as [number];
    curate(db, { instanceIds: [a], action: 'relabel', labelId: coat });
    curate(db, { instanceIds: [a], action: 'accept' }); // on the coat screen
    // The shirt screen's latest batch is the relabel; undoing it alone would drop the accept.
    expect(() => undoLastActionInClass(db, shirt)).toThrow(/changed by a later action/);
    expect(state(a)).toEqual({ override: 'accepted', labelId: coat });
    expect(undoLastActionInClass(db, coat)?.action).toBe('accept');
    expect(undoLastActionInClass(db, shirt)?.action).toBe('relabel');
    expect(state(a)).toEqual({ override: null, labelId: shirt });
  });
});
