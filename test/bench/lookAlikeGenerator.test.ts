import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSwapped, LOOK_ALIKES, lookAlikeGenerator } from '../../bench/lookAlikeGenerator.ts';
import { perturb } from '../../src/main/models/conditioning.ts';
import { EmbeddedGenerator } from '../../src/main/models/embeddedGenerator.ts';
import { EMBEDDED_GENERATOR, embeddedModelDir } from '../../src/main/models/embeddedModels.ts';
import type { GenerationItem, RawImage } from '../../src/main/models/generator.ts';

// The often-wrong generator of `bench/loop-filters.ts --wrong`, on the real embedded generator: the
// images it swaps are the look-alike class's own images, the others are untouched.
describe('the look-alike generator', () => {
  let inner: EmbeddedGenerator;
  beforeAll(async () => {
    inner = await EmbeddedGenerator.load(embeddedModelDir(EMBEDDED_GENERATOR));
  });
  afterAll(() => inner.dispose());

  const options = { guidanceScale: 3, steps: 4 };
  const meanAbsDiff = (a: RawImage, b: RawImage) =>
    a.pixels.reduce((sum, v, i) => sum + Math.abs(v - (b.pixels[i] as number)), 0) / a.pixels.length;
  const conditioning = async (name: string) => (await inner.encodePrompt(name)).conditioning;

  it('swaps a fixed draw per seed, in the share asked for', () => {
    const seeds = Array.from({ length: 20_000 }, (_, k) => k);
    const share = seeds.filter((s) => isSwapped(s, 0.4)).length / seeds.length;
    expect(share).toBeGreaterThan(0.38);
    expect(share).toBeLessThan(0.42);
    expect(seeds.map((s) => isSwapped(s, 0.4))).toEqual(seeds.map((s) => isSwapped(s, 0.4)));
    expect(seeds.some((s) => isSwapped(s, 0))).toBe(false);
  });

  it('draws a swapped seed as the look-alike class, keeping the perturbation, and the others as asked', async () => {
    const wrong = await lookAlikeGenerator(inner, 0.5);
    const seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const swapped = seeds.find((s) => isSwapped(s, 0.5))!;
    const kept = seeds.find((s) => !isSwapped(s, 0.5))!;
    const item = async (name: string, seed: number): Promise<GenerationItem> => ({
      conditioning: perturb(await conditioning(name), 0.3, seed),
      seed,
    });
    for (const name of ['pullover', 'sandal']) {
      const asked = [await item(name, swapped), await item(name, kept)];
      const [swappedImage, keptImage] = await wrong.generate(asked, options);
      const [alike] = await inner.generate([await item(LOOK_ALIKES[name]!, swapped)], options);
      const [askedSwapped, askedKept] = await inner.generate(asked, options);
      // The look-alike's perturbed conditioning with the same noise: the same image but for rounding.
      expect(meanAbsDiff(swappedImage!, alike!)).toBeLessThan(0.5);
      expect(meanAbsDiff(swappedImage!, askedSwapped!)).toBeGreaterThan(5);
      expect(meanAbsDiff(keptImage!, askedKept!)).toBe(0);
    }
  });
});
