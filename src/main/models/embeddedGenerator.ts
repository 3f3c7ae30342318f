import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { WinnowError } from '../errors.ts';
import { mix } from './conditioning.ts';
import { readJsonConfig } from './jsonConfig.ts';
import { DDIM_SAMPLING, ddimSample, linearSchedule, type NoiseSchedule } from './ddim.ts';
import { ddimStepModel, ddimStepper } from './ddimStep.ts';
import type {
  GenerationItem,
  GenerationOptions,
  Generator,
  PromptEncoding,
  RawImage,
  SamplingParams,
} from './generator.ts';
import { declaredShape, type ExecutionProvider, type ModelSession, openSession } from './onnxSession.ts';
import { fillGaussian } from './random.ts';

const conditioningSchema = z.object({
  format: z.literal('winnow-conditioning/1'),
  dim: z.number().int().positive(),
  classes: z.array(z.string()).min(1),
  vocabulary: z.record(z.string(), z.array(z.string().min(1))),
  embeddings: z.array(z.array(z.number())),
  null_embedding: z.array(z.number()),
});

const cardSchema = z.object({
  name: z.string(),
  noise_schedule: z.object({
    T: z.number().int().positive(),
    beta_schedule: z.literal('linear'),
    beta_start: z.number(),
    beta_end: z.number(),
  }),
  sampler: z.object({ default_steps: z.number().int().positive(), default_guidance_scale: z.number() }),
  onnx: z.object({
    inputs: z.object({ x: z.object({ shape: z.tuple([z.string(), z.number(), z.number(), z.number()]) }) }),
  }),
});

/**
 * Words of prompt templates that carry no class information for a class-conditional model. Any
 * other word that names no class is reported back as unknown.
 */
const TEMPLATE_WORDS = new Set([
  'a',
  'an',
  'the',
  'of',
  'photo',
  'picture',
  'image',
  'realistic',
  'photograph',
  'product',
  'single',
  'one',
  'and',
  'or',
  'with',
]);

const FIX = 'Reinstall Winnow, or rebuild the model with tools/models/train_generator.py (see tools/models/README.md).';

/**
 * Images per batch by execution provider, where a request sets none. With guidance the denoiser
 * sees twice as many rows. WebGPU: ../shared/GPU.md measured this model best at about 1,024 rows
 * per denoiser call (falling off a cliff past about 2,048), so 512 guided images. Providers not
 * measured take the CPU's.
 */
export const GENERATION_BATCH_SIZE: Readonly<Partial<Record<ExecutionProvider | 'webgpu', number>>> & {
  readonly cpu: number;
} = { cpu: 64, webgpu: 512 };

/** The denoiser with a DDIM step (guided or not) built around it, opened on the preferred provider. */
async function openStep(path: string, denoiser: Uint8Array, guided: boolean): Promise<ModelSession> {
  let model: Uint8Array;
  try {
    model = ddimStepModel(denoiser, guided);
  } catch (error) {
    throw new WinnowError(
      `The generator denoiser model file ${path} cannot be loaded: ${(error as Error).message}`,
      FIX,
    );
  }
  return openSession(model, `generator denoiser's DDIM step (${path})`, FIX);
}

/**
 * The embedded class-conditional diffusion generator: a conditioning vocabulary and table
 * (conditioning.json), a denoiser (denoiser.onnx) and its model card (model_card.json).
 */
export class EmbeddedGenerator implements Generator {
  /**
   * What it follows of a prompt: a class-conditional model trained on class labels, not text, it
   * draws the class a prompt names and nothing else, so style and context words change nothing.
   */
  static readonly prompting = {
    followsStyle: false,
    note: 'The embedded generator is a Fashion-MNIST class-conditional model: it draws the class a prompt names, in the dataset’s one style (28×28 greyscale), and ignores style and context words.',
  } as const;
  readonly id: string;
  readonly defaults: { guidanceScale: number; steps: number; batchSize: number };
  readonly classes: readonly string[];
  /** One guided DDIM step around the denoiser; the unguided one (g = 1) is opened when first asked for. */
  private readonly guidedStep: ModelSession;
  private unguidedStep: Promise<ModelSession> | undefined;
  private readonly denoiserPath: string;
  private readonly denoiser: Uint8Array;
  private readonly embeddings: readonly Float32Array[];
  private readonly nullEmbedding: Float32Array;
  /** Vocabulary phrases as word lists, longest first, with the class index each selects. */
  private readonly phrases: readonly { words: readonly string[]; classIndex: number }[];
  private readonly schedule: NoiseSchedule;
  private readonly imageShape: readonly [number, number, number];

