import type { GeneratorPrompting } from '../../shared/api.ts';
import { EmbeddedGenerator } from '../models/embeddedGenerator.ts';
import { EMBEDDED } from '../models/modelLoader.ts';
import { findModel } from '../models/modelRegistry.ts';
import { StableDiffusionGenerator } from '../models/sd/stableDiffusion.ts';

/**
 * What a generator (as a run names it: `embedded` or a registered Stable Diffusion model) can follow
 * of a prompt, from its own class: the prompt suggestions mark the styles it cannot draw by this.
 */
export function generatorPrompting(name: string): GeneratorPrompting {
  if (name === EMBEDDED) return { name, ...EmbeddedGenerator.prompting };
  findModel(name, 'stable-diffusion'); // an unknown name, or a CLIP model, is refused with what there is
  return { name, ...StableDiffusionGenerator.prompting };
}
