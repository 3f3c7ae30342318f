import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { z } from 'zod';
import { WinnowError } from '../../errors.ts';
import { ClipTokenizer } from '../clipTokenizer.ts';
import { readJsonConfig } from '../jsonConfig.ts';
import { modelId } from '../modelId.ts';
import type {
  GenerationItem,
  GenerationOptions,
  Generator,
  PromptEncoding,
  RawImage,
  SamplingParams,
} from '../generator.ts';
import {
  declaredShape,
  declaredType,
  expectSignature,
  type ExecutionProvider,
  type ModelSession,
  openSession,
  combinedProvider,
} from '../onnxSession.ts';
import { fillGaussian, gaussianStream } from '../random.ts';
import { float32Of, floatTensor, isFloatType, type FloatType } from '../tensorPrecision.ts';
import {
  createScheduler,
  type Scheduler,
  schedulerConfigSchema,
  schedulerKindOf,
  type SchedulerConfig,
  type SchedulerKind,
} from './schedulers.ts';

const vaeConfigSchema = z.looseObject({
  scaling_factor: z.number().positive().default(0.18215),
  block_out_channels: z.array(z.number()).min(1).optional(),
});
const unetConfigSchema = z.looseObject({ sample_size: z.number().int().positive().optional() });

/** The Optimum Stable Diffusion folder layout, relative to the folder. */
export const SD_FILES = {
  index: 'model_index.json',
  textEncoder: 'text_encoder/model.onnx',
  unet: 'unet/model.onnx',
  vaeDecoder: 'vae_decoder/model.onnx',
  tokenizer: 'tokenizer',
  scheduler: 'scheduler/scheduler_config.json',
} as const;

/** The inputs and outputs each ONNX model must have. */
export const SD_SIGNATURES = {
  textEncoder: { inputs: ['input_ids'], outputs: ['last_hidden_state'] },
  unet: { inputs: ['sample', 'timestep', 'encoder_hidden_states'], outputs: ['out_sample'] },
  vaeDecoder: { inputs: ['latent_sample'], outputs: ['sample'] },
} as const;

export interface StableDiffusionOptions {
  /** The registry's id ("name@hash"); computed from the folder's files when absent. */
  readonly id?: string;
  /** Overrides the folder's scheduler (e.g. 'lcm' for a latent-consistency UNet). */
  readonly scheduler?: SchedulerKind;
}

/**
 * A Stable Diffusion model exported to ONNX by Hugging Face Optimum, behind the Generator interface:
 * the folder's own tokenizer, the CLIP text encoder (its last hidden states are the conditioning that
 * prompts turn into, and that GALOT perturbs), the UNet with classifier-free guidance, the scheduler
 * from scheduler_config.json, and the VAE decoder. fp16 and fp32 exports both run: tensors take the
 * precision each model input declares.
 */
export class StableDiffusionGenerator implements Generator {
  /** What it follows of a prompt: the whole text, through its CLIP text encoder, styles included. */
  static readonly prompting = {
    followsStyle: true,
    note: 'A Stable Diffusion model follows the whole prompt through its text encoder, styles included.',
  } as const;
  readonly id: string;
  readonly defaults: { guidanceScale: number; steps: number; batchSize: number };
  readonly schedulerKind: SchedulerKind;
  /** Where sampling departs from the folder's scheduler config (a class another one stands in for). */
  readonly note: string | undefined;
  readonly imageSize: { readonly width: number; readonly height: number };
  private readonly tokenizer: ClipTokenizer;
  private readonly textEncoder: ModelSession;
  private readonly unet: ModelSession;
  private readonly vae: ModelSession;
  private readonly schedulerConfig: SchedulerConfig;
  private readonly scalingFactor: number;
  private readonly latentShape: readonly [number, number, number];
  private readonly types: {
    readonly ids: 'int32' | 'int64';
    readonly timestep: 'int64' | 'int32' | FloatType;
    readonly unet: FloatType;
    readonly vae: FloatType;
  };
  private emptyPrompt: Promise<Float32Array> | undefined;

