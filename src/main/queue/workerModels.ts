import { UnrecoverableError } from 'bullmq';
import { EMBEDDED, loadGenerator } from '../models/modelLoader.ts';
import type { Generator } from '../models/generator.ts';
import { listModels } from '../models/modelRegistry.ts';

/**
 * The generators a worker has: the embedded one and its registered Stable Diffusion models, loaded
 * the first time a job asks for one by its id (name@weights hash) and kept for the next jobs.
 */
export class WorkerModels {
  private readonly loaded = new Map<string, Promise<Generator>>();
  private embedded: Promise<Generator> | undefined;

  /**
   * The generator with exactly this id; a worker without those weights fails the job for good (no
   * retry here would help), saying what it has and how to get the right files.
   */
  async generator(id: string): Promise<Generator> {
    const cached = this.loaded.get(id);
    if (cached) return cached;
    this.embedded ??= loadGenerator(EMBEDDED);
    const embedded = await this.embedded;
    if (embedded.id === id) return embedded;
    const registered = listModels().filter((m) => m.kind === 'stable-diffusion');
    const match = registered.find((m) => m.id === id);
    if (match) {
      const loading = loadGenerator(match.name);
      this.loaded.set(id, loading);
      loading.catch(() => this.loaded.delete(id));
      return loading;
    }
    const name = id.split('@')[0];
    const sameName = [embedded.id, ...registered.map((m) => m.id)].find((have) => have.split('@')[0] === name);
    const has = [`${EMBEDDED} (${embedded.id})`, ...registered.map((m) => `${m.name} (${m.id})`)].join(', ');
    throw new UnrecoverableError(
      sameName
        ? `This worker's model ${name} is ${sameName}, not ${id}: its weights differ from the coordinator's. Copy the coordinator's model folder here and register it (winnow models add <folder> --name ${name}).`
        : `This worker has no model ${id} (it has: ${has}). Copy the coordinator's model folder here and register it (winnow models add <folder> --name ${name}).`,
    );
  }

  async dispose(): Promise<void> {
    const all = [...this.loaded.values(), ...(this.embedded ? [this.embedded] : [])];
    await Promise.all(all.map(async (g) => (await g.catch(() => undefined))?.dispose()));
  }
}
