import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll } from 'vitest';
import { resourcesDir } from '../../src/main/models/embeddedModels.ts';
import { demoClassName } from '../../src/main/pipeline/demo.ts';
import { readIdxImages } from '../../src/main/pipeline/idx.ts';

const made: string[] = [];

/** A fresh temporary directory, removed when the test file is done. */
export function tempDir(prefix = 'winnow-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes a real 28×28 greyscale PNG whose pixels depend on `seed`, so different seeds give different files. */
export async function writePng(path: string, seed: number, format: 'png' | 'jpeg' = 'png'): Promise<void> {
  const pixels = Buffer.alloc(28 * 28);
  let state = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < pixels.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    pixels[i] = state & 0xff;
  }
  const image = sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).toColourspace('b-w');
  await (format === 'png' ? image.png() : image.jpeg()).toFile(path);
}

/** Writes an ImageFolder with `counts[label]` distinct images per class; seeds start at `firstSeed`. */
export async function makeImageFolder(root: string, counts: Record<string, number>, firstSeed = 1): Promise<void> {
  let seed = firstSeed;
  for (const [label, n] of Object.entries(counts)) {
    await mkdir(join(root, label), { recursive: true });
    for (let i = 0; i < n; i++) await writePng(join(root, label, `${label}-${i}.png`), seed++);
  }
}

/**
 * Writes an ImageFolder of `perClass` embedded Fashion-MNIST test images of each class (after its
 * first `skip`), under the demo's class names: real images the demo's train and validation splits do not hold.
 */
export async function writeFashionTestFolder(root: string, perClass: number, skip = 0): Promise<void> {
  const data = join(resourcesDir(), 'data', 'fashion-mnist');
  const names = (JSON.parse(readFileSync(join(data, 'classes.json'), 'utf8')) as string[]).map(demoClassName);
  const { images, labels } = readIdxImages(
    join(data, 'test-images-idx3-ubyte.gz'),
    join(data, 'test-labels-idx1-ubyte.gz'),
  );
  const seen = new Array<number>(names.length).fill(0);
  for (let i = 0; i < labels.length && seen.some((n) => n < skip + perClass); i++) {
    const label = labels[i] as number;
    seen[label]! += 1;
    if (seen[label]! <= skip || seen[label]! > skip + perClass) continue;
    const dir = join(root, names[label]!);
    await mkdir(dir, { recursive: true });
    const pixels = Buffer.from(images.data.subarray(i * 784, (i + 1) * 784));
    await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(join(dir, `${i}.png`));
  }
}