  private constructor(fields: {
    id: string;
    tokenizer: ClipTokenizer;
    textEncoder: ModelSession;
    unet: ModelSession;
    vae: ModelSession;
    schedulerConfig: SchedulerConfig;
    schedulerKind: SchedulerKind;
    note: string | undefined;
    scalingFactor: number;
    latentShape: readonly [number, number, number];
    vaeScale: number;
    types: StableDiffusionGenerator['types'];
  }) {
    this.id = fields.id;
    this.tokenizer = fields.tokenizer;
    this.textEncoder = fields.textEncoder;
    this.unet = fields.unet;
    this.vae = fields.vae;
    this.schedulerConfig = fields.schedulerConfig;
    this.schedulerKind = fields.schedulerKind;
    this.note = fields.note;
    this.scalingFactor = fields.scalingFactor;
    this.latentShape = fields.latentShape;
    this.types = fields.types;
    const [, h, w] = fields.latentShape;
    this.imageSize = { width: w * fields.vaeScale, height: h * fields.vaeScale };
    // Few-step consistency models run without classifier-free guidance by default. One image per
    // UNet batch (two rows with guidance) keeps a 512 × 512 model within a consumer GPU's memory.
    this.defaults =
      fields.schedulerKind === 'lcm'
        ? { guidanceScale: 1, steps: 4, batchSize: 1 }
        : { guidanceScale: 7.5, steps: 25, batchSize: 1 };
  }

  /** Where the model runs: the GPU provider when every part runs there, else the CPU. */
  get provider(): ExecutionProvider {
    return combinedProvider([this.unet, this.textEncoder, this.vae]).provider;
  }
  get providerReason(): string {
    return combinedProvider([this.unet, this.textEncoder, this.vae]).reason;
  }

  static async load(dir: string, options: StableDiffusionOptions = {}): Promise<StableDiffusionGenerator> {
    const fix = `Export the model again with Hugging Face Optimum (optimum-cli export onnx --model <id> <folder>) and add that folder.`;
    const schedulerConfig = readJsonConfig(
      join(dir, SD_FILES.scheduler),
      schedulerConfigSchema,
      'scheduler config',
      fix,
    );
    const mapped = schedulerKindOf(schedulerConfig);
    const vaeConfig = readJsonConfig(join(dir, 'vae_decoder', 'config.json'), vaeConfigSchema, 'VAE config', fix);
    const unetConfig = readJsonConfig(join(dir, 'unet', 'config.json'), unetConfigSchema, 'UNet config', fix);
    const tokenizer = ClipTokenizer.load(join(dir, SD_FILES.tokenizer));
    const [text, unet, vae] = await Promise.all([
      openSession(join(dir, SD_FILES.textEncoder), 'text encoder', fix),
      openSession(join(dir, SD_FILES.unet), 'UNet', fix),
      openSession(join(dir, SD_FILES.vaeDecoder), 'VAE decoder', fix),
    ]);
    const check = (
      session: ModelSession,
      file: string,
      sig: { inputs: readonly string[]; outputs: readonly string[] },
    ) => expectSignature(session, join(dir, file), sig.inputs, sig.outputs, fix);
    check(text, SD_FILES.textEncoder, SD_SIGNATURES.textEncoder);
    check(unet, SD_FILES.unet, SD_SIGNATURES.unet);
    check(vae, SD_FILES.vaeDecoder, SD_SIGNATURES.vaeDecoder);
    const ids = declaredType(text, 'input_ids');
    const timestep = declaredType(unet, 'timestep');
    const unetType = declaredType(unet, 'sample');
    const vaeType = declaredType(vae, 'latent_sample');
    if (ids !== 'int32' && ids !== 'int64')
      throw new WinnowError(
        `${join(dir, SD_FILES.textEncoder)} takes input_ids of type ${ids}, not int32 or int64.`,
        fix,
      );
    if (timestep !== 'int64' && timestep !== 'int32' && !isFloatType(timestep))
      throw new WinnowError(`${join(dir, SD_FILES.unet)} takes a timestep of type ${timestep}.`, fix);
    if (!isFloatType(unetType) || !isFloatType(vaeType))
      throw new WinnowError(`${dir}: the UNet and VAE decoder must take float32 or float16 latents.`, fix);
    const sampleShape = declaredShape(unet, 'sample');
    const channels = typeof sampleShape?.[1] === 'number' ? sampleShape[1] : 4;
    const vaeScale = 2 ** ((vaeConfig.block_out_channels?.length ?? 4) - 1);
    const latent = unetConfig.sample_size ?? 64;
    const kind = options.scheduler ?? mapped.kind;
    return new StableDiffusionGenerator({
      id: options.id ?? (await modelId(dir)),
      tokenizer,
      textEncoder: text,
      unet,
      vae: vae,
      schedulerConfig,
      schedulerKind: kind,
      note: schedulerNoteOf(schedulerConfig, mapped.substituted && options.scheduler === undefined),
      scalingFactor: vaeConfig.scaling_factor,
      latentShape: [channels, latent, latent],
      vaeScale,
      types: { ids, timestep, unet: unetType, vae: vaeType },
    });
  }

