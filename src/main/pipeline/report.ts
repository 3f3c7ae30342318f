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
}

/** Called as an import reads its images: `done` of the `total` files it found (read or skipped). */
export type ImportProgress = (done: number, total: number) => void;
