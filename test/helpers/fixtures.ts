import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll } from 'vitest';

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