  /** The text encoder's last hidden states for a prompt, flat [tokens × hidden]. */
  async encodePrompt(prompt: string): Promise<PromptEncoding> {
    const { ids, truncatedWords } = this.tokenizer.tokenize(prompt);
    const n = ids.length;
    const input =
      this.types.ids === 'int64'
        ? new ort.Tensor(
            'int64',
            BigInt64Array.from(ids, (v) => BigInt(v)),
            [1, n],
          )
        : new ort.Tensor('int32', ids, [1, n]);
    const out = await this.textEncoder.run({ input_ids: input });
    const hidden = Float32Array.from(float32Of(out.last_hidden_state as ort.Tensor));
    return { prompt, conditioning: hidden, classes: [], unknownWords: truncatedWords };
  }

  async generate(items: readonly GenerationItem[], options: GenerationOptions): Promise<RawImage[]> {
    const [c, h, w] = this.latentShape;
    const size = c * h * w;
    this.emptyPrompt ??= this.encodePrompt('').then((e) => e.conditioning);
    const empty = await this.emptyPrompt;
    const dim = empty.length;
    const guided = options.guidanceScale > 1;
    const batchSize = options.batchSize ?? this.defaults.batchSize;
    const totalSteps = Math.ceil(items.length / batchSize) * options.steps;
    let done = 0;
    const images: RawImage[] = [];
    for (let start = 0; start < items.length; start += batchSize) {
      options.signal?.throwIfAborted();
      const chunk = items.slice(start, start + batchSize);
      const b = chunk.length;
      const scheduler = this.scheduler(options.steps);
      // Each image's initial noise and its sampler noise come from its own seed, whatever the batch.
      let latents = chunk.map((item) =>
        fillGaussian(new Float32Array(size), item.seed).map((v) => v * scheduler.initNoiseSigma),
      );
      const noise = chunk.map((item) => gaussianStream(item.seed ^ 0x5eed));
      const rows = guided ? 2 * b : b;
      const context = new Float32Array(rows * dim);
      chunk.forEach((item, k) => {
        if (item.conditioning.length !== dim)
          throw new WinnowError(
            `A conditioning of length ${item.conditioning.length} was given; this text encoder makes ${dim}.`,
          );
        context.set(item.conditioning, (guided ? b + k : k) * dim);
        if (guided) context.set(item.negative ?? empty, k * dim);
      });
      const tokens = this.tokenizer.maxLength;
      const contextTensor = floatTensor(this.types.unet, context, [rows, tokens, dim / tokens]);
      for (let i = 0; i < scheduler.timesteps.length; i++) {
        options.signal?.throwIfAborted();
        const t = scheduler.timesteps[i] as number;
        const input = new Float32Array(rows * size);
        latents.forEach((x, k) => {
          const scaled = scheduler.scaleModelInput(x, i);
          input.set(scaled, k * size);
          if (guided) input.set(scaled, (b + k) * size);
        });
        const out = await this.unet.run({
          sample: floatTensor(this.types.unet, input, [rows, c, h, w]),
          timestep: this.timestepTensor(t, rows),
          encoder_hidden_states: contextTensor,
        });
        const eps = float32Of(out.out_sample as ort.Tensor);
        latents = latents.map((x, k) => {
          const modelOutput = new Float32Array(size);
          for (let j = 0; j < size; j++) {
            const cond = eps[(guided ? b + k : k) * size + j] as number;
            modelOutput[j] = guided
              ? (eps[k * size + j] as number) + options.guidanceScale * (cond - (eps[k * size + j] as number))
              : cond;
          }
          return scheduler.step(modelOutput, i, x, noise[k]!);
        });
        done += 1;
        options.onProgress?.(done, totalSteps);
      }
      images.push(...(await this.decode(latents)));
    }
    return images;
  }

