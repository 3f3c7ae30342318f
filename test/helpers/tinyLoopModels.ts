import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { EmbeddedEncoder } from '../../src/main/models/embeddedEncoder.ts';
import { EmbeddedGenerator } from '../../src/main/models/embeddedGenerator.ts';
import { defaultLoopParams, type LoopSettings } from '../../src/main/pipeline/loop.ts';
import { tempDir } from './fixtures.ts';
import { writeTinyResources } from './tinyModels.ts';

/**
 * A loop small enough for a test with these models: one round of 20 instances, 2 sampling steps,
 * the smallest conditioning search, 2 folds and one λ.
 */
export const QUICK_LOOP: LoopSettings = {
  ...defaultLoopParams,
  rounds: 1,
  perRound: 20,
  steps: 2,
  candidates: 2,
  searchIterations: 1,
  folds: 2,
  lambdaGrid: [1e-2],
};

export interface TinyLoopModels {
  /** The resources folder holding the tiny models (WINNOW_RESOURCES for a CLI child). */
  resources: string;
  generator: EmbeddedGenerator;
  encoder: EmbeddedEncoder;
}

/**
 * The loop's models as tiny random-weight ONNX sessions with the embedded models' interfaces: loaded
 * once before the test file's tests (the fields are filled then) and disposed after them.
 */
export function tinyLoopModelsForThisFile(): TinyLoopModels {
  const loaded = {} as TinyLoopModels;
  beforeAll(async () => {
    loaded.resources = writeTinyResources(tempDir());
    loaded.generator = await EmbeddedGenerator.load(join(loaded.resources, 'models/fmnist-ddpm'));
    loaded.encoder = await EmbeddedEncoder.load(join(loaded.resources, 'models/fmnist-backbone'));
  });
  afterAll(async () => {
    await loaded.generator?.dispose();
    await loaded.encoder?.dispose();
  });
  return loaded;
}
