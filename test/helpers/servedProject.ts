import { join } from 'node:path';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { insertInstance } from '../../src/main/store/instances.ts';
import type { Project } from '../../src/main/store/project.ts';
import { listRealSamples } from '../../src/main/store/realSamples.ts';
import { tempDir } from './fixtures.ts';
import { syntheticRow } from './instanceRows.ts';

/**
 * The demo project with a few synthetic instances (each on a real sample's image, no generator run):
 * something for a forged `curate` to change. Their ids.
 */
export async function demoWithInstances(n = 3): Promise<{ project: Project; ids: number[] }> {
  const project = await createDemoProject(join(tempDir(), 'demo'));
  const samples = listRealSamples(project.db, 'train');
  const ids = samples
    .slice(0, n)
    .map((sample, k) =>
      insertInstance(project.db, syntheticRow(sample.imageHash, sample.classId, { seed: k, generatorId: 'test' })),
    );
  return { project, ids };
}