  /** The sampler `generate` runs for `steps` steps, and its settings, as recorded with every image. */
  sampling(steps: number): SamplingParams {
    return { ...this.scheduler(steps).params, ...(this.note === undefined ? {} : { note: this.note }) };
  }

  private scheduler(steps: number): Scheduler {
    return createScheduler(this.schedulerConfig, steps, { kind: this.schedulerKind });
  }

  private timestepTensor(t: number, rows: number): ort.Tensor {
    const type = this.types.timestep;
    // A fractional timestep (Euler, 'linspace') is truncated for integer-timestep UNets, as diffusers'
    // ONNX pipeline does (np.array([t], dtype=int64)): rounding fed 9 of 20 such steps another timestep.
    if (type === 'int64') return new ort.Tensor('int64', new BigInt64Array(rows).fill(BigInt(Math.trunc(t))), [rows]);
    if (type === 'int32') return new ort.Tensor('int32', new Int32Array(rows).fill(Math.trunc(t)), [rows]);
    return floatTensor(type, new Float32Array(rows).fill(t), [rows]);
  }

  /** VAE-decodes latents into 8-bit RGB images. */
  private async decode(latents: readonly Float32Array[]): Promise<RawImage[]> {
    const [c, h, w] = this.latentShape;
    const size = c * h * w;
    const input = new Float32Array(latents.length * size);
    latents.forEach((x, k) => {
      for (let j = 0; j < size; j++) input[k * size + j] = (x[j] as number) / this.scalingFactor;
    });
    const out = await this.vae.run({ latent_sample: floatTensor(this.types.vae, input, [latents.length, c, h, w]) });
    const tensor = out.sample as ort.Tensor;
    const [, , height, width] = tensor.dims as [number, number, number, number];
    const data = float32Of(tensor);
    const plane = height * width;
    return latents.map((_, k) => {
      const pixels = new Uint8Array(plane * 3);
      for (let p = 0; p < plane; p++)
        for (let ch = 0; ch < 3; ch++) {
          const v = (data[(k * 3 + ch) * plane + p] as number) / 2 + 0.5;
          pixels[p * 3 + ch] = Math.round(Math.min(1, Math.max(0, v)) * 255);
        }
      return { width, height, channels: 3 as const, pixels };
    });
  }

  async dispose(): Promise<void> {
    await Promise.all([this.textEncoder.release(), this.unet.release(), this.vae.release()]);
  }
}

/** What differs from the folder's own scheduler, said to the user rather than silently. */
function schedulerNoteOf(config: SchedulerConfig, substituted: boolean): string | undefined {
  const notes = [
    ...(substituted ? [`${config._class_name} is not implemented; DDIM runs on its noise schedule instead`] : []),
    ...(['use_karras_sigmas', 'use_exponential_sigmas', 'use_beta_sigmas'] as const)
      .filter((key) => (config as Record<string, unknown>)[key] === true)
      .map((key) => `${key} is not implemented; σ are interpolated linearly`),
  ];
  return notes.length > 0 ? notes.join('; ') : undefined;
}
