/**
 * Winnow's Stable Diffusion pipeline against diffusers' `OnnxStableDiffusionPipeline`, stage by stage, on the
 * tiny fixtures with the same initial latents (and, for Euler ancestral, the same noise). The reference values
 * are in test/fixtures/sd-reference (index.json, data.bin), converted by tools/fixtures/convert_sd_reference.py
 * from ../shared/sd-reference (made by its ref.py and ref2.py with diffusers at the commit in index.json).
 *
 * Tolerances, and why:
 * - token ids and UNet timesteps: exact.
 * - text-encoder states: |Δ| ≤ 1e-6 · max|ref| (bit-identical on the machine that made the reference; the
 *   margin is for other CPUs' kernels).
 * - UNet outputs, latents after each step and VAE input, fp32: |Δ| ≤ 1e-5 · max|ref|; the VAE output
 *   |Δ| ≤ 1e-4 · max|ref|. The only drift is the scheduler arithmetic (float64 here, float32 tensors in
 *   diffusers): about 1e-6 relative in the latents, 2e-5 in the VAE output, observed.
 * - pixels, fp32: within 1/255 everywhere, and at most 1% of the values differ at all.
 * - fp16 models (run here with float32 latents, fp16 only at the model boundary; compared with diffusers
 *   wrapped the same way): latents |Δ| ≤ 1e-2 · max|ref|, pixels within 1/255 and ≤ 5% of values differing,
 *   since one fp16 rounding of a UNet input flips with the last float32 bit.
 *
 * Cases the reference holds that are not here: diffusers' own fp16 run (it keeps latents and the guidance
 * arithmetic in fp16, up to 6/255 off; Winnow keeps them in float32 by design); `fp32_ddim_neg_longprompt`
 * (its prompt was not recorded); a run with diffusers patched to round timesteps (not diffusers' behaviour).
 * No LCM case: the reference has none (ref.py ran DDIM, Euler and Euler ancestral only). No case of a config
 * without clip_sample either: tiny-sd's says false, and `fp16_ddim_f32policy` was recorded unclipped although
 * tiny-sd-fp16's config leaves clip_sample out (see the converter), so it runs here with clip_sample false and
 * the default is checked on its own below, against diffusers' DDIMScheduler signature (clip_sample=True).
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ort from 'onnxruntime-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClipTokenizer } from '../../src/main/models/clipTokenizer.ts';
import { createScheduler, schedulerConfigSchema, type SchedulerKind } from '../../src/main/models/sd/schedulers.ts';
import { StableDiffusionGenerator } from '../../src/main/models/sd/stableDiffusion.ts';
import { float32Of } from '../../src/main/models/tensorPrecision.ts';
import { tempDir } from '../helpers/fixtures.ts';

const MODELS = resolve(import.meta.dirname, '../fixtures/models');
const REFERENCE = resolve(import.meta.dirname, '../fixtures/sd-reference');

interface ArrayRef {
  readonly dtype: 'float32' | 'uint8';
  readonly offset: number;
  readonly shape: readonly number[];
}
interface ReferenceCase {
  readonly fixture: string;
  readonly scheduler: SchedulerKind;
  readonly patch: Record<string, unknown>;
  readonly prompts: readonly string[];
  readonly negatives: readonly string[];
  readonly seeds: readonly number[];
  readonly guidance: number;
  readonly steps: number;
  readonly tokenIds: { readonly prompts: readonly number[][]; readonly negatives: readonly number[][] };
  /** What diffusers fed the UNet at each call. */
  readonly timesteps: readonly number[];
  readonly initNoiseSigma: number;
  readonly arrays: Readonly<Record<string, ArrayRef>>;
}
const index = JSON.parse(readFileSync(join(REFERENCE, 'index.json'), 'utf8')) as {
  diffusersCommit: string;
  vaeOutStride: number;
  cases: Record<string, ReferenceCase>;
};
const data = readFileSync(join(REFERENCE, 'data.bin'));

function array(ref: ArrayRef): Float32Array | Uint8Array {
  const n = ref.shape.reduce((a, b) => a * b, 1);
  const bytes = data.subarray(ref.offset, ref.offset + n * (ref.dtype === 'float32' ? 4 : 1));
  if (ref.dtype === 'uint8') return new Uint8Array(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true));
}

