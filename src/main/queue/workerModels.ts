import { UnrecoverableError } from 'bullmq';
import { EMBEDDED, loadClip, loadEncoder, loadGenerator } from '../models/modelLoader.ts';
import type { Generator } from '../models/generator.ts';
import type { ImageEncoder } from '../models/imageEncoder.ts';
import { listModels } from '../models/modelRegistry.ts';

/**
 * The generators a worker has: the embedded one and its registered Stable Diffusion models, loaded
 * the first time a job asks for one by its id (name@weights hash) and kept for the next jobs.
 */
/** A model of one kind this worker can load: the embedded one, or registered ones by name and id. */
class ModelShelf<M extends { readonly id: string; dispose(): Promise<void> }> {
  private readonly loaded = new Map<string, Promise<M>>();
  private embedded: Promise<M> | undefined;

  private readonly kind: 'stable-diffusion' | 'clip';
  private readonly loadEmbedded: () => Promise<M>;
  private readonly loadRegistered: (name: string) => Promise<M>;

  constructor(
    kind: 'stable-diffusion' | 'clip',
    loadEmbedded: () => Promise<M>,
    loadRegistered: (name: string) => Promise<M>,
  ) {
    this.kind = kind;
    this.loadEmbedded = loadEmbedded;
    this.loadRegistered = loadRegistered;
  }

  /**
   * The model with exactly this id (name@weights hash); a worker without those weights fails the job
   * for good (no retry here would help), saying what it has and how to get the right files.
   */
  async get(id: string): Promise<M> {
    const cached = this.loaded.get(id);
    if (cached) return cached;
    this.embedded ??= this.loadEmbedded();
    const embedded = await this.embedded;
    if (embedded.id === id) return embedded;
    const registered = listModels().filter((m) => m.kind === this.kind);
    const match = registered.find((m) => m.id === id);
    if (match) {
      const loading = this.loadRegistered(match.name);
      this.loaded.set(id, loading);
      loading.catch(() => this.loaded.delete(id));
      return loading;
    }
    const name = id.split('@')[0];
    const sameName = [embedded.id, ...registered.map((m) => m.id)].find((have) => have.split('@')[0] === name);
    const has = [`${EMBEDDED} (${embedded.id})`, ...registered.map((m) => `${m.name} (${m.id})`)].join(', ');
    const fix = `Copy the coordinator's model folder here and register it (winnow models add <folder> --name ${name}).`;
    throw new UnrecoverableError(
      sameName
        ? `This worker's model ${name} is ${sameName}, not ${id}: its weights differ from the coordinator's. ${fix}`
        : `This worker has no model ${id} (it has: ${has}). ${fix}`,
    );
  }

  async dispose(): Promise<void> {
    const all = [...this.loaded.values(), ...(this.embedded ? [this.embedded] : [])];
    await Promise.all(all.map(async (m) => (await m.catch(() => undefined))?.dispose()));
  }
}

/**
 * The models a worker has: the embedded generator and backbone and its registered Stable Diffusion
 * and CLIP models, loaded the first time a job asks for one by its id and kept for the next jobs.
 */
export class WorkerModels {
  private readonly generators = new ModelShelf<Generator>(
    'stable-diffusion',
    () => loadGenerator(EMBEDDED),
    loadGenerator,
  );
  private readonly encoders = new ModelShelf<ImageEncoder>('clip', () => loadEncoder(EMBEDDED), loadClip);

  generator(id: string): Promise<Generator> {
    return this.generators.get(id);
  }

  encoder(id: string): Promise<ImageEncoder> {
    return this.encoders.get(id);
  }

  async dispose(): Promise<void> {
    await Promise.all([this.generators.dispose(), this.encoders.dispose()]);
  }
}
