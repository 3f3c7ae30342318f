import { loadGenerator } from '../models/modelLoader.ts';
import { type GenerateRequest, type GenerateResult, generateInstances } from '../pipeline/generate.ts';
import type { QueueStatus } from '../../shared/api.ts';
import { openQueueBackend, type QueueBackend } from '../queue/queueBackend.ts';
import type { Project } from '../store/project.ts';

type LoadedGenerator = Awaited<ReturnType<typeof loadGenerator>>;

/**
 * Generates instances of one class with a registered or the embedded generator, loaded for this
 * call and released after it, however it ends. `onLoaded` hears which model runs where before the
 * (long) generation starts. With `queueUrl`, the images are made by the queue's workers.
 */
export async function generateWith(
  project: Project,
  model: string,
  request: GenerateRequest,
  hooks: {
    signal?: AbortSignal;
    onProgress?: (done: number, total: number) => void;
    onLoaded?: (generator: LoadedGenerator) => void;
    queueUrl?: string | undefined;
    onQueue?: (status: QueueStatus) => void;
  } = {},
): Promise<GenerateResult> {
  let backend: QueueBackend | undefined;
  if (hooks.queueUrl !== undefined)
    backend = await openQueueBackend(hooks.queueUrl, project.images, {
      ...(hooks.onQueue ? { onStatus: hooks.onQueue } : {}),
      resumeHint:
        'run the same `winnow generate` again with the same --seed: images already in the project are counted, not added twice',
    });
  try {
    const generator = await loadGenerator(model);
    try {
      hooks.onLoaded?.(generator);
      return await generateInstances(project, generator, request, {
        ...(hooks.signal ? { signal: hooks.signal } : {}),
        ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
        ...(backend ? { backend } : {}),
      });
    } finally {
      await generator.dispose();
    }
  } finally {
    await backend?.close();
  }
}
