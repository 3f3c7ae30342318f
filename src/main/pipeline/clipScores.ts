import { clipScores, type ClipModel } from '../models/clip.ts';
import type { Project } from '../store/project.ts';
import { featuresOf } from './featureCache.ts';

/** What a class means to CLIP: its disambiguation when it has one ("bun, a bread roll"). */
export function classMeaning(cls: { readonly name: string; readonly disambiguation: string }): string {
  const meaning = cls.disambiguation.trim();
  return `a photo of ${meaning === '' ? `a ${cls.name}` : `${cls.name}, ${meaning}`}`;
}

/**
 * The `clip` score of each instance: the cosine between its CLIP image embedding (cached in the
 * project like any encoder's features) and the text embedding of its class's meaning.
 */
export async function clipScoresOf(
  project: Project,
  clip: ClipModel,
  imageHashes: readonly string[],
  classIndex: ArrayLike<number>,
  classes: readonly { readonly name: string; readonly disambiguation: string }[],
  signal?: AbortSignal,
): Promise<Float32Array> {
  const images = await featuresOf(project, clip, imageHashes, signal ? { signal } : {});
  const texts = await clip.encodeText(classes.map(classMeaning));
  return clipScores(images, texts, classIndex, clip.dim);
}