/** max |a − b| / max |b|: the error relative to the reference's scale. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs((actual[i] as number) - (expected[i] as number)));
    scale = Math.max(scale, Math.abs(expected[i] as number));
  }
  return diff / (scale || 1);
}

// onnxruntime's typings describe InferenceSession as a factory; at run time it is a class whose instances share `run`.
const sessionPrototype = (ort.InferenceSession as unknown as { prototype: ort.InferenceSession }).prototype;

/** Every run of the three ONNX models during `body`, with its inputs and outputs. */
async function recordSessions(body: () => Promise<void>) {
  const calls: { feeds: Record<string, ort.Tensor>; outputs: Record<string, ort.Tensor> }[] = [];
  const run = sessionPrototype.run;
  vi.spyOn(sessionPrototype, 'run').mockImplementation(async function (
    this: ort.InferenceSession,
    ...args: Parameters<typeof run>
  ) {
    const outputs = await run.apply(this, args);
    calls.push({ feeds: args[0] as Record<string, ort.Tensor>, outputs });
    return outputs;
  });
  await body();
  const of = (input: string) => calls.filter((c) => input in c.feeds);
  return { text: of('input_ids'), unet: of('encoder_hidden_states'), vae: of('latent_sample') };
}

const Float16 = (globalThis as { Float16Array?: new (b: ArrayBufferLike, o: number, n: number) => ArrayLike<number> })
  .Float16Array!;
/** A tensor's values as float32; fp16 inputs hold their bits in a Uint16Array (see tensorPrecision.ts). */
const floats = (t: ort.Tensor) =>
  t.data instanceof Uint16Array
    ? Float32Array.from(new Float16(t.data.buffer, t.data.byteOffset, t.data.length))
    : Float32Array.from(float32Of(t));
const numbers = (t: ort.Tensor) => Array.from(t.data as ArrayLike<number | bigint>, Number);

