// A generator that is often wrong, for benchmarks (`bench/loop-filters.ts --wrong 0.4`): asked for a
// class, it draws that class's look-alike instead for a share of its images, as Stable Diffusion draws
// a bunny for the LVIS class "bun". The embedded generator is wrong too seldom (about one image in
// ten) to show whether a filter's rejections are enough when many images are wrong. The pseudo-label
// stays the class asked for, so a swapped image is a wrong label the filter should reject.
import type { GenerationItem, Generator } from '../src/main/models/generator.ts';
import { seededUniform } from '../src/main/models/random.ts';

/**
 * Each demo class and the one it is most often mistaken for in Fashion-MNIST (the pairs a classifier
 * mixes up). The generator's own class embeddings are all about equally far apart, so nearness there
 * says nothing about which classes look alike.
 */
export const LOOK_ALIKES: Readonly<Record<string, string>> = {
  't-shirt': 'shirt',
  trouser: 'dress',
  pullover: 'coat',
  dress: 'coat',
  coat: 'pullover',
  sandal: 'sneaker',
  shirt: 't-shirt',
  sneaker: 'sandal',
  bag: 't-shirt',
  'ankle boot': 'sneaker',
};

/** Whether the image with this noise seed is drawn as its class's look-alike: one fixed draw per seed. */
export function isSwapped(seed: number, share: number): boolean {
  return seededUniform(seed ^ 0x5bd1e995)() < share;
}

/**
 * Wraps `inner` (a generator that knows the demo's class names) so that each image whose seed
 * `isSwapped` is conditioned on the look-alike of the class nearest its conditioning, with the same
 * offset from it: a perturbation the loop's conditioning search chose is kept, only the class moves.
 */
export async function lookAlikeGenerator(inner: Generator, share: number): Promise<Generator> {
  const names = Object.keys(LOOK_ALIKES);
  const encode = async (name: string) => (await inner.encodePrompt(name)).conditioning;
  const own = await Promise.all(names.map(encode));
  const alike = await Promise.all(names.map((name) => encode(LOOK_ALIKES[name] as string)));
  const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, v, i) => sum + v * (b[i] as number), 0);
  // The class embeddings have one norm, so the largest inner product is the nearest class.
  const nearest = (c: Float32Array) => {
    const products = own.map((e) => dot(c, e));
    return products.indexOf(Math.max(...products));
  };
  const swap = (item: GenerationItem): GenerationItem => {
    if (!isSwapped(item.seed, share)) return item;
    const k = nearest(item.conditioning);
    const from = own[k] as Float32Array;
    const to = alike[k] as Float32Array;
    return { ...item, conditioning: item.conditioning.map((v, i) => v - (from[i] as number) + (to[i] as number)) };
  };
  return {
    id: `${inner.id}+look-alikes-${share}`,
    provider: inner.provider,
    providerReason: inner.providerReason,
    defaults: inner.defaults,
    encodePrompt: (prompt) => inner.encodePrompt(prompt),
    sampling: (steps) => inner.sampling(steps),
    generate: (items, options) => inner.generate(items.map(swap), options),
    dispose: () => inner.dispose(),
  };
}
