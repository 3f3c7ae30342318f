import { createHash } from 'node:crypto';
import { WinnowError } from '../errors.ts';
import type { Generator, SamplingParams } from '../models/generator.ts';
import { type ClassRow, findClass, listClasses } from '../store/classes.ts';
import type { Db } from '../store/database.ts';
import { writeTransaction } from '../store/database.ts';
import type { StoredImage } from '../store/imageStore.ts';
import { recordImage } from '../store/images.ts';
import { findInstanceByHash, generatedSeeds, insertInstance } from '../store/instances.ts';
import type { Project } from '../store/project.ts';
import { createRun, finishRun } from '../store/runs.ts';
import { generationScope } from './generationScope.ts';
import { consecutiveGroups, type GenerationBackend, inProcessBackend } from './generationBackend.ts';
import { classPrompt } from './classPrompts.ts';

export interface GenerateRequest {
  readonly className: string;
  readonly count: number;
  readonly guidanceScale?: number;
  readonly steps?: number;
  /** Instance i gets noise seed `seed + i`; its perturbation direction is drawn from the same seed. */
  readonly seed?: number;
  /** Conditioning perturbation radius ε (0: the prompt's conditioning as it is). */
  readonly epsilon?: number;
  readonly batchSize?: number;
  /**
   * The class's generation settings for this request only, over its own (a remedy trial's batch):
   * the class itself is not changed, so no other process or screen ever sees them.
   */
  readonly classSettings?: Partial<Pick<ClassRow, 'negativePrompt' | 'guidanceScale' | 'disambiguation'>>;
}

export interface GenerateResult {
  readonly runId: number;
  readonly instanceIds: readonly number[];
  /** Images identical to instances already in the project (same prompt, seed and settings). */
  readonly duplicates: number;
  /** Prompt words the generator could not use, per prompt. */
  readonly unknownWords: Readonly<Record<string, readonly string[]>>;
}

/** A first noise seed for a request that names none. */
export const randomNoiseSeed = (): number => Math.floor(Math.random() * 2 ** 31);

/**
 * Generates `count` instances of a class from its prompt templates (cycled), stores each PNG with
 * its provenance (prompt, seed, ε, generator, parameters) and pseudo-label = the class. Each batch
 * (a generator call, or a queue job) is committed as it arrives, so a cancelled or failed run keeps
 * what it made.
 */
