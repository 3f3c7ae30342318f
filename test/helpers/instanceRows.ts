import type { NewInstance } from '../../src/main/store/instances.ts';

/**
 * A synthetic instance on a stored image, made for and labelled as `labelId`, from no run, with
 * empty provenance unless `changes` says otherwise: what tests insert with insertInstance.
 */
export function syntheticRow(imageHash: string, labelId: number, changes: Partial<NewInstance> = {}): NewInstance {
  return {
    imageHash,
    classId: labelId,
    labelId,
    source: 'generated',
    sourcePath: null,
    prompt: '',
    negativePrompt: '',
    seed: null,
    epsilon: 0,
    perturbation: null,
    generatorId: '',
    genParams: '{}',
    runId: null,
    roundIndex: null,
    ...changes,
  };
}
