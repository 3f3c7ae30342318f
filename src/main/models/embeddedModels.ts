import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { WinnowError } from '../errors.ts';
import { EmbeddedEncoder } from './embeddedEncoder.ts';
import { EmbeddedGenerator } from './embeddedGenerator.ts';

/**
 * The folder holding the embedded models and demo data: $WINNOW_RESOURCES, else the nearest
 * `resources/` above this module (the repository when run from source, the app when bundled).
 */
export function resourcesDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WINNOW_RESOURCES) return resolve(env.WINNOW_RESOURCES);
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'resources');
    if (existsSync(join(candidate, 'models')) || existsSync(join(candidate, 'data'))) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new WinnowError(
    'The embedded models folder resources/models was not found.',
    'Reinstall Winnow, or set WINNOW_RESOURCES to its resources folder.',
  );
}

export const EMBEDDED_GENERATOR = 'fmnist-ddpm';
export const EMBEDDED_ENCODER = 'fmnist-backbone';

export function embeddedModelDir(name: typeof EMBEDDED_GENERATOR | typeof EMBEDDED_ENCODER): string {
  return join(resourcesDir(), 'models', name);
}

/** The embedded generator and backbone, loaded together (each on the best execution provider). */
export async function loadEmbeddedModels(): Promise<{ generator: EmbeddedGenerator; encoder: EmbeddedEncoder }> {
  const [generator, encoder] = await Promise.all([
    EmbeddedGenerator.load(embeddedModelDir(EMBEDDED_GENERATOR)),
    EmbeddedEncoder.load(embeddedModelDir(EMBEDDED_ENCODER)),
  ]);
  return { generator, encoder };
}
