import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Db } from '../store/database.ts';
import type { ImageStore, StoredImage } from '../store/imageStore.ts';
import { toPng, UnreadableImageError } from '../store/imageStore.ts';
import { findInstanceByHash } from '../store/instances.ts';
import { findRealSampleByHash } from '../store/realSamples.ts';
import type { Skipped } from './report.ts';

export interface Ingested<T> {
  readonly item: T;
  readonly image: StoredImage;
}

/**
 * Reads, fully decodes and stores each file's image (as PNG, content-addressed), a few at a time
 * (toPng bounds their memory). Unreadable or corrupt files are skipped with the reason; a failure to
 * write the project's image store is the project's, so it stops the import (naming the store).
 * Writing image files first and rows later is safe: a stored image no row points at is harmless and
 * is reused if imported again. An import calls this once per chunk (chunkedImport.ts).
 */
export async function ingestFiles<T extends { path: string }>(
  items: readonly T[],
  images: ImageStore,
  onProgress?: (done: number, total: number) => void,
): Promise<{ ingested: Ingested<T>[]; skipped: Skipped[] }> {
  const results: (Ingested<T> | Skipped)[] = new Array(items.length);
  let next = 0;
  let done = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < items.length && failure === undefined) {
      const index = next++;
      const item = items[index] as T;
      let decoded: Awaited<ReturnType<typeof toPng>>;
      try {
        decoded = await toPng(await readFile(item.path), item.path);
      } catch (error) {
        const reason =
          error instanceof UnreadableImageError
            ? `is not a readable image (${error.detail})`
            : `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
        results[index] = { path: item.path, reason };
        onProgress?.(++done, items.length);
        continue;
      }
      const { png, width, height, channels } = decoded;
      try {
        const hash = await images.put(png);
        results[index] = { item, image: { hash, width, height, channels, bytes: png.byteLength } };
        onProgress?.(++done, items.length);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, availableParallelism() * 2) }, worker));
  if (failure !== undefined) throw failure;
  const ingested: Ingested<T>[] = [];
  const skipped: Skipped[] = [];
  for (const r of results) {
    if ('image' in r) ingested.push(r);
    else skipped.push(r);
  }
  return { ingested, skipped };
}

/**
 * Why an image may not come in, or undefined when it may: it duplicates a real sample or a
 * synthetic instance already in the project, or (`earlier`) a file staged before it in the same import.
 */
export function duplicateReason(db: Db, hash: string, earlier?: string): string | undefined {
  const real = findRealSampleByHash(db, hash);
  if (real !== undefined) return `is a duplicate of real sample ${real.id} (${real.sourcePath ?? hash})`;
  const synthetic = findInstanceByHash(db, hash);
  if (synthetic !== undefined)
    return `is a duplicate of synthetic instance ${synthetic.id} (${synthetic.sourcePath ?? hash})`;
  if (earlier !== undefined) return `is a duplicate of ${earlier} in the same import`;
  return undefined;
}
