import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipModel } from '../../src/main/models/clip.ts';
import { ClipTokenizer } from '../../src/main/models/clipTokenizer.ts';
import {
  addModel,
  findModel,
  inspectModelFolder,
  listModels,
  removeModel,
} from '../../src/main/models/modelRegistry.ts';
import { StableDiffusionGenerator } from '../../src/main/models/sd/stableDiffusion.ts';
import { suggestPrompts } from '../../src/main/pipeline/promptSuggestions.ts';
import { tempDir, writePng } from '../helpers/fixtures.ts';

const MODELS = resolve(import.meta.dirname, '../fixtures/models');
const SD = join(MODELS, 'tiny-sd');
const SD16 = join(MODELS, 'tiny-sd-fp16');
const CLIP = join(MODELS, 'tiny-clip');
const expectedTokens = JSON.parse(readFileSync(join(MODELS, 'tokens.json'), 'utf8')) as {
  prompt: string;
  ids: number[];
}[];

describe('CLIP tokenizer (@huggingface/tokenizers on the folder’s own files)', () => {
  it('matches the reference BPE from tokenizer.json and from vocab.json + merges.txt alike', () => {
    const fast = ClipTokenizer.load(CLIP);
    const slow = ClipTokenizer.load(join(SD, 'tokenizer'));
    for (const { prompt, ids } of expectedTokens) {
      const a = fast.tokenize(prompt);
      expect(Array.from(a.ids.slice(0, ids.length)), prompt).toEqual(ids);
      expect(Array.from(a.attentionMask).filter(Boolean)).toHaveLength(ids.length);
      expect(a.ids.length).toBe(77);
      expect(Array.from(slow.tokenize(prompt).ids)).toEqual(Array.from(a.ids));
    }
  });

  it('cuts prompts longer than the context, keeps the end token, and names the words it cut', () => {
    const tokenizer = ClipTokenizer.load(CLIP);
    const long = Array.from({ length: 90 }, (_, i) => (i === 89 ? 'zebra' : 'bun')).join(' ');
    const { ids, truncatedWords } = tokenizer.tokenize(long);
    const end = expectedTokens[0]!.ids.at(-1)!;
    expect(ids[76]).toBe(end);
    expect(truncatedWords.at(-1)).toBe('zebra');
  });

  it('names the missing file when a folder has no tokenizer', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tokenizer_config.json'), '{}');
    expect(() => ClipTokenizer.load(dir)).toThrow(/vocab\.json is missing/);
  });
});

