import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StableDiffusionGenerator } from '../../src/main/models/sd/stableDiffusion.ts';
import { classMeaning, classPrompt } from '../../src/main/pipeline/classPrompts.ts';
import { generateInstances } from '../../src/main/pipeline/generate.ts';
import { addClass, updateClass } from '../../src/main/store/classes.ts';
import { listInstances } from '../../src/main/store/instances.ts';
import { initProject } from '../../src/main/store/project.ts';
import { tempDir } from '../helpers/fixtures.ts';

describe('class prompts', () => {
  it('put the disambiguation into every prompt a template makes, and into the meaning CLIP compares with', () => {
    const bun = { name: 'bun', disambiguation: 'a bread roll' };
    expect(classPrompt('a realistic photo of a {label}', bun)).toBe('a realistic photo of a bun (a bread roll)');
    expect(classPrompt('a photo of a {label}', { name: 'coat', disambiguation: ' ' })).toBe('a photo of a coat');
    expect(classMeaning(bun)).toBe('a photo of bun, a bread roll');
  });

  it('generation with Stable Diffusion records the disambiguated prompt with every instance', async () => {
    const project = initProject(join(tempDir(), 'p'));
    const cls = addClass(project.db, { name: 'bun' });
    updateClass(project.db, cls.id, { disambiguation: 'a bread roll', promptTemplates: ['a photo of a {label}'] });
    const generator = await StableDiffusionGenerator.load(join(import.meta.dirname, '../fixtures/models/tiny-sd'));
    await generateInstances(project, generator, { className: 'bun', count: 2, steps: 2, seed: 1 });
    await generator.dispose();
    expect(listInstances(project.db).map((i) => i.prompt)).toEqual([
      'a photo of a bun (a bread roll)',
      'a photo of a bun (a bread roll)',
    ]);
    project.close();
  });
});
