import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SchedulerKind } from '../../src/main/models/sd/schedulers.ts';
import { StableDiffusionGenerator } from '../../src/main/models/sd/stableDiffusion.ts';
import { generateInstances } from '../../src/main/pipeline/generate.ts';
import { addClass } from '../../src/main/store/classes.ts';
import { getInstance } from '../../src/main/store/instances.ts';
import { initProject, type Project } from '../../src/main/store/project.ts';
import { tempDir } from '../helpers/fixtures.ts';

const SD = resolve(import.meta.dirname, '../fixtures/models/tiny-sd');

describe('Stable Diffusion provenance: the sampler that ran, with its settings', () => {
  let project: Project;
  beforeAll(() => {
    project = initProject(join(tempDir(), 'p'));
    addClass(project.db, { name: 'bun' });
  });
  afterAll(() => project.close());

  /** The genParams stored with the instance a one-image `generate` makes with `scheduler`. */
  async function genParamsOf(dir: string, scheduler: SchedulerKind | undefined, steps: number, seed: number) {
    const generator = await StableDiffusionGenerator.load(dir, scheduler === undefined ? {} : { scheduler });
    try {
      const { instanceIds } = await generateInstances(project, generator, { className: 'bun', count: 1, steps, seed });
      return JSON.parse(getInstance(project.db, instanceIds[0]!)!.genParams) as Record<string, unknown>;
    } finally {
      await generator.dispose();
    }
  }

  it('Euler: no eta, and the spacing the config gives', async () => {
    expect(await genParamsOf(SD, 'euler', 4, 1)).toEqual({
      guidanceScale: 7.5,
      steps: 4,
      sampler: 'euler',
      predictionType: 'epsilon',
      timestepSpacing: 'leading',
      stepsOffset: 1,
    });
  });

  it('LCM: its distillation constants and no guidance by default', async () => {
    expect(await genParamsOf(SD, 'lcm', 4, 2)).toEqual({
      guidanceScale: 1,
      steps: 4,
      sampler: 'lcm',
      predictionType: 'epsilon',
      clipSample: false,
      originalInferenceSteps: 50,
      timestepScaling: 10,
    });
  });

  it("DDIM, the folder's own: eta 0 and whether x0 is clipped", async () => {
    expect(await genParamsOf(SD, undefined, 3, 3)).toEqual({
      guidanceScale: 7.5,
      steps: 3,
      sampler: 'ddim',
      predictionType: 'epsilon',
      timestepSpacing: 'leading',
      stepsOffset: 1,
      eta: 0,
      clipSample: false,
    });
  });

  it('says when DDIM stands in for the scheduler the folder names', async () => {
    const dir = join(tempDir(), 'tiny-sd-pndm');
    cpSync(SD, dir, { recursive: true });
    const file = join(dir, 'scheduler', 'scheduler_config.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), _class_name: 'PNDMScheduler' }));
    const params = await genParamsOf(dir, undefined, 3, 4);
    expect(params.sampler).toBe('ddim');
    expect(params.note).toMatch(/^PNDMScheduler is not implemented; DDIM runs/);
  });
});
