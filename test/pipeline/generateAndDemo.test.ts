import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedGenerator } from '../../src/main/models/embeddedGenerator.ts';
import { createDemoProject, currentOrDemoProjectDir } from '../../src/main/pipeline/demo.ts';
import { generateInstances } from '../../src/main/pipeline/generate.ts';
import { findClass, updateClass } from '../../src/main/store/classes.ts';
import { getInstance, listInstances } from '../../src/main/store/instances.ts';
import type { Project } from '../../src/main/store/project.ts';
import { getRun } from '../../src/main/store/runs.ts';
import { summarize } from '../../src/main/store/summary.ts';
import { resolveProjectDir } from '../../src/main/workspace.ts';
import { tempDir } from '../helpers/fixtures.ts';

let project: Project;
let generator: EmbeddedGenerator;

beforeAll(async () => {
  project = await createDemoProject(join(tempDir(), 'demo'));
  generator = await EmbeddedGenerator.load(resolve(import.meta.dirname, '../fixtures/tiny-ddpm'));
});
afterAll(async () => {
  project.close();
  await generator.dispose();
});

describe('demo project', () => {
  it('holds the embedded Fashion-MNIST subset: 10 classes, 20 train, 100 validation and 100 test images each', () => {
    const summary = summarize(project.db);
    expect(summary.classes.map((c) => c.name)).toEqual([
      't-shirt',
      'trouser',
      'pullover',
      'dress',
      'coat',
      'sandal',
      'shirt',
      'sneaker',
      'bag',
      'ankle boot',
    ]);
    for (const c of summary.classes) expect(c.real).toEqual({ train: 20, val: 100, test: 100 });
  });

  it('is what the app opens on first start, and the current project after that', async () => {
    const env = { WINNOW_HOME: join(tempDir(), 'home') };
    const dir = await currentOrDemoProjectDir(env);
    expect(dir).toBe(join(env.WINNOW_HOME, 'demo'));
    expect(resolveProjectDir(undefined, env, tempDir())).toBe(dir);
    expect(await currentOrDemoProjectDir(env)).toBe(dir);
  });
});

/** The seeds of the instances generated for a class, in order. */
function summarizeSeeds(p: Project, className: string): number[] {
  const cls = findClass(p.db, className)!;
  return listInstances(p.db, { labelId: cls.id })
    .map((i) => i.seed ?? -1)
    .sort((a, b) => a - b);
}

describe('generate', () => {
  it('stores each image with its pseudo-label, prompt, seed, ε and generator, and records the run', async () => {
    const progress: number[] = [];
    const result = await generateInstances(
      project,
      generator,
      { className: 'shirt', count: 5, steps: 3, guidanceScale: 2, seed: 100, epsilon: 0.5, batchSize: 2 },
      { onProgress: (done, total) => progress.push(done / total) },
    );
    expect(result.instanceIds).toHaveLength(5);
    expect(progress.at(-1)).toBe(1);
    const shirt = findClass(project.db, 'shirt');
    const first = getInstance(project.db, result.instanceIds[0] as number);
    expect(first).toMatchObject({
      classId: shirt?.id,
      labelId: shirt?.id,
      source: 'generated',
      prompt: 'a photo of a shirt',
      seed: 100,
      epsilon: 0.5,
      generatorId: generator.id,
      status: 'pending',
      runId: result.runId,
    });
    expect(JSON.parse(first?.genParams ?? '{}')).toEqual({
      guidanceScale: 2,
      steps: 3,
      sampler: 'ddim',
      eta: 0,
      timestepSpacing: 'trailing',
      predictionType: 'epsilon',
      clipSample: true,
      clippedModelOutput: true,
    });
    expect(JSON.parse(first?.perturbation ?? '{}')).toEqual({ kind: 'random-direction', directionSeed: 100 });
    expect(getInstance(project.db, result.instanceIds[4] as number)?.seed).toBe(104);
    expect(getRun(project.db, result.runId)).toMatchObject({ kind: 'generate', status: 'done' });
    const png = await sharp(project.images.pathOf(first?.imageHash ?? '')).metadata();
    expect(png).toMatchObject({ format: 'png', width: 28, height: 28, channels: 1 });
  });

  it('adds nothing twice: the same seeds and settings make the same images', async () => {
    const request = { className: 'coat', count: 2, steps: 2, guidanceScale: 2, seed: 7 };
    await generateInstances(project, generator, request);
    const again = await generateInstances(project, generator, request);
    expect(again.instanceIds).toHaveLength(0);
    expect(again.duplicates).toBe(2);
  });

  it('run again after a stop, makes only the batches not made yet; other prompts are another request', async () => {
    const request = { className: 'pullover', count: 6, steps: 2, guidanceScale: 2, seed: 300, batchSize: 2 };
    const stop = new AbortController();
    await expect(
      generateInstances(project, generator, request, {
        signal: stop.signal,
        onProgress: (done) => done >= 2 && stop.abort(),
      }),
    ).rejects.toThrow();
    const seeds = () =>
      summarizeSeeds(project, 'pullover').filter((seed) => seed >= request.seed && seed < request.seed + 6);
    const first = seeds();
    expect(first.length).toBeGreaterThanOrEqual(2);
    expect(first.length).toBeLessThan(6);
    const totals: number[] = [];
    const again = await generateInstances(project, generator, request, {
      onProgress: (_, total) => totals.push(total),
    });
    expect(totals.at(-1)).toBe(6 - first.length);
    expect(again.duplicates).toBe(first.length);
    expect(seeds()).toEqual([300, 301, 302, 303, 304, 305]);
    // With another prompt (or guidance, or ε) nothing is taken as made: every batch runs again.
    const pullover = findClass(project.db, 'pullover')!;
    updateClass(project.db, pullover.id, { promptTemplates: ['a knitted {label}'] });
    totals.length = 0;
    await generateInstances(project, generator, request, { onProgress: (_, total) => totals.push(total) });
    expect(totals.at(-1)).toBe(6);
    totals.length = 0;
    await generateInstances(
      project,
      generator,
      { ...request, guidanceScale: 3 },
      { onProgress: (_, total) => totals.push(total) },
    );
    expect(totals.at(-1)).toBe(6);
  });

  it('uses every prompt template, reports words the model does not know, and applies the negative prompt', async () => {
    const bag = findClass(project.db, 'bag');
    updateClass(project.db, bag?.id ?? 0, {
      promptTemplates: ['a photo of a {label}', 'a {label} on a bakery shelf'],
      negativePrompt: 'a dress',
    });
    const result = await generateInstances(project, generator, { className: 'bag', count: 2, steps: 2, seed: 1 });
    expect(result.instanceIds.map((id) => getInstance(project.db, id)?.prompt)).toEqual([
      'a photo of a bag',
      'a bag on a bakery shelf',
    ]);
    expect(result.unknownWords).toEqual({ 'a bag on a bakery shelf': ['on', 'bakery', 'shelf'] });
    expect(getInstance(project.db, result.instanceIds[0] as number)?.negativePrompt).toBe('a dress');
  });

  it('refuses an unknown class, naming the classes there are', async () => {
    await expect(generateInstances(project, generator, { className: 'bunny', count: 1 })).rejects.toThrow(
      /"bunny" is not a class of this project/,
    );
  });
});
