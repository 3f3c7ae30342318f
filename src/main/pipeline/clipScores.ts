import { clipScores, type ClipModel } from '../models/clip.ts';
import type { Project } from '../store/project.ts';
import { classMeaning, type ClassText } from './classPrompts.ts';
import { featuresOf } from './featureCache.ts';

/**
 * The `clip` score of each instance: the cosine between its CLIP image embedding (cached in the
 * project like any encoder's features) and the text embedding of its class's meaning.
 */
export async function clipScoresOf(
  project: Project,
  clip: ClipModel,
  imageHashes: readonly string[],
  classIndex: ArrayLike<number>,
  classes: readonly ClassText[],
  signal?: AbortSignal,
): Promise<Float32Array> {
  const images = await featuresOf(project, clip, imageHashes, signal ? { signal } : {});
  const texts = await clip.encodeText(classes.map(classMeaning));
  return clipScores(images, texts, classIndex, clip.dim);
}
