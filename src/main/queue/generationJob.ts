import { z } from 'zod';
import type { SamplingParams } from '../models/generator.ts';
import type { BatchItem, GenerationBatch } from '../pipeline/generationBackend.ts';

/** The BullMQ queue generation jobs go through (one per Redis database; jobs name their project and run). */
export const GENERATION_QUEUE = 'winnow-generate';

/** A Float32Array as base64 of its little-endian bytes: a conditioning travels in a few KB, exactly. */
export function encodeFloats(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

export function decodeFloats(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength % 4 !== 0) throw new Error('a float vector whose byte length is not a multiple of 4');
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);

/**
 * One job: a group of images of one batch (the generator's batch size), with everything a worker
 * needs to make exactly the images this process would: the generator's id (name@weights hash),
 * the sampler it must run, the conditionings (bases perturbed by ε along each seed's direction, or
 * explicit ones), the seeds and the sampling settings. Validated by the worker before it runs.
 */
export const generationJobSchema = z
  .object({
    generatorId: z.string().min(1),
    sampling: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
    bases: z.array(base64).min(1),
    negative: base64.optional(),
    epsilon: z.number().nonnegative(),
    items: z
      .array(
        z
          .object({
            seed: z.number().int().nonnegative(),
            base: z.number().int().nonnegative(),
            conditioning: base64.optional(),
          })
          .strict(),
      )
      .min(1),
    guidanceScale: z.number().nonnegative(),
    steps: z.number().int().positive(),
    /** Also return each image's features under this encoder (name@weights hash). */
    encoderId: z.string().min(1).optional(),
  })
  .strict();
export type GenerationJob = z.infer<typeof generationJobSchema>;

/** What a worker returns: the PNGs by seed, and who made them where. */
export const generationResultSchema = z
  .object({
    worker: z.string(),
    generatorId: z.string(),
    images: z.array(z.object({ seed: z.number().int(), png: base64, features: base64.optional() }).strict()),
  })
  .strict();
export type GenerationResult = z.infer<typeof generationResultSchema>;

/** A job's id: its batch's scope and its first seed. The same group always gets the same id. */
export function jobId(batch: GenerationBatch, group: readonly BatchItem[]): string {
  return `${batch.scope}-seed${group[0]!.seed}`;
}

/** The job for one group of a batch. */
export function jobFor(
  generatorId: string,
  sampling: SamplingParams,
  batch: GenerationBatch,
  group: readonly BatchItem[],
): GenerationJob {
  const bases = [...new Set(group.map((item) => item.base))].sort((a, b) => a - b);
  return {
    generatorId,
    sampling,
    bases: bases.map((b) => encodeFloats(batch.bases[b]!)),
    ...(batch.negative ? { negative: encodeFloats(batch.negative) } : {}),
    epsilon: batch.epsilon,
    items: group.map((item) => ({
      seed: item.seed,
      base: bases.indexOf(item.base),
      ...(item.conditioning ? { conditioning: encodeFloats(item.conditioning) } : {}),
    })),
    guidanceScale: batch.guidanceScale,
    steps: batch.steps,
    ...(batch.features ? { encoderId: batch.features.encoderId } : {}),
  };
}

/** The job back as a batch (the worker's view): the same items, conditionings and settings. */
export function batchOf(job: GenerationJob): GenerationBatch {
  return {
    scope: '',
    bases: job.bases.map(decodeFloats),
    negative: job.negative === undefined ? undefined : decodeFloats(job.negative),
    epsilon: job.epsilon,
    items: job.items.map((item) => ({
      seed: item.seed,
      base: item.base,
      ...(item.conditioning === undefined ? {} : { conditioning: decodeFloats(item.conditioning) }),
    })),
    guidanceScale: job.guidanceScale,
    steps: job.steps,
    batchSize: job.items.length,
  };
}
