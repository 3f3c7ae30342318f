import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Db } from '../store/database.ts';
import type { ImageStore, StoredImage } from '../store/imageStore.ts';
import { toPng, UnreadableImageError } from '../store/imageStore.ts';
import { findInstanceByHash } from '../store/instances.ts';
import { findRealSampleByHash } from '../store/realSamples.ts';
import type { ImportProgress, Skipped } from './report.ts';

export interface Ingested<T> {
  readonly item: T;
  readonly image: StoredImage;
}

/**
 * Reads, fully decodes and stores each file's image (as PNG, content-addressed), a few at a time
 * (toPng bounds their memory). Unreadable or corrupt files are skipped with the reason; a failure to
 * write the project's image store is the project's, so it stops the import (naming the store).
 * Writing image files first and rows later is safe: a stored image no row points at is harmless and
 * is reused if imported again.
 */
export async function ingestFiles<T extends { path: string }>(
  items: readonly T[],
  images: ImageStore,
  onProgress?: ImportProgress,
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
 * Splits ingested images into new ones and duplicates: of an image already in the project (as a
 * real sample or a synthetic instance), or of an earlier file in the same import.
 */
export function dropDuplicates<T extends { path: string }>(
  db: Db,
  ingested: readonly Ingested<T>[],
): { fresh: Ingested<T>[]; skipped: Skipped[] } {
  const seen = new Map<string, string>();
  const fresh: Ingested<T>[] = [];
  const skipped: Skipped[] = [];
  for (const entry of ingested) {
    const { hash } = entry.image;
    const real = findRealSampleByHash(db, hash);
    const synthetic = findInstanceByHash(db, hash);
    const earlier = seen.get(hash);
    if (real !== undefined) {
      skipped.push({
        path: entry.item.path,
        reason: `is a duplicate of real sample ${real.id} (${real.sourcePath ?? hash})`,
      });
    } else if (synthetic !== undefined) {
      skipped.push({
        path: entry.item.path,
        reason: `is a duplicate of synthetic instance ${synthetic.id} (${synthetic.sourcePath ?? hash})`,
      });
    } else if (earlier !== undefined) {
      skipped.push({ path: entry.item.path, reason: `is a duplicate of ${earlier} in the same import` });
    } else {
      seen.set(hash, entry.item.path);
      fresh.push(entry);
    }
  }
  return { fresh, skipped };
}
