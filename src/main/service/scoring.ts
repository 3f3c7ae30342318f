import { defaultScoreOptions, type ScoreOptions, scoreProject, type ScoreResult } from '../pipeline/scoreSet.ts';
import type { Project } from '../store/project.ts';
import type { ImageEncoder } from '../models/imageEncoder.ts';
import { disposeAll, loadChosenModels, type ScoringChoice } from './modelChoice.ts';

/**
 * Scores every synthetic instance against the project's real data with the chosen backbone (and
 * CLIP scorer), loaded for this call and released after it, however it ends.
 */
export async function scoreWith(
  project: Project,
  choice: ScoringChoice,
  options: Partial<Omit<ScoreOptions, 'clip'>>,
  hooks: { onProgress?: (done: number, total: number) => void; onLoaded?: (models: ImageEncoder[]) => void } = {},
): Promise<ScoreResult> {
  const { encoder, clip } = await loadChosenModels(choice);
  try {
    hooks.onLoaded?.([encoder, ...(clip && clip !== encoder ? [clip] : [])]);
    return await scoreProject(
      project,
      encoder,
      { ...defaultScoreOptions, ...options, ...(clip ? { clip } : {}) },
      hooks.onProgress,
    );
  } finally {
    await disposeAll([encoder, clip]);
  }
}
