import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WinnowError } from '../../src/main/errors.ts';
import { mix, perturb } from '../../src/main/models/conditioning.ts';
import { ddimTimesteps } from '../../src/main/models/ddim.ts';
import { EmbeddedGenerator } from '../../src/main/models/embeddedGenerator.ts';
import { tempDir } from '../helpers/fixtures.ts';

// A tiny random-weight denoiser with the embedded model's exact I/O, and reference outputs computed
// by the PyTorch code that trains the real one (tools/models/make_tiny_fixture.py).
const FIXTURE = resolve(import.meta.dirname, '../fixtures/tiny-ddpm');
const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8'));
const table = JSON.parse(readFileSync(join(FIXTURE, 'conditioning.json'), 'utf8')) as {
  embeddings: number[][];
  null_embedding: number[];
};
const row = (k: number) => Float32Array.from(table.embeddings[k] ?? []);

let generator: EmbeddedGenerator;
beforeAll(async () => {
  generator = await EmbeddedGenerator.load(FIXTURE);
});
afterAll(() => generator.dispose());

describe('DDIM sampler', () => {
  it('uses trailing timesteps, starting from pure noise', () => {
    expect(ddimTimesteps(5, 1000)).toEqual(expected.ddim.timesteps);
    expect(ddimTimesteps(20, 1000).slice(0, 3)).toEqual([999, 949, 899]);
  });

  it('matches the PyTorch reference sample on the tiny model through the fused step graph (guidance, mixed conditioning)', async () => {
    const x = new Float32Array(2 * 28 * 28).map((_, j) => 1.5 * Math.sin(0.37 * j + 1.0));
    const cond = new Float32Array(2 * 64);
    cond.set(row(3), 0);
    cond.set(mix([row(1), row(7)]), 64);
    const uncond = new Float32Array(2 * 64);
    uncond.set(table.null_embedding, 0);
    uncond.set(table.null_embedding, 64);
    const sample = await generator.sample(x, cond, uncond, 2, {
      guidanceScale: expected.ddim.guidance_scale,
      steps: expected.ddim.steps,
    });
    const worst = Math.max(...Array.from(sample, (v, j) => Math.abs(v - expected.ddim.output[j])));
    expect(worst).toBeLessThan(expected.ddim.tolerance);
  });
});

describe('embedded generator', () => {
  it('loads with its documented inputs and outputs and names its exact weights', () => {
    expect(generator.id).toMatch(/^tiny-ddpm-fixture@[0-9a-f]{12}$/);
    expect(generator.provider).toBe('cpu');
    expect(generator.defaults).toEqual({ guidanceScale: 2.5, steps: 20, batchSize: 64 });
  });

  it('reads class words from prompts, mixes two classes, and reports unknown words', async () => {
    const shirt = await generator.encodePrompt('a realistic photo of a shirt');
    expect(shirt.classes).toEqual(['Shirt']);
    expect(shirt.conditioning).toEqual(row(6));
    expect(shirt.unknownWords).toEqual([]);
    expect((await generator.encodePrompt('a T-shirt')).classes).toEqual(['T-shirt/top']);
    expect((await generator.encodePrompt('ankle boots')).classes).toEqual(['Ankle boot']);
    const both = await generator.encodePrompt('a shirt or a coat on a bakery shelf');
    expect(both.classes).toEqual(['Shirt', 'Coat']);
    expect(both.conditioning).toEqual(mix([row(6), row(4)]));
    expect(both.unknownWords).toEqual(['on', 'bakery', 'shelf']);
    await expect(generator.encodePrompt('a photo of a bunny')).rejects.toThrow(
      /names none of the embedded generator's classes/,
    );
  });

  it('is deterministic for a seed, differs across seeds, and reports progress', async () => {
    const conditioning = (await generator.encodePrompt('a dress')).conditioning;
    const progress: number[] = [];
    const options = { guidanceScale: 2, steps: 4, batchSize: 2, onProgress: (done: number) => progress.push(done) };
    const first = await generator.generate(
      [
        { conditioning, seed: 1 },
        { conditioning, seed: 2 },
        { conditioning, seed: 1 },
      ],
      options,
    );
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8]); // 2 batches × 4 steps
    const again = await generator.generate([{ conditioning, seed: 1 }], { guidanceScale: 2, steps: 4 });
    expect(first[0]?.pixels).toEqual(again[0]?.pixels);
    expect(first[2]?.pixels).toEqual(first[0]?.pixels);
    expect(first[1]?.pixels).not.toEqual(first[0]?.pixels);
    expect(first[0]).toMatchObject({ width: 28, height: 28, channels: 1 });
  });

  it('perturbs a conditioning by exactly ε in a seeded direction', () => {
    const base = row(0);
    const moved = perturb(base, 0.5, 42);
    expect(Math.hypot(...moved.map((v, i) => v - (base[i] as number)))).toBeCloseTo(0.5, 5);
    expect(perturb(base, 0.5, 42)).toEqual(moved);
    expect(perturb(base, 0.5, 43)).not.toEqual(moved);
    expect(perturb(base, 0, 42)).toEqual(base);
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    const conditioning = (await generator.encodePrompt('a bag')).conditioning;
    const run = generator.generate([{ conditioning, seed: 1 }], {
      guidanceScale: 2,
      steps: 10,
      signal: controller.signal,
      onProgress: (done) => done === 2 && controller.abort(),
    });
    await expect(run).rejects.toThrow(/aborted/i);
  });
});

describe('bad model files', () => {
  it('name the missing or corrupt file and the fix', async () => {
    const dir = join(tempDir(), 'model');
    mkdirSync(dir);
    for (const f of ['conditioning.json', 'model_card.json']) copyFileSync(join(FIXTURE, f), join(dir, f));
    const missing = EmbeddedGenerator.load(dir);
    await expect(missing).rejects.toBeInstanceOf(WinnowError);
    await expect(missing).rejects.toThrow(/generator denoiser model file .*denoiser.onnx is missing/);
    writeFileSync(join(dir, 'denoiser.onnx'), 'not an onnx model');
    await expect(EmbeddedGenerator.load(dir)).rejects.toThrow(/denoiser.onnx cannot be loaded/);
    copyFileSync(join(FIXTURE, 'denoiser.onnx'), join(dir, 'denoiser.onnx'));
    writeFileSync(join(dir, 'conditioning.json'), '{"format": "winnow-conditioning/1", "dim": 64}');
    await expect(EmbeddedGenerator.load(dir)).rejects.toThrow(/conditioning table .* is malformed at classes/);
  });
});
