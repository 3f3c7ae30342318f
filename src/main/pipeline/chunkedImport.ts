import { writeTransaction } from '../store/database.ts';
import { recordImage } from '../store/images.ts';
import {
  beginPendingImport,
  dropPendingImport,
  dropStaleImports,
  heartbeatPendingImport,
  markImportCommitting,
  type StagedFile,
  stageFiles,
  stagedCount,
  stagedPage,
  stagedPathOf,
} from '../store/importStaging.ts';
import { beatEvery } from '../store/leases.ts';
import type { Project } from '../store/project.ts';
import { type ImageFolderEntry, type ImageFolderFile, isSkipped } from './imageFolder.ts';
import { duplicateReason, ingestFiles } from './ingest.ts';
import type { ImportOptions, Skipped } from './report.ts';

/**
 * Files read, decoded, stored and staged at a time. Measured on the 2-core build machine with
 * 28×28 images (bench/scale.ts): larger chunks were no faster, and this bounds what a chunk holds
 * (its PNGs while they are written) to a few MB even for large images.
 */
export const DEFAULT_IMPORT_CHUNK = 2000;

/** Staged rows moved into the project per statement batch of the commit. */
const COMMIT_PAGE = 5000;

/** How one kind of import (real, synthetic) turns files into rows. */
export interface Importer<R, T> {
  /** Once the import is pending, before the walk: what it stages besides images (a synthetic import's metadata). */
  begin?(importId: number): Promise<void>;
  /** The row to stage for a file, a reason to leave it out, or null when it is left out and already reported. */
  rowOf(file: ImageFolderFile): { row: R } | Skipped | null;
  /**
   * Inside the commit's transaction: the writer of each staged file (its image is recorded already)
   * and, once all are written, the import's result from the number written.
   */
  commit(): { write(file: StagedFile<R>): void; finish(imported: number): T };
}

/**
 * Imports an ImageFolder in bounded memory, atomically. The folder is walked once to count its
 * entries (for the progress and ETA), then again in chunks of `chunkSize` files: each chunk is
 * decoded and stored (ingestFiles) and its rows staged in one short transaction (store/importStaging.ts),
 * so memory holds one chunk, never the set. One transaction at the end moves the staged rows where
 * screens and exports see them, checking duplicates again (another process may have imported the
 * same image meanwhile), and drops the staging. So nothing of an import is visible until all of it
 * is: a failed import drops its staging; a killed one leaves staged rows no reader sees, dropped
 * by the next import or when the project is opened. Importing the folder again starts over (its
 * images are already in the store, so only decoding is repeated).
 * Memory that still grows with the folder: the skipped files' reasons, and the largest single
 * folder's listing while it is walked.
 */
export async function importChunked<R, T>(
  project: Project,
  walk: () => AsyncIterable<ImageFolderEntry>,
  importer: Importer<R, T>,
  { onProgress, chunkSize = DEFAULT_IMPORT_CHUNK, signal }: ImportOptions = {},
): Promise<T & { skipped: Skipped[]; chunks: number }> {
  const { db } = project;
  const total = await count(walk());
  writeTransaction(db, () => dropStaleImports(db));
  const importId = writeTransaction(db, () => beginPendingImport(db));
  // Alive while it works, not only when a chunk is saved: a slow chunk or metadata step must not
  // look dead to another process opening the project (which would drop its staging).
  const beat = beatEvery(() => heartbeatPendingImport(db, importId));
  const skipped: Skipped[] = [];
  let done = 0;
  let seq = 0;
  let chunks = 0;
  try {
    await importer.begin?.(importId);
    onProgress?.(0, total, 'read');
    let chunk: { path: string; row: R }[] = [];
    const flush = async () => {
      signal?.throwIfAborted();
      const base = done;
      const ingested = await ingestFiles(chunk, project.images, (d) => onProgress?.(base + d, total, 'read'));
      skipped.push(...ingested.skipped);
      writeTransaction(db, () => {
        for (const { item, image } of ingested.ingested) {
          const reason = duplicateReason(db, image.hash, stagedPathOf(db, importId, image.hash));
          // Staged one by one: a later file of the same chunk with the same image must find this one.
          if (reason === undefined) stageFiles(db, importId, [{ seq: ++seq, image, path: item.path, row: item.row }]);
          else skipped.push({ path: item.path, reason });
        }
      });
      done = base + chunk.length;
      chunks++;
      chunk = [];
    };
    for await (const entry of walk()) {
      const prepared = isSkipped(entry) ? entry : importer.rowOf(entry);
      if (prepared === null || 'reason' in prepared) {
        if (prepared !== null) skipped.push(prepared);
        onProgress?.(++done, total, 'read');
        continue;
      }
      chunk.push({ path: entry.path, row: prepared.row });
      if (chunk.length >= chunkSize) await flush();
    }
    if (chunk.length > 0) await flush();
    signal?.throwIfAborted();
    writeTransaction(db, () => markImportCommitting(db, importId));
    const result = writeTransaction(db, () => {
      const { write, finish } = importer.commit();
      const staged = stagedCount(db, importId);
      let imported = 0;
      let written = 0;
      for (let page = stagedPage<R>(db, importId, 0, COMMIT_PAGE); page.length > 0;) {
        for (const file of page) {
          const reason = duplicateReason(db, file.image.hash);
          if (reason !== undefined) skipped.push({ path: file.path, reason });
          else {
            recordImage(db, file.image);
            write(file);
            imported++;
          }
        }
        written += page.length;
        onProgress?.(written, staged, 'commit');
        page = stagedPage<R>(db, importId, page.at(-1)!.seq, COMMIT_PAGE);
      }
      const outcome = finish(imported);
      dropPendingImport(db, importId);
      return outcome;
    });
    return { ...result, skipped, chunks };
  } catch (error) {
    try {
      writeTransaction(db, () => dropPendingImport(db, importId));
    } catch {
      // The project cannot be written (the disk is full, say): the staging is dropped by the next import.
    }
    throw error;
  } finally {
    clearInterval(beat);
  }
}

/** How many entries an iterable yields, holding none of them. */
async function count(entries: AsyncIterable<unknown>): Promise<number> {
  const iterator = entries[Symbol.asyncIterator]();
  let n = 0;
  while (!(await iterator.next()).done) n++;
  return n;
}
