import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedEncoder } from '../../src/main/models/embeddedEncoder.ts';
import { EmbeddedGenerator } from '../../src/main/models/embeddedGenerator.ts';
import { embeddedModelDir } from '../../src/main/models/embeddedModels.ts';

// The models Winnow ships in resources/models, loaded as the app loads them.
let generator: EmbeddedGenerator;
let encoder: EmbeddedEncoder;
beforeAll(async () => {
  generator = await EmbeddedGenerator.load(embeddedModelDir('fmnist-ddpm'));
  encoder = await EmbeddedEncoder.load(embeddedModelDir('fmnist-backbone'));
});
afterAll(async () => {
  await generator.dispose();
  await encoder.dispose();
});

async function signature(path: string) {
  const session = await ort.InferenceSession.create(path);
  const describe = (m: readonly ort.InferenceSession.ValueMetadata[]) =>
    Object.fromEntries(
      m.map((v) => [
        v.name,
        v.isTensor ? { type: v.type, shape: v.shape.map((d) => (typeof d === 'number' ? d : 'dynamic')) } : {},
      ]),
    );
  const result = { inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) };
  await session.release();
  return result;
}

describe('shipped generator (resources/models/fmnist-ddpm)', () => {
  it('has the documented inputs and outputs, and stays under 20 MB', async () => {
    const path = join(embeddedModelDir('fmnist-ddpm'), 'denoiser.onnx');
    const sig = await signature(path);
    expect(sig.inputs).toEqual({
      x: { type: 'float32', shape: ['dynamic', 1, 28, 28] },
      t: { type: 'float32', shape: ['dynamic'] },
      cond: { type: 'float32', shape: ['dynamic', 64] },
    });
    expect(Object.keys(sig.outputs)).toEqual(['eps']);
    expect(statSync(path).size).toBeLessThan(20 * 2 ** 20);
    const card = JSON.parse(readFileSync(join(embeddedModelDir('fmnist-ddpm'), 'model_card.json'), 'utf8'));
    expect(card.license).toBeDefined();
  });

  it('knows the ten Fashion-MNIST classes and generates the same images for the same seeds', async () => {
    expect(generator.classes).toHaveLength(10);
    const conditioning = (await generator.encodePrompt('a photo of a trouser')).conditioning;
    const items = [1, 2].map((seed) => ({ conditioning, seed }));
    const a = await generator.generate(items, { guidanceScale: generator.defaults.guidanceScale, steps: 4 });
    const b = await generator.generate(items, { guidanceScale: generator.defaults.guidanceScale, steps: 4 });
    expect(a.map((i) => i.pixels)).toEqual(b.map((i) => i.pixels));
    expect(a[0]?.pixels).not.toEqual(a[1]?.pixels);
  });
});

describe('shipped backbone (resources/models/fmnist-backbone)', () => {
  it('maps a [batch, 1, 28, 28] image in [0, 1] to 128 features', async () => {
    const path = join(embeddedModelDir('fmnist-backbone'), 'encoder.onnx');
    expect(await signature(path)).toEqual({
      inputs: { image: { type: 'float32', shape: ['dynamic', 1, 28, 28] } },
      outputs: { features: { type: 'float32', shape: ['dynamic', 128] } },
    });
    expect(encoder.dim).toBe(128);
    expect(statSync(path).size).toBeLessThan(20 * 2 ** 20);
  });

  it('gives the same features for an image as a file or as pixels, resized from any size', async () => {
    const sharp = (await import('sharp')).default;
    const pixels = Uint8Array.from({ length: 784 }, (_, i) => (i * 37) % 256);
    const png = await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    const big = await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } })
      .resize(112, 112, { kernel: 'nearest' })
      .toColourspace('srgb')
      .jpeg({ quality: 100 })
      .toBuffer();
    const [fromPixels, fromPng, fromBig] = await Promise.all([
      encoder.encodePixels([{ width: 28, height: 28, channels: 1, pixels }]),
      encoder.encode([png]),
      encoder.encode([big]),
    ]);
    expect(fromPng).toEqual(fromPixels);
    // A 4× upscaled colour JPEG comes back to nearly the same input, so nearly the same features.
    const cosine = (a: Float32Array, b: Float32Array) =>
      a.reduce((s, v, i) => s + v * (b[i] as number), 0) / Math.hypot(...a) / Math.hypot(...b);
    expect(cosine(fromBig, fromPixels)).toBeGreaterThan(0.9);
  });
});