  private constructor(dir: string, denoiser: Uint8Array, guidedStep: ModelSession) {
    const conditioning = readJsonConfig(
      join(dir, 'conditioning.json'),
      conditioningSchema,
      "generator's conditioning table",
      FIX,
    );
    const card = readJsonConfig(join(dir, 'model_card.json'), cardSchema, "generator's model card", FIX);
    if (
      conditioning.embeddings.length !== conditioning.classes.length ||
      conditioning.embeddings.some((e) => e.length !== conditioning.dim)
    ) {
      throw new WinnowError(
        `${join(dir, 'conditioning.json')} has ${conditioning.embeddings.length} embeddings for ${conditioning.classes.length} classes of dimension ${conditioning.dim}.`,
        FIX,
      );
    }
    const condShape = declaredShape(guidedStep, 'cond');
    if (condShape?.[1] !== conditioning.dim) {
      throw new WinnowError(
        `${join(dir, 'denoiser.onnx')} takes conditionings of shape [${condShape?.join(', ')}], but conditioning.json has dimension ${conditioning.dim}.`,
        FIX,
      );
    }
    this.guidedStep = guidedStep;
    this.denoiserPath = join(dir, 'denoiser.onnx');
    this.denoiser = denoiser;
    this.classes = conditioning.classes;
    this.embeddings = conditioning.embeddings.map((e) => Float32Array.from(e));
    this.nullEmbedding = Float32Array.from(conditioning.null_embedding);
    this.phrases = Object.entries(conditioning.vocabulary)
      .flatMap(([index, words]) =>
        words.map((w) => ({ words: w.toLowerCase().split(/\s+/), classIndex: Number(index) })),
      )
      .sort((a, b) => b.words.length - a.words.length);
    this.schedule = linearSchedule(card.noise_schedule.T, card.noise_schedule.beta_start, card.noise_schedule.beta_end);
    const [, c, h, w] = card.onnx.inputs.x.shape;
    this.imageShape = [c, h, w];
    this.defaults = {
      guidanceScale: card.sampler.default_guidance_scale,
      steps: card.sampler.default_steps,
      batchSize: GENERATION_BATCH_SIZE[guidedStep.provider] ?? GENERATION_BATCH_SIZE.cpu,
    };
    const digest = createHash('sha256').update(denoiser).digest('hex');
    this.id = `${card.name}@${digest.slice(0, 12)}`;
  }

  get provider(): ExecutionProvider {
    return this.guidedStep.provider;
  }
  get providerReason(): string {
    return this.guidedStep.providerReason;
  }

  static async load(dir: string): Promise<EmbeddedGenerator> {
    const path = join(dir, 'denoiser.onnx');
    if (!existsSync(path)) throw new WinnowError(`The generator denoiser model file ${path} is missing.`, FIX);
    const denoiser = readFileSync(path);
    return new EmbeddedGenerator(dir, denoiser, await openStep(path, denoiser, true));
  }

  /** The class words of a prompt select class embeddings; several classes mix with equal weights. */
  async encodePrompt(prompt: string): Promise<PromptEncoding> {
    const tokens = prompt.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'/-]*/gu) ?? [];
    const selected: number[] = [];
    const unknownWords: string[] = [];
    for (let i = 0; i < tokens.length;) {
      const match = this.phrases.find((p) => p.words.every((w, k) => tokens[i + k] === w));
      if (match) {
        if (!selected.includes(match.classIndex)) selected.push(match.classIndex);
        i += match.words.length;
      } else {
        const word = tokens[i] as string;
        if (!TEMPLATE_WORDS.has(word)) unknownWords.push(word);
        i += 1;
      }
    }
    if (selected.length === 0) {
      throw new WinnowError(
        `The prompt "${prompt}" names none of the embedded generator's classes.`,
        `Name one of: ${this.classes.join(', ')}.`,
      );
    }
    return {
      prompt,
      conditioning: mix(selected.map((k) => this.embeddings[k] as Float32Array)),
      classes: selected.map((k) => this.classes[k] as string),
      unknownWords,
    };
  }

  sampling(): SamplingParams {
    return DDIM_SAMPLING;
  }

  async generate(items: readonly GenerationItem[], options: GenerationOptions): Promise<RawImage[]> {
    const [channels, height, width] = this.imageShape;
    const size = channels * height * width;
    const dim = this.nullEmbedding.length;
    const batchSize = options.batchSize ?? this.defaults.batchSize;
    const totalSteps = Math.ceil(items.length / batchSize) * options.steps;
    let done = 0;
    const images: RawImage[] = [];
    for (let start = 0; start < items.length; start += batchSize) {
      const chunk = items.slice(start, start + batchSize);
      const b = chunk.length;
      const x = new Float32Array(b * size);
      const cond = new Float32Array(b * dim);
      const uncond = new Float32Array(b * dim);
      chunk.forEach((item, k) => {
        if (item.conditioning.length !== dim) {
          throw new WinnowError(
            `A conditioning of length ${item.conditioning.length} was given; this generator takes ${dim}.`,
          );
        }
        x.set(fillGaussian(new Float32Array(size), item.seed), k * size);
        cond.set(item.conditioning, k * dim);
        uncond.set(item.negative ?? this.nullEmbedding, k * dim);
      });
      const sample = await this.sample(x, cond, uncond, b, options, () => options.onProgress?.(++done, totalSteps));
      for (let k = 0; k < b; k++) {
        const pixels = new Uint8Array(size);
        for (let j = 0; j < size; j++) pixels[j] = Math.round(((sample[k * size + j] as number) + 1) * 127.5);
        images.push({ width, height, channels: channels as 1 | 3, pixels });
      }
    }
    return images;
  }

  /**
   * DDIM from the noise x_T (flat [batch × C × H × W]) with classifier-free guidance between `cond`
   * and `uncond` (flat [batch × dim]); each step is one run of the step graph. Returns x_0 in [−1, 1].
   */
  async sample(
    x: Float32Array,
    cond: Float32Array,
    uncond: Float32Array,
    batch: number,
    options: Pick<GenerationOptions, 'guidanceScale' | 'steps' | 'signal'>,
    onStep?: () => void,
  ): Promise<Float32Array> {
    const { guidanceScale } = options;
    // At g = 1 guidance is ε_c itself: the unguided step runs the denoiser on half the rows.
    const session =
      guidanceScale === 1
        ? await (this.unguidedStep ??= openStep(this.denoiserPath, this.denoiser, false))
        : this.guidedStep;
    return ddimSample({
      step: ddimStepper(session, { batch, imageShape: this.imageShape, cond, uncond, guidanceScale }),
      schedule: this.schedule,
      x,
      steps: options.steps,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(onStep ? { onStep } : {}),
    });
  }

  async dispose(): Promise<void> {
    const unguided = await this.unguidedStep?.catch(() => undefined);
    await Promise.all([this.guidedStep.release(), unguided?.release()]);
  }
}
