import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { generateInstances } from '../../src/main/pipeline/generate.ts';
import { startLoop } from '../../src/main/pipeline/loop.ts';
import { findClass, updateClass } from '../../src/main/store/classes.ts';
import { getInstance, listInstances } from '../../src/main/store/instances.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { QUICK_LOOP, tinyLoopModelsForThisFile } from '../helpers/tinyLoopModels.ts';

// A class's own guidance scale and budget weight (what the remedies set) reach generation: the
// generator's calls and the images' provenance, and the loop's plan of a round.
const models = tinyLoopModelsForThisFile();

describe("a class's guidance scale", () => {
  it('is what `generate` samples with, unless the request names a scale', async () => {
    const project = await createDemoProject(join(tempDir(), 'demo'));
    const shirt = findClass(project.db, 'shirt')!;
    const generate = vi.spyOn(models.generator, 'generate');
    try {
      const asDefault = await generateInstances(project, models.generator, { className: 'shirt', count: 2, seed: 1 });
      updateClass(project.db, shirt.id, { guidanceScale: 6 });
      const own = await generateInstances(project, models.generator, { className: 'shirt', count: 2, seed: 1 });
      const asked = await generateInstances(project, models.generator, {
        className: 'shirt',
        count: 2,
        seed: 1,
        guidanceScale: 3,
      });
      expect(generate.mock.calls.map((call) => call[1].guidanceScale)).toEqual([
        models.generator.defaults.guidanceScale,
        6,
        3,
      ]);
      const guidanceOf = (ids: readonly number[]) =>
        ids.map(
          (id) => (JSON.parse(getInstance(project.db, id)!.genParams) as { guidanceScale: number }).guidanceScale,
        );
      expect(guidanceOf(asDefault.instanceIds)).toEqual(Array(2).fill(models.generator.defaults.guidanceScale));
      expect(guidanceOf(own.instanceIds)).toEqual([6, 6]);
      expect(guidanceOf(asked.instanceIds)).toEqual([3, 3]);
      // Cleared, the class samples with the generator's default again.
      expect(updateClass(project.db, shirt.id, { guidanceScale: null }).guidanceScale).toBeNull();
    } finally {
      generate.mockRestore();
      project.close();
    }
  });
});

describe('the loop', () => {
  it("plans a round by each class's budget weight and samples each class with its guidance", async () => {
    const project = await createDemoProject(join(tempDir(), 'demo'));
    const { db } = project;
    updateClass(db, findClass(db, 'shirt')!.id, { budgetWeight: 0 });
    updateClass(db, findClass(db, 't-shirt')!.id, { guidanceScale: 6 });
    await startLoop(project, models, { ...QUICK_LOOP, seed: 5 });
    const made = listInstances(db);
    const of = (name: string) => made.filter((i) => i.classId === findClass(db, name)!.id);
    expect(made).toHaveLength(20);
    // Every other class keeps a floor share, so weight 0 is what leaves shirt out.
    expect(of('shirt')).toHaveLength(0);
    expect(of('coat').length).toBeGreaterThan(0);
    const guidance = (name: string) =>
      new Set(of(name).map((i) => (JSON.parse(i.genParams) as { guidanceScale: number }).guidanceScale));
    expect(guidance('t-shirt')).toEqual(new Set([6]));
    expect(guidance('coat')).toEqual(new Set([models.generator.defaults.guidanceScale]));
    project.close();
  });
});
