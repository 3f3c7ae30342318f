import { readFile } from 'node:fs/promises';
import type { ImageEncoder } from '../models/imageEncoder.ts';
import { writeTransaction } from '../store/database.ts';
import { loadFeatures, saveFeatures } from '../store/features.ts';
import type { Project } from '../store/project.ts';

/**
 * Features of stored images under an encoder, computed once and cached in the project, so that
 * re-scoring every round costs no image decoding. Returns a flat n × dim array in `hashes` order.
 */
export async function featuresOf(
  project: Project,
  encoder: ImageEncoder,
  hashes: readonly string[],
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<Float32Array> {
  const cached = loadFeatures(project.db, encoder.id, hashes);
  const missing = [...new Set(hashes.filter((h) => !cached.has(h)))];
  for (let start = 0; start < missing.length; start += 512) {
    options.signal?.throwIfAborted();
    const chunk = missing.slice(start, start + 512);
    const files = await Promise.all(chunk.map((h) => readFile(project.images.pathOf(h))));
    const vectors = await encoder.encode(files);
    const entries = chunk.map((hash, k) => ({ hash, vector: vectors.slice(k * encoder.dim, (k + 1) * encoder.dim) }));
    writeTransaction(project.db, () => saveFeatures(project.db, encoder.id, entries));
    for (const e of entries) cached.set(e.hash, e.vector);
    options.onProgress?.(Math.min(missing.length, start + chunk.length), missing.length);
  }
  const out = new Float32Array(hashes.length * encoder.dim);
  hashes.forEach((h, i) => out.set(cached.get(h) as Float32Array, i * encoder.dim));
  return out;
}