/** The fixture folder, with the case's scheduler_config.json changes applied to a copy. */
function fixtureDir(c: ReferenceCase): string {
  const dir = join(MODELS, c.fixture);
  if (Object.keys(c.patch).length === 0) return dir;
  const copy = join(tempDir(), c.fixture);
  cpSync(dir, copy, { recursive: true });
  const file = join(copy, 'scheduler', 'scheduler_config.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...c.patch }));
  return copy;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe(`Stable Diffusion against diffusers ${index.diffusersCommit.slice(0, 10)} (OnnxStableDiffusionPipeline)`, () => {
  it.each(Object.entries(index.cases))('%s: matches stage by stage', async (_name, c) => {
    const fp16 = c.fixture.endsWith('fp16');
    const closeness = fp16 ? 1e-2 : 1e-5;
    const dir = fixtureDir(c);
    const generator = await StableDiffusionGenerator.load(dir, { scheduler: c.scheduler });
    try {
      const tokenizer = ClipTokenizer.load(join(dir, 'tokenizer'));
      c.prompts.forEach((p, k) => expect(Array.from(tokenizer.tokenize(p).ids), p).toEqual(c.tokenIds.prompts[k]));
      c.negatives.forEach((p, k) => expect(Array.from(tokenizer.tokenize(p).ids), p).toEqual(c.tokenIds.negatives[k]));

      let images: Awaited<ReturnType<typeof generator.generate>> = [];
      const encodings: Float32Array[] = [];
      const calls = await recordSessions(async () => {
        for (const text of [...c.prompts, ...c.negatives])
          encodings.push((await generator.encodePrompt(text)).conditioning);
        const items = c.seeds.map((seed, k) => ({
          conditioning: encodings[k]!,
          seed,
          ...(c.negatives[k] === '' ? {} : { negative: encodings[c.prompts.length + k]! }),
        }));
        images = await generator.generate(items, {
          guidanceScale: c.guidance,
          steps: c.steps,
          batchSize: c.seeds.length,
        });
      });

      // Text-encoder states of the prompt and the negative ("" here).
      if (c.arrays.text) {
        const text = array(c.arrays.text);
        const width = text.length / 2;
        expect(relativeError(encodings[0]!, text.subarray(0, width)), 'prompt states').toBeLessThanOrEqual(1e-6);
        expect(
          relativeError(encodings[c.prompts.length]!, text.subarray(width)),
          'negative states',
        ).toBeLessThanOrEqual(1e-6);
      }

      // Every UNet call: the timestep it was fed, and its output.
      expect(calls.unet).toHaveLength(c.steps);
      const fed = calls.unet.map((call) => numbers(call.feeds.timestep!));
      const rows = (c.guidance > 1 ? 2 : 1) * c.seeds.length;
      expect(fed, 'UNet timesteps').toEqual(c.timesteps.map((t) => Array<number>(rows).fill(t)));
      if (c.arrays.unetOut) {
        const out = array(c.arrays.unetOut);
        const size = out.length / c.steps;
        calls.unet.forEach((call, i) =>
          expect(
            relativeError(floats(call.outputs.out_sample!), out.subarray(i * size, (i + 1) * size)),
            `UNet output ${i}`,
          ).toBeLessThanOrEqual(closeness),
        );
      }

      // The latents after each step: the next (scaled) UNet input unscaled, and the last one the VAE input × scaling factor.
      const scheduler = createScheduler(
        schedulerConfigSchema.parse(JSON.parse(readFileSync(join(dir, 'scheduler', 'scheduler_config.json'), 'utf8'))),
        c.steps,
        { kind: c.scheduler },
      );
      expect(scheduler.initNoiseSigma / c.initNoiseSigma).toBeCloseTo(1, 6);
      const scaling =
        (JSON.parse(readFileSync(join(dir, 'vae_decoder', 'config.json'), 'utf8')) as { scaling_factor?: number })
          .scaling_factor ?? 0.18215;
      const latents = array(c.arrays.latents!);
      const size = latents.length / c.steps;
      const batchSize = size / c.seeds.length;
      const vaeIn = floats(calls.vae[0]!.feeds.latent_sample!);
      for (let i = 0; i < c.steps; i++) {
        let ours: Float32Array;
        if (i + 1 < c.steps) {
          const scale = scheduler.scaleModelInput(Float32Array.of(1), i + 1)[0]!;
          // The conditional rows (the second half with guidance) hold each image's latents.
          const input = floats(calls.unet[i + 1]!.feeds.sample!);
          ours = input.subarray(input.length - size).map((v) => v / scale);
        } else ours = vaeIn.map((v) => v * scaling);
        expect(
          relativeError(ours, latents.subarray(i * size, (i + 1) * size)),
          `latents after step ${i}`,
        ).toBeLessThanOrEqual(closeness);
      }
      expect(batchSize).toBe(4 * 8 * 8);

      // The VAE decoder's input and output (every vaeOutStride-th value).
      if (c.arrays.vaeIn)
        expect(relativeError(vaeIn, array(c.arrays.vaeIn)), 'VAE input').toBeLessThanOrEqual(closeness);
      if (c.arrays.vaeOutEvery7th) {
        const out = floats(calls.vae[0]!.outputs.sample!).filter((_, j) => j % index.vaeOutStride === 0);
        expect(relativeError(out, array(c.arrays.vaeOutEvery7th)), 'VAE output').toBeLessThanOrEqual(1e-4);
      }

      // The 8-bit pixels (diffusers' (x · 255).round() of its clipped float image), HWC like ours.
      const pixels = array(c.arrays.pixels!);
      const ours = new Uint8Array(images.flatMap((image) => Array.from(image.pixels)));
      expect(ours.length).toBe(pixels.length);
      let worst = 0;
      let differing = 0;
      ours.forEach((v, j) => {
        const d = Math.abs(v - pixels[j]!);
        worst = Math.max(worst, d);
        if (d > 0) differing++;
      });
      expect(worst, 'largest pixel difference (of 255)').toBeLessThanOrEqual(1);
      expect(differing / ours.length, 'share of pixel values that differ').toBeLessThanOrEqual(fp16 ? 0.05 : 0.01);
    } finally {
      await generator.dispose();
    }
  });
});

describe("a DDIM config without clip_sample, as diffusers' DDIMScheduler reads it (clip_sample=True)", () => {
  const sd = join(MODELS, 'tiny-sd');
  const fileConfig = JSON.parse(readFileSync(join(sd, 'scheduler', 'scheduler_config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const withoutClip = { ...fileConfig };
  delete withoutClip.clip_sample;

  it('clips the predicted x0 to [−1, 1]', () => {
    // One step from pure noise to the end: with ε = 0 the x0 prediction is sample / √ᾱ_t, far outside [−1, 1].
    const step = (config: Record<string, unknown>) =>
      createScheduler(schedulerConfigSchema.parse(config), 1).step(
        Float32Array.of(0),
        0,
        Float32Array.of(3),
        () => 0,
      )[0];
    const clipped = step({ ...withoutClip, clip_sample: true });
    expect(step(withoutClip)).toBe(clipped);
    expect(step({ ...withoutClip, clip_sample: false })).not.toBe(clipped);
    expect(Math.abs(clipped!)).toBeLessThanOrEqual(1);
  });

  it('gives the images of clip_sample: true, not those of false', async () => {
    const folder = (config: Record<string, unknown>) => {
      const copy = join(tempDir(), 'tiny-sd');
      cpSync(sd, copy, { recursive: true });
      writeFileSync(join(copy, 'scheduler', 'scheduler_config.json'), JSON.stringify(config));
      return copy;
    };
    const render = async (config: Record<string, unknown>) => {
      const generator = await StableDiffusionGenerator.load(folder(config));
      try {
        const { conditioning } = await generator.encodePrompt('a photo of a bun');
        const [image] = await generator.generate([{ conditioning, seed: 42 }], { guidanceScale: 7.5, steps: 5 });
        return Buffer.from(image!.pixels);
      } finally {
        await generator.dispose();
      }
    };
    const [missing, on, off] = await Promise.all([
      render(withoutClip),
      render({ ...withoutClip, clip_sample: true }),
      render({ ...withoutClip, clip_sample: false }),
    ]);
    expect(missing.equals(on)).toBe(true);
    expect(missing.equals(off)).toBe(false);
  });
});
