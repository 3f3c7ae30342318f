/** A file or entry that was not imported or exported, and why. */
export interface Skipped {
  readonly path: string;
  readonly reason: string;
}

/** What an import did. Anything skipped is listed; everything else went in, in one transaction. */
export interface ImportReport {
  readonly imported: number;
  readonly classesCreated: readonly string[];
  readonly skipped: readonly Skipped[];
  /** How many chunks the files were read and staged in (chunkedImport.ts). */
  readonly chunks: number;
}

/**
 * Called as an import goes: while it reads its images (`read`), `done` of the `total` files it found
 * (read or skipped); while it commits (`commit`), `done` of the `total` staged files written.
 */
export type ImportProgress = (done: number, total: number, stage: 'read' | 'commit') => void;

export interface ImportOptions {
  readonly onProgress?: ImportProgress;
  /** Files read, stored and staged at a time: what an import holds in memory (default: DEFAULT_IMPORT_CHUNK). */
  readonly chunkSize?: number;
  /** Stops the import between chunks, before its commit: nothing of it is kept. */
  readonly signal?: AbortSignal;
}
