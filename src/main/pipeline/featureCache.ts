import { readFile } from 'node:fs/promises';
import type { ImageEncoder } from '../models/imageEncoder.ts';
import { writeTransaction } from '../store/database.ts';
import { readFeaturesInto, saveFeatures } from '../store/features.ts';
import type { Project } from '../store/project.ts';

/**
 * Features of stored images under an encoder, computed once and cached in the project, so that
 * re-scoring every round costs no image decoding. Returns a flat n × dim array in `hashes` order:
 * cached rows are copied straight into it and missing ones encoded 512 images at a time, so it is
 * the one thing held whole (a million 128-float rows: 512 MB).
 */
export async function featuresOf(
  project: Project,
  encoder: ImageEncoder,
  hashes: readonly string[],
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<Float32Array> {
  const out = new Float32Array(hashes.length * encoder.dim);
  const missing = readFeaturesInto(project.db, encoder.id, hashes, out, encoder.dim);
  for (let start = 0; start < missing.length; start += 512) {
    options.signal?.throwIfAborted();
    const rows = missing.slice(start, start + 512);
    // An image listed twice in a chunk is encoded once (hashes are unique per instance and per real sample).
    const chunk = [...new Set(rows.map((r) => hashes[r] as string))];
    const files = await Promise.all(chunk.map((h) => readFile(project.images.pathOf(h))));
    const vectors = await encoder.encode(files);
    const entries = chunk.map((hash, k) => ({ hash, vector: vectors.slice(k * encoder.dim, (k + 1) * encoder.dim) }));
    writeTransaction(project.db, () => saveFeatures(project.db, encoder.id, entries));
    const vectorOf = new Map(entries.map((e) => [e.hash, e.vector]));
    for (const r of rows) out.set(vectorOf.get(hashes[r] as string)!, r * encoder.dim);
    options.onProgress?.(start + rows.length, missing.length);
  }
  return out;
}