describe('Stable Diffusion pipeline (tiny random-weight Optimum folders)', () => {
  let fp32: StableDiffusionGenerator;
  let fp16: StableDiffusionGenerator;
  beforeAll(async () => {
    [fp32, fp16] = await Promise.all([StableDiffusionGenerator.load(SD), StableDiffusionGenerator.load(SD16)]);
  });
  afterAll(async () => {
    await Promise.all([fp32.dispose(), fp16.dispose()]);
  });

  it('reads the folder: scheduler, image size, an id naming the exact files', () => {
    expect(fp32.id).toMatch(/^tiny-sd@[0-9a-f]{12}$/);
    expect(fp32.schedulerKind).toBe('ddim');
    expect(fp16.schedulerKind).toBe('euler-ancestral');
    expect(fp32.imageSize).toEqual({ width: 64, height: 64 });
    expect(fp32.provider).toBe('cpu');
  });

  it('makes reproducible RGB images per seed; the prompt, the negative prompt and the guidance all matter', async () => {
    const bun = (await fp32.encodePrompt('a photo of a bun')).conditioning;
    const bunny = (await fp32.encodePrompt('a photo of a bunny')).conditioning;
    const negative = (await fp32.encodePrompt('a bunny')).conditioning;
    const options = { guidanceScale: 7.5, steps: 3 };
    const [a, b, c] = await fp32.generate(
      [
        { conditioning: bun, seed: 1 },
        { conditioning: bun, seed: 2 },
        { conditioning: bun, seed: 1 },
      ],
      { ...options, batchSize: 2 },
    );
    expect(a).toMatchObject({ width: 64, height: 64, channels: 3 });
    expect(c!.pixels).toEqual(a!.pixels); // the same seed in another batch
    expect(b!.pixels).not.toEqual(a!.pixels);
    const [other] = await fp32.generate([{ conditioning: bunny, seed: 1 }], options);
    const [negated] = await fp32.generate([{ conditioning: bun, seed: 1, negative }], options);
    const [unguided] = await fp32.generate([{ conditioning: bun, seed: 1 }], { ...options, guidanceScale: 1 });
    for (const different of [other, negated, unguided]) expect(different!.pixels).not.toEqual(a!.pixels);
    expect(new Set(a!.pixels).size).toBeGreaterThan(10);
  });

  it('runs fp16 exports with a float timestep and the Euler ancestral scheduler, reproducibly', async () => {
    const conditioning = (await fp16.encodePrompt('a watercolour painting of a bun')).conditioning;
    const [x] = await fp16.generate([{ conditioning, seed: 5 }], { guidanceScale: 5, steps: 3 });
    const [y] = await fp16.generate([{ conditioning, seed: 5 }], { guidanceScale: 5, steps: 3 });
    expect(x!.pixels).toEqual(y!.pixels);
    expect(x).toMatchObject({ width: 64, height: 64, channels: 3 });
  });

  it('says when a scheduler the folder names stands in for another (SD 1.x ships PNDM)', async () => {
    const dir = join(tempDir(), 'pndm-sd');
    cpSync(SD, dir, { recursive: true });
    const configPath = join(dir, 'scheduler', 'scheduler_config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    writeFileSync(configPath, JSON.stringify({ ...config, _class_name: 'PNDMScheduler', use_karras_sigmas: true }));
    const pndm = await StableDiffusionGenerator.load(dir);
    expect(pndm.schedulerKind).toBe('ddim');
    expect(pndm.note).toMatch(/PNDMScheduler is not implemented; DDIM runs on its noise schedule/);
    expect(pndm.note).toMatch(/use_karras_sigmas is not implemented/);
    expect(fp32.note).toBeUndefined();
    await pndm.dispose();
  });

  it('switches to a few-step LCM scheduler, reports progress per step and stops when cancelled', async () => {
    const lcm = await StableDiffusionGenerator.load(SD, { scheduler: 'lcm' });
    expect(lcm.defaults).toEqual({ guidanceScale: 1, steps: 4, batchSize: 1 });
    const conditioning = (await lcm.encodePrompt('a bun')).conditioning;
    const progress: number[] = [];
    await lcm.generate(
      [
        { conditioning, seed: 1 },
        { conditioning, seed: 2 },
      ],
      { ...lcm.defaults, batchSize: 1, onProgress: (done) => progress.push(done) },
    );
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const controller = new AbortController();
    await expect(
      lcm.generate([{ conditioning, seed: 1 }], {
        guidanceScale: 1,
        steps: 4,
        signal: controller.signal,
        onProgress: (done) => done === 2 && controller.abort(),
      }),
    ).rejects.toThrow(/abort/i);
    await lcm.dispose();
  });
});

describe('CLIP model', () => {
  let clip: ClipModel;
  beforeAll(async () => {
    clip = await ClipModel.load(CLIP);
  });
  afterAll(async () => clip.dispose());

  it('embeds files and raw pixels alike, at unit length, deterministically', async () => {
    const dir = tempDir();
    await writePng(join(dir, 'a.png'), 3);
    const png = readFileSync(join(dir, 'a.png'));
    const raw = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(clip.dim).toBe(16);
    const fromFile = await clip.encode([png, png]);
    const fromPixels = await clip.encodePixels([
      { width: raw.info.width, height: raw.info.height, channels: 3, pixels: raw.data },
    ]);
    expect(Math.hypot(...fromFile.slice(0, 16))).toBeCloseTo(1, 5);
    expect(Array.from(fromFile.slice(16))).toEqual(Array.from(fromFile.slice(0, 16)));
    Array.from(fromPixels).forEach((v, i) => expect(v).toBeCloseTo(fromFile[i] as number, 4));
    const texts = await clip.encodeText(['a photo of a bun', 'a photo of a bunny']);
    expect(Math.hypot(...texts.slice(0, 16))).toBeCloseTo(1, 5);
    expect(Array.from(texts.slice(0, 16))).not.toEqual(Array.from(texts.slice(16)));
  });

  it('ranks template and endpoint prompts by their CLIP similarity to the disambiguated meaning', async () => {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const request = JSON.parse(body) as { model: string; messages: { content: string }[] };
        expect(req.url).toBe('/v1/chat/completions');
        expect(request.messages.at(-1)!.content).toMatch(/a bread roll/);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ choices: [{ message: { content: '["a bun on a bakery shelf", "a sliced bun"]' } }] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    const cls = { name: 'bun', disambiguation: 'a bread roll' };
    const { suggestions, endpointError } = await suggestPrompts(cls, {
      clip,
      endpoint: { url, model: 'test' },
      count: 2,
    });
    server.close();
    expect(endpointError).toBeUndefined();
    expect(suggestions.filter((s) => s.source === 'endpoint').map((s) => s.prompt)).toEqual(
      expect.arrayContaining(['a bun on a bakery shelf', 'a sliced bun']),
    );
    expect(suggestions.some((s) => s.prompt === 'a watercolour painting of a bun (a bread roll)')).toBe(true);
    // Endpoint prompts naming the class become templates; the others cannot be added as templates.
    expect(suggestions.find((s) => s.prompt === 'a bun on a bakery shelf')?.template).toBe(
      'a {label} on a bakery shelf',
    );
    expect(suggestions.find((s) => s.prompt === 'a watercolour painting of a bun (a bread roll)')?.template).toBe(
      'a watercolour painting of a {label}',
    );
    const sims = suggestions.map((s) => s.clipSimilarity!);
    expect(sims).toEqual([...sims].sort((a, b) => b - a));
    // Offline: the endpoint fails, the templates still come, and the reason is given.
    const offline = await suggestPrompts(cls, { endpoint: { url: 'http://127.0.0.1:9/v1', model: 'x' } });
    expect(offline.endpointError).toBeDefined();
    expect(offline.suggestions.length).toBeGreaterThanOrEqual(14);
  });
});

describe('model registry', () => {
  it('adds checked SD and CLIP folders, lists them with kind, precision and size, and removes them', async () => {
    const env = { WINNOW_HOME: tempDir() };
    const sd = await addModel(SD, undefined, env);
    const half = await addModel(SD16, 'half', env);
    const clip = await addModel(CLIP, undefined, env);
    expect([sd.kind, sd.precision, half.precision, clip.kind]).toEqual(['stable-diffusion', 'fp32', 'fp16', 'clip']);
    expect(sd.sizeBytes).toBeGreaterThan(10_000);
    expect(listModels(env).map((m) => m.name)).toEqual(['tiny-sd', 'half', 'tiny-clip']);
    await expect(addModel(SD, undefined, env)).rejects.toThrow(/already registered/);
    expect(() => findModel('tiny-clip', 'stable-diffusion', env)).toThrow(/is a clip model/);
    expect(() => findModel('nope', undefined, env)).toThrow(/No model named "nope"/);
    await removeModel('half', env);
    expect(listModels(env).map((m) => m.name)).toEqual(['tiny-sd', 'tiny-clip']);
  });

  it('lists every problem of a broken export at once: missing files, bad JSON, wrong ONNX names', async () => {
    const dir = join(tempDir(), 'broken-sd');
    cpSync(SD, dir, { recursive: true });
    rmSync(join(dir, 'vae_decoder', 'model.onnx'));
    writeFileSync(join(dir, 'scheduler', 'scheduler_config.json'), '{ not json');
    cpSync(join(CLIP, 'text_model.onnx'), join(dir, 'unet', 'model.onnx'));
    rmSync(join(dir, 'tokenizer', 'merges.txt'));
    const error = await inspectModelFolder(dir).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/vae_decoder\/model\.onnx is missing/);
    expect(message).toMatch(/scheduler_config\.json is not valid JSON/);
    expect(message).toMatch(/unet\/model\.onnx lacks the input "sample"/);
    expect(message).toMatch(/unet\/model\.onnx lacks the output "out_sample"/);
    expect(message).toMatch(/merges\.txt is missing/);
    expect((error as { fix?: string }).fix).toMatch(/optimum-cli export onnx/);
    await expect(inspectModelFolder(tempDir())).rejects.toThrow(/neither a Stable Diffusion folder/);
  });

  it('names what is wrong with unreadable models, CLIP folders and scheduler configs', async () => {
    const sd = join(tempDir(), 'garbled-sd');
    cpSync(SD, sd, { recursive: true });
    writeFileSync(join(sd, 'unet', 'model.onnx'), 'not a model');
    await expect(inspectModelFolder(sd)).rejects.toThrow(/unet\/model\.onnx cannot be loaded by onnxruntime/);

    const clip = join(tempDir(), 'half-clip');
    cpSync(CLIP, clip, { recursive: true });
    rmSync(join(clip, 'vision_model.onnx'));
    rmSync(join(clip, 'preprocessor_config.json'));
    const clipError = (await inspectModelFolder(clip).catch((e: Error) => e)) as Error & { fix?: string };
    expect(clipError.message).toMatch(/vision_model\.onnx or onnx\/vision_model\.onnx is missing/);
    expect(clipError.message).toMatch(/preprocessor_config\.json is missing/);
    expect(clipError.fix).toMatch(/text_model\.onnx and vision_model\.onnx/);
    await expect(ClipModel.load(clip)).rejects.toThrow(/lacks vision_model\.onnx/);

    const unknown = join(tempDir(), 'unknown-scheduler');
    cpSync(SD, unknown, { recursive: true });
    writeFileSync(
      join(unknown, 'scheduler', 'scheduler_config.json'),
      JSON.stringify({ _class_name: 'FancyScheduler', num_train_timesteps: 1000 }),
    );
    await expect(StableDiffusionGenerator.load(unknown)).rejects.toThrow(/FancyScheduler/);
    const generator = await StableDiffusionGenerator.load(SD);
    await expect(
      generator.generate([{ conditioning: new Float32Array(5), seed: 1 }], { guidanceScale: 2, steps: 2 }),
    ).rejects.toThrow(/conditioning of length 5 was given; this text encoder makes 2464/);
    await generator.dispose();
  });
});
