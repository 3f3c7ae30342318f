import { perturb } from '../models/conditioning.ts';
import type { GenerationItem, Generator } from '../models/generator.ts';
import type { ImageStore, StoredImage } from '../store/imageStore.ts';
import { storeRawImage } from './storeImages.ts';

/** One image to make: its noise seed and its conditioning (a base perturbed by ε in the seed's direction, or given). */
export interface BatchItem {
  readonly seed: number;
  /** Index into the batch's `bases`: the prompt conditioning perturbed by ε along the seed's direction. */
  readonly base: number;
  /** An explicit conditioning (a searched one), used instead of perturbing the base. */
  readonly conditioning?: Float32Array;
}

/** A set of images to make with one generator and one set of settings. */
export interface GenerationBatch {
  /**
   * What the batch belongs to (project, run, round): a queue names its jobs `scope` + first seed, so
   * enqueuing the same batch again (a resumed run) finds the jobs already there.
   */
  readonly scope: string;
  readonly bases: readonly Float32Array[];
  readonly negative?: Float32Array | undefined;
  readonly epsilon: number;
  readonly items: readonly BatchItem[];
  readonly guidanceScale: number;
  readonly steps: number;
  /** Images per generator call (and per queue job): what fits in the generator's memory. */
  readonly batchSize: number;
  /**
   * The encoder whose features a queue's workers return with the images (saving the coordinator the
   * embed stage's work); in this process the embed stage computes them as ever.
   */
  readonly features?: { readonly encoderId: string; readonly dim: number } | undefined;
}

/** An image made and stored in the project's image store (not yet recorded as an instance). */
export interface Made {
  readonly seed: number;
  readonly image: StoredImage;
  /** Its features under the batch's `features` encoder, when a worker computed them. */
  readonly features?: Float32Array;
}

export interface ProduceHooks {
  readonly signal?: AbortSignal | undefined;
  /** Images made so far of all the batches' (fractions while a generator call is under way). */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * Hears each group of images of batch `batch` (its index) as it is stored, to record them (one
   * transaction per group): what a stopped batch made is kept. A group is always the same items, so
   * a resumed batch (its recorded groups left out) groups the rest alike.
   */
  readonly onStored: (batch: number, made: readonly Made[]) => void;
}

/**
 * Where a round's images are made: in this process with the loaded generator, or by workers taking
 * jobs from a queue (queue/queueBackend.ts). Either way the project stays the only writer.
 */
export interface GenerationBackend {
  /** Makes every batch's images (a queue: all at once, spread over its workers). */
  produce(generator: Generator, batches: readonly GenerationBatch[], hooks: ProduceHooks): Promise<void>;
}

/** The items of a batch in groups of `batchSize`, in order: a generator call, or a queue job. */
export function batchGroups(batch: GenerationBatch): BatchItem[][] {
  return consecutiveGroups(batch.items, batch.batchSize);
}

/** Consecutive runs of `size` items (the last may be shorter). */
export function consecutiveGroups<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, k) => items.slice(k * size, (k + 1) * size));
}

/** The generator's input for an item: its explicit conditioning, or its base perturbed along its seed's direction. */
export function generationItem(batch: GenerationBatch, item: BatchItem): GenerationItem {
  const base = batch.bases[item.base];
  if (base === undefined) throw new Error(`Batch item ${item.seed} names base ${item.base}, which the batch lacks.`);
  return {
    conditioning: item.conditioning ?? perturb(base, batch.epsilon, item.seed),
    seed: item.seed,
    ...(batch.negative ? { negative: batch.negative } : {}),
  };
}

/** Generates in this process with the loaded generator, group by group, storing each group's PNGs. */
export function inProcessBackend(images: ImageStore): GenerationBackend {
  return {
    async produce(generator, batches, hooks) {
      const total = batches.reduce((sum, b) => sum + b.items.length, 0);
      let done = 0;
      for (const [index, batch] of batches.entries())
        for (const group of batchGroups(batch)) {
          hooks.signal?.throwIfAborted();
          const raw = await generator.generate(
            group.map((item) => generationItem(batch, item)),
            {
              guidanceScale: batch.guidanceScale,
              steps: batch.steps,
              batchSize: batch.batchSize,
              ...(hooks.signal ? { signal: hooks.signal } : {}),
              onProgress: (stepDone, stepTotal) =>
                hooks.onProgress?.(done + (group.length * stepDone) / stepTotal, total),
            },
          );
          const stored = await Promise.all(raw.map((image) => storeRawImage(images, image)));
          hooks.onStored(
            index,
            stored.map((image, k) => ({ seed: group[k]!.seed, image })),
          );
          done += group.length;
          hooks.onProgress?.(done, total);
        }
    },
  };
}
