import type { ExecutionProvider } from './onnxSession.ts';

/** What a prompt turned into: the conditioning vector and how it was read. */
export interface PromptEncoding {
  readonly prompt: string;
  readonly conditioning: Float32Array;
  /** The classes the prompt named, for generators that know classes (empty for free-text models). */
  readonly classes: readonly string[];
  /** Words the model could not use; reported to the user, never silently dropped. */
  readonly unknownWords: readonly string[];
}

/** One image to make: a conditioning (possibly perturbed or optimised), its noise seed, and an optional negative. */
export interface GenerationItem {
  readonly conditioning: Float32Array;
  readonly seed: number;
  /** Replaces the unconditional branch of classifier-free guidance (a negative prompt). */
  readonly negative?: Float32Array;
}

export interface GenerationOptions {
  readonly guidanceScale: number;
  readonly steps: number;
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  /** Called after every denoising step of every batch: `done` of `total` steps over the whole request. */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * How a generator samples, as recorded in each image's provenance beside the guidance scale and step
 * count: the algorithm that ran (`sampler`) and the settings that shaped it (eta, timestep spacing, …).
 */
export type SamplingParams = { readonly sampler: string } & Readonly<Record<string, string | number | boolean>>;

/** A decoded image: row-major pixels, `channels` per pixel, 8 bits each. */
export interface RawImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly pixels: Uint8Array;
}

/**
 * A text-to-image generator. Prompts become conditioning vectors, which the caller may mix, perturb
 * or optimise before generating: the embedded class-conditional diffusion model and Stable
 * Diffusion (whose conditioning is the text encoder's output) fit the same shape.
 */
export interface Generator {
  /** Names the exact weights, e.g. "fmnist-ddpm@3f2a9c1b7d4e": stored with every instance it makes. */
  readonly id: string;
  readonly provider: ExecutionProvider;
  /** Why it runs there: the GPU adapter, or why not on the GPU (models/providers.ts). */
  readonly providerReason: string;
  /** Settings used when a request gives none; `batchSize` is what fits in memory comfortably. */
  readonly defaults: { readonly guidanceScale: number; readonly steps: number; readonly batchSize: number };
  /** Async because a text encoder may have to run (Stable Diffusion). */
  encodePrompt(prompt: string): Promise<PromptEncoding>;
  /** The sampler `generate` runs for `steps` steps, with its settings; throws where `generate` would refuse the count. */
  sampling(steps: number): SamplingParams;
  generate(items: readonly GenerationItem[], options: GenerationOptions): Promise<RawImage[]>;
  dispose(): Promise<void>;
}
