import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipModel } from '../../src/main/models/clip.ts';
import { StableDiffusionGenerator } from '../../src/main/models/sd/stableDiffusion.ts';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { defaultLoopParams, startLoop } from '../../src/main/pipeline/loop.ts';
import { listInstances } from '../../src/main/store/instances.ts';
import { getRun } from '../../src/main/store/runs.ts';
import { scoreHistory } from '../../src/main/store/scores.ts';
import { tempDir } from '../helpers/fixtures.ts';

// GALOT on Stable Diffusion: the whole loop with the tiny random-weight SD folder as generator and
// the tiny CLIP folder as backbone and as the +CLIP filter.
const MODELS = resolve(import.meta.dirname, '../fixtures/models');
let generator: StableDiffusionGenerator;
let clip: ClipModel;

beforeAll(async () => {
  [generator, clip] = await Promise.all([
    StableDiffusionGenerator.load(join(MODELS, 'tiny-sd')),
    ClipModel.load(join(MODELS, 'tiny-clip')),
  ]);
});
afterAll(async () => {
  await Promise.all([generator.dispose(), clip.dispose()]);
});

describe('the loop on Stable Diffusion and CLIP', () => {
  it('searches text-encoder perturbations, generates, scores with clip and decides by the +CLIP filter', async () => {
    const project = await createDemoProject(join(tempDir(), 'demo'));
    const runId = await startLoop(
      project,
      { generator, encoder: clip, clip },
      {
        ...defaultLoopParams,
        rounds: 1,
        perRound: 10,
        steps: 2,
        guidanceScale: 3,
        candidates: 2,
        searchIterations: 1,
        epsilon: 5,
        folds: 2,
        lambdaGrid: [1e-2],
        filter: 'clip',
        rule: { kind: 'top-k', k: 1 },
      },
    );
    expect(getRun(project.db, runId)?.status).toBe('done');
    const instances = listInstances(project.db);
    expect(instances).toHaveLength(10);
    expect(new Set(instances.map((i) => i.generatorId))).toEqual(new Set([generator.id]));
    expect(instances.some((i) => JSON.parse(i.perturbation ?? '{}').kind === 'search')).toBe(true);
    const clipScores = instances.map((i) => scoreHistory(project.db, i.id).find((h) => h.kind === 'clip')?.value);
    expect(clipScores.every((v) => v !== undefined && v >= -1 && v <= 1)).toBe(true);
    // top-k 1 per class by clip: in each class the accepted instance has the highest clip score.
    const byClass = Map.groupBy(
      instances.map((inst, k) => ({ inst, score: clipScores[k]! })),
      (x) => x.inst.labelId,
    );
    for (const members of byClass.values()) {
      const accepted = members.filter((m) => m.inst.status === 'accepted');
      expect(accepted).toHaveLength(1);
      expect(accepted[0]!.score).toBe(Math.max(...members.map((m) => m.score)));
    }
    project.close();
  });
});
