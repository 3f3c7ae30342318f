import { loadGenerator } from '../models/modelLoader.ts';
import { type GenerateRequest, type GenerateResult, generateInstances } from '../pipeline/generate.ts';
import type { Project } from '../store/project.ts';

type LoadedGenerator = Awaited<ReturnType<typeof loadGenerator>>;

/**
 * Generates instances of one class with a registered or the embedded generator, loaded for this
 * call and released after it, however it ends. `onLoaded` hears which model runs where before the
 * (long) generation starts.
 */
export async function generateWith(
  project: Project,
  model: string,
  request: GenerateRequest,
  hooks: {
    signal?: AbortSignal;
    onProgress?: (done: number, total: number) => void;
    onLoaded?: (generator: LoadedGenerator) => void;
  } = {},
): Promise<GenerateResult> {
  const generator = await loadGenerator(model);
  try {
    hooks.onLoaded?.(generator);
    return await generateInstances(project, generator, request, {
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
    });
  } finally {
    await generator.dispose();
  }
}
