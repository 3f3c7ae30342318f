import { ClipModel } from './clip.ts';
import { EmbeddedEncoder } from './embeddedEncoder.ts';
import { EmbeddedGenerator } from './embeddedGenerator.ts';
import { EMBEDDED_ENCODER, EMBEDDED_GENERATOR, embeddedModelDir } from './embeddedModels.ts';
import type { Generator } from './generator.ts';
import type { ImageEncoder } from './imageEncoder.ts';
import { findModel } from './modelRegistry.ts';
import { StableDiffusionGenerator } from './sd/stableDiffusion.ts';

/** The name that selects the embedded models wherever a registered model name is accepted. */
export const EMBEDDED = 'embedded';

/**
 * The embedded generator, or a registered Stable Diffusion model by name; `note` says where it
 * departs from the folder's own settings (e.g. a scheduler that another one stands in for).
 */
export async function loadGenerator(name: string = EMBEDDED): Promise<Generator & { note?: string | undefined }> {
  if (name === EMBEDDED) return EmbeddedGenerator.load(embeddedModelDir(EMBEDDED_GENERATOR));
  const model = findModel(name, 'stable-diffusion');
  return StableDiffusionGenerator.load(model.path, { id: model.id });
}

/** The embedded backbone, or a registered CLIP model's image tower as the backbone. */
export async function loadEncoder(name: string = EMBEDDED): Promise<ImageEncoder> {
  if (name === EMBEDDED) return EmbeddedEncoder.load(embeddedModelDir(EMBEDDED_ENCODER));
  return loadClip(name);
}

export async function loadClip(name: string): Promise<ClipModel> {
  const model = findModel(name, 'clip');
  return ClipModel.load(model.path, { id: model.id });
}