export async function generateInstances(
  project: Project,
  generator: Generator,
  request: GenerateRequest,
  options: {
    signal?: AbortSignal;
    onProgress?: (done: number, total: number) => void;
    /** Where the images are made (default: in this process). */
    backend?: GenerationBackend;
  } = {},
): Promise<GenerateResult> {
  const { db } = project;
  const found = findClass(db, request.className);
  if (found === undefined) {
    throw new WinnowError(
      `"${request.className}" is not a class of this project.`,
      `Use one of: ${
        listClasses(db)
          .map((c) => c.name)
          .join(', ') || '(none yet: import real images first)'
      }.`,
    );
  }
  const cls = { ...found, ...request.classSettings };
  if (!Number.isInteger(request.count) || request.count < 1)
    throw new WinnowError(`--count must be a positive whole number, not ${request.count}.`);
  // The request's scale, else the class's own (a remedy may set it), else the generator's default.
  const guidanceScale = request.guidanceScale ?? cls.guidanceScale ?? generator.defaults.guidanceScale;
  const steps = request.steps ?? generator.defaults.steps;
  const epsilon = request.epsilon ?? 0;
  const seed = request.seed ?? randomNoiseSeed();
  if (epsilon < 0 || !Number.isFinite(epsilon)) throw new WinnowError(`--epsilon must be ≥ 0, not ${epsilon}.`);
  if (!Number.isInteger(steps) || steps < 1)
    throw new WinnowError(`--steps must be a positive whole number, not ${steps}.`);

  // Asked before any work: it also refuses a step count the sampler cannot run.
  const sampling = generator.sampling(steps);
  const prompts = cls.promptTemplates.map((t) => classPrompt(t, cls));
  const encodings = await Promise.all(prompts.map((p) => generator.encodePrompt(p)));
  const negative = cls.negativePrompt.trim() === '' ? undefined : await generator.encodePrompt(cls.negativePrompt);
  const unknownWords = Object.fromEntries(
    [...encodings, ...(negative ? [negative] : [])]
      .filter((e) => e.unknownWords.length > 0)
      .map((e) => [e.prompt, e.unknownWords]),
  );
  const batchSize = request.batchSize ?? generator.defaults.batchSize;
  const genParams = generationParams(guidanceScale, steps, sampling);
  // Instance i uses prompt i mod P, noise seed seed + i, and (at ε > 0) the direction of that seed.
  const planned = Array.from({ length: request.count }, (_, index) => ({
    seed: seed + index,
    base: index % encodings.length,
  }));
  // The same request again (after a killed run, say): batches whose images are all in the project
  // already are not made again; the rest keep their batches, so a queue finds its jobs by their ids.
  const made = generatedSeeds(db, {
    classId: cls.id,
    generatorId: generator.id,
    genParams,
    epsilon,
    negativePrompt: cls.negativePrompt,
    from: seed,
    to: seed + request.count,
  });
  const items = consecutiveGroups(planned, batchSize)
    .filter((batch) => batch.some((item) => made.get(item.seed) !== encodings[item.base]!.prompt))
    .flat();
  const runId = createRun(
    db,
    'generate',
    { ...request, guidanceScale, steps, epsilon, seed },
    { generator: generator.id },
  );

  const backend = options.backend ?? inProcessBackend(project.images);
  const instanceIds: number[] = [];
  let duplicates = planned.length - items.length;
  try {
    await backend.produce(
      generator,
      [
        {
          scope: generationScope(
            db,
            `generate-${digest({ generator: generator.id, classId: cls.id, prompts, negative: cls.negativePrompt, epsilon, genParams, batchSize, seed, count: request.count })}`,
          ),
          bases: encodings.map((e) => e.conditioning),
          negative: negative?.conditioning,
          epsilon,
          items,
          guidanceScale,
          steps,
          batchSize,
        },
      ],
      {
        signal: options.signal,
        onProgress: (done, total) => options.onProgress?.(Math.floor(done), total),
        onStored: (_batch, made) => {
          const recorded = recordGenerated(
            db,
            cls,
            made.map(({ image, seed: itemSeed }) => ({
              image,
              prompt: (encodings[(itemSeed - seed) % encodings.length] as (typeof encodings)[number]).prompt,
              seed: itemSeed,
              perturbation:
                epsilon === 0 ? null : JSON.stringify({ kind: 'random-direction', directionSeed: itemSeed }),
            })),
            { epsilon, generatorId: generator.id, guidanceScale, steps, sampling, runId, roundIndex: null },
          );
          instanceIds.push(...recorded.ids);
          duplicates += recorded.duplicates;
        },
      },
    );
    finishRun(db, runId, 'done');
  } catch (error) {
    finishRun(db, runId, options.signal?.aborted ? 'cancelled' : 'failed', (error as Error).message);
    throw error;
  }
  return { runId, instanceIds, duplicates, unknownWords };
}

/** An instance's `gen_params`: the guidance, steps and the sampler that ran (JSON, in this order). */
function generationParams(guidanceScale: number, steps: number, sampling: SamplingParams): string {
  return JSON.stringify({ guidanceScale, steps, ...sampling });
}

/** A short, stable digest of a request's settings (a queue job name's part). */
function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

export interface GeneratedImage {
  readonly image: StoredImage;
  readonly prompt: string;
  readonly seed: number;
  readonly perturbation: string | null;
}

/**
 * Stores generated images as instances of a class (pseudo-label = the class) in one transaction.
 * An image identical to an existing instance's (same prompt, seed and settings) is counted, not added.
 */
export function recordGenerated(
  db: Db,
  cls: ClassRow,
  images: readonly GeneratedImage[],
  common: {
    epsilon: number;
    generatorId: string;
    guidanceScale: number;
    steps: number;
    /** The generator's `sampling(steps)`: the sampler that ran and its settings. */
    sampling: SamplingParams;
    runId: number;
    roundIndex: number | null;
  },
): { ids: number[]; duplicates: number } {
  const ids: number[] = [];
  let duplicates = 0;
  const genParams = generationParams(common.guidanceScale, common.steps, common.sampling);
  writeTransaction(db, () => {
    for (const g of images) {
      if (findInstanceByHash(db, g.image.hash) !== undefined) {
        duplicates++;
        continue;
      }
      recordImage(db, g.image);
      ids.push(
        insertInstance(db, {
          imageHash: g.image.hash,
          classId: cls.id,
          labelId: cls.id,
          source: 'generated',
          sourcePath: null,
          prompt: g.prompt,
          negativePrompt: cls.negativePrompt,
          seed: g.seed,
          epsilon: common.epsilon,
          perturbation: g.perturbation,
          generatorId: common.generatorId,
          genParams,
          runId: common.runId,
          roundIndex: common.roundIndex,
        }),
      );
    }
  });
  return { ids, duplicates };
}
