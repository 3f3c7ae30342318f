import { WinnowError } from '../errors.ts';
import { perturb } from '../models/conditioning.ts';
import type { GenerationItem, Generator, SamplingParams } from '../models/generator.ts';
import { type ClassRow, findClass, listClasses } from '../store/classes.ts';
import type { Db } from '../store/database.ts';
import { writeTransaction } from '../store/database.ts';
import type { StoredImage } from '../store/imageStore.ts';
import { recordImage } from '../store/images.ts';
import { findInstanceByHash, insertInstance } from '../store/instances.ts';
import type { Project } from '../store/project.ts';
import { createRun, finishRun } from '../store/runs.ts';
import { storeRawImage } from './storeImages.ts';
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
}

export interface GenerateResult {
  readonly runId: number;
  readonly instanceIds: readonly number[];
  /** Images identical to instances already in the project (same prompt, seed and settings). */
  readonly duplicates: number;
  /** Prompt words the generator could not use, per prompt. */
  readonly unknownWords: Readonly<Record<string, readonly string[]>>;
}

/**
 * Generates `count` instances of a class from its prompt templates (cycled), stores each PNG with
 * its provenance (prompt, seed, ε, generator, parameters) and pseudo-label = the class. Each batch
 * is committed as it finishes, so a cancelled or failed run keeps what it made.
 */
export async function generateInstances(
  project: Project,
  generator: Generator,
  request: GenerateRequest,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<GenerateResult> {
  const { db } = project;
  const cls = findClass(db, request.className);
  if (cls === undefined) {
    throw new WinnowError(
      `"${request.className}" is not a class of this project.`,
      `Use one of: ${
        listClasses(db)
          .map((c) => c.name)
          .join(', ') || '(none yet: import real images first)'
      }.`,
    );
  }
  if (!Number.isInteger(request.count) || request.count < 1)
    throw new WinnowError(`--count must be a positive whole number, not ${request.count}.`);
  // The request's scale, else the class's own (a remedy may set it), else the generator's default.
  const guidanceScale = request.guidanceScale ?? cls.guidanceScale ?? generator.defaults.guidanceScale;
  const steps = request.steps ?? generator.defaults.steps;
  const epsilon = request.epsilon ?? 0;
  const seed = request.seed ?? Math.floor(Math.random() * 2 ** 31);
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
  const runId = createRun(
    db,
    'generate',
    { ...request, guidanceScale, steps, epsilon, seed },
    { generator: generator.id },
  );

  const batchSize = request.batchSize ?? generator.defaults.batchSize;
  const instanceIds: number[] = [];
  let duplicates = 0;
  try {
    for (let start = 0; start < request.count; start += batchSize) {
      const n = Math.min(batchSize, request.count - start);
      const planned = Array.from({ length: n }, (_, k) => {
        const index = start + k;
        const encoding = encodings[index % encodings.length] as (typeof encodings)[number];
        const itemSeed = seed + index;
        const item: GenerationItem = {
          conditioning: perturb(encoding.conditioning, epsilon, itemSeed),
          seed: itemSeed,
          ...(negative ? { negative: negative.conditioning } : {}),
        };
        return { item, prompt: encoding.prompt, seed: itemSeed };
      });
      const images = await generator.generate(
        planned.map((p) => p.item),
        {
          guidanceScale,
          steps,
          batchSize,
          ...(options.signal ? { signal: options.signal } : {}),
          onProgress: (done) => options.onProgress?.(start * steps + done * n, request.count * steps),
        },
      );
      const stored = await Promise.all(images.map((image) => storeRawImage(project.images, image)));
      const recorded = recordGenerated(
        db,
        cls,
        stored.map((image, k) => {
          const p = planned[k] as (typeof planned)[number];
          const perturbation =
            epsilon === 0 ? null : JSON.stringify({ kind: 'random-direction', directionSeed: p.seed });
          return { image, prompt: p.prompt, seed: p.seed, perturbation };
        }),
        { epsilon, generatorId: generator.id, guidanceScale, steps, sampling, runId, roundIndex: null },
      );
      instanceIds.push(...recorded.ids);
      duplicates += recorded.duplicates;
    }
    finishRun(db, runId, 'done');
  } catch (error) {
    finishRun(db, runId, options.signal?.aborted ? 'cancelled' : 'failed', (error as Error).message);
    throw error;
  }
  return { runId, instanceIds, duplicates, unknownWords };
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
  const genParams = JSON.stringify({ guidanceScale: common.guidanceScale, steps: common.steps, ...common.sampling });
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
