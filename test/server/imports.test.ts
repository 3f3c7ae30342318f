import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportState } from '../../src/shared/api.ts';
import type { Method } from '../../src/shared/methods.ts';
import { ACQUISITIONS, LOOP_FILTERS } from '../../src/shared/scoreKinds.ts';
import { createEngine, dispatch, type Engine } from '../../src/main/service/winnowService.ts';
import { initProject, type Project } from '../../src/main/store/project.ts';
import { summarize } from '../../src/main/store/summary.ts';
import { makeImageFolder, tempDir } from '../helpers/fixtures.ts';

// Classes and imports through the API as a transport calls it (validated by `dispatch`), on a new
// project: an import is a job whose progress and report `importState` gives, and while it goes,
// neither another import nor a run starts.
let project: Project;
let engine: Engine;
let folder: string;
const call = <M extends Method>(method: M, request: unknown) => dispatch(engine.api, method, request);

beforeAll(async () => {
  process.env.WINNOW_HOME = join(tempDir(), 'home');
  project = initProject(join(tempDir(), 'p'));
  engine = createEngine(project);
  folder = join(tempDir(), 'real');
  await makeImageFolder(folder, { shirt: 30, coat: 10 });
});
afterAll(() => project.close());

/** Asks how the import goes until it ends; every state seen. */
async function follow(): Promise<ImportState[]> {
  const seen: ImportState[] = [];
  for (;;) {
    const state = await call('importState', {});
    seen.push(structuredClone(state));
    if (state.state !== 'running') return seen;
    await new Promise((wait) => setTimeout(wait, 2));
  }
}

describe('classes and imports over the API', () => {
  it('creates and renames classes, refusing a name in use and an unknown class', async () => {
    const shirt = await call('classAdd', { name: 'shirt' });
    const coat = await call('classAdd', { name: 'cot' });
    expect(await call('classRename', { id: coat.id, name: 'coat' })).toMatchObject({ id: coat.id, name: 'coat' });
    await expect(call('classRename', { id: shirt.id, name: 'coat' })).rejects.toThrow('Class "coat" already exists.');
    await expect(call('classRename', { id: 99, name: 'dress' })).rejects.toThrow('There is no class with id 99.');
    await expect(call('classAdd', { name: '' })).rejects.toThrow('The class name must not be empty.');
  });

  it('imports real images into a split as a job, with progress and what each class gained', async () => {
    expect(await call('importStart', { kind: 'real', folder, split: 'val' })).toEqual({ started: true });
    // While it goes, neither another import nor a run starts.
    await expect(call('importStart', { kind: 'real', folder })).rejects.toThrow(`An import of ${folder} is going.`);
    await expect(
      call('runStart', {
        rounds: 1,
        perRound: 1,
        filter: LOOP_FILTERS[0],
        acquisition: ACQUISITIONS[0],
        scoring: 'online',
        epsilon: 0,
      }),
    ).rejects.toThrow('An import is going in this project.');
    const seen = await follow();
    const progress = seen.filter((s) => s.state === 'running' && s.total !== null);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((s) => s.state === 'running' && s.total === 40 && s.done <= 40)).toBe(true);
    expect(seen.at(-1)).toEqual({
      state: 'done',
      job: { kind: 'real', folder, split: 'val' },
      report: {
        imported: 40,
        classesCreated: [],
        perClass: [
          { name: 'shirt', added: 30 },
          { name: 'coat', added: 10 },
        ],
        skipped: [],
        skippedCount: 0,
        runId: null,
      },
    });
    expect(summarize(project.db).classes.map((c) => [c.name, c.real.val, c.real.train])).toEqual([
      ['shirt', 30, 0],
      ['coat', 10, 0],
    ]);
  });

  it('the same folder again adds nothing and says why; synthetic images take no split', async () => {
    await call('importStart', { kind: 'real', folder, split: 'train' });
    const last = (await follow()).at(-1)!;
    expect(last.state === 'done' && [last.report.imported, last.report.skippedCount, last.report.perClass]).toEqual([
      0,
      40,
      [],
    ]);
    await expect(call('importStart', { kind: 'synthetic', folder, split: 'train' })).rejects.toThrow(
      'A split is for real images only.',
    );
  });
});
