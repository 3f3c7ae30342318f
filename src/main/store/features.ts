import type { Db } from './database.ts';

function toBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

function fromBlob(blob: Buffer): Float32Array {
  // Copy: the Buffer may not be 4-byte aligned.
  return new Float32Array(new Uint8Array(blob).buffer);
}

export function saveFeatures(
  db: Db,
  encoderId: string,
  entries: Iterable<{ hash: string; vector: Float32Array }>,
): void {
  const insert = db.prepare('INSERT OR REPLACE INTO features (image_hash, encoder_id, vector) VALUES (?, ?, ?)');
  for (const e of entries) insert.run(e.hash, encoderId, toBlob(e.vector));
}

/** The cached features of the given images under an encoder; images without any are left out. */
export function loadFeatures(db: Db, encoderId: string, hashes: readonly string[]): Map<string, Float32Array> {
  const select = db.prepare<[string, string], { vector: Buffer }>(
    'SELECT vector FROM features WHERE image_hash = ? AND encoder_id = ?',
  );
  const out = new Map<string, Float32Array>();
  for (const hash of hashes) {
    const row = select.get(hash, encoderId);
    if (row) out.set(hash, fromBlob(row.vector));
  }
  return out;
}

/**
 * Copies the cached features of each image (under an encoder, `dim` floats) into its row of `out`
 * (row i for hashes[i]), with no object per image; returns the rows that have none.
 */
export function readFeaturesInto(
  db: Db,
  encoderId: string,
  hashes: readonly string[],
  out: Float32Array,
  dim: number,
): number[] {
  const select = db.prepare<[string, string], { vector: Buffer }>(
    'SELECT vector FROM features WHERE image_hash = ? AND encoder_id = ?',
  );
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  const missing: number[] = [];
  hashes.forEach((hash, i) => {
    const row = select.get(hash, encoderId);
    // Byte by byte: the Buffer may not be 4-byte aligned.
    if (row && row.vector.byteLength === dim * 4) bytes.set(row.vector, i * dim * 4);
    else missing.push(i);
  });
  return missing;
}

/** The encoder an image's features were cached under (the first, if several); undefined when none were. */
export function encoderOfImage(db: Db, hash: string): string | undefined {
  return db
    .prepare<[string], { encoderId: string }>(
      'SELECT encoder_id AS encoderId FROM features WHERE image_hash = ? LIMIT 1',
    )
    .get(hash)?.encoderId;
}

export interface Checkpoint {
  readonly head: Float32Array;
  readonly gradient: Float32Array | null;
  readonly state: unknown;
}

export function saveCheckpoint(db: Db, runId: number, roundIndex: number, c: Checkpoint): void {
  db.prepare(
    'INSERT OR REPLACE INTO checkpoints (run_id, round_index, head, gradient, state) VALUES (?, ?, ?, ?, ?)',
  ).run(runId, roundIndex, toBlob(c.head), c.gradient === null ? null : toBlob(c.gradient), JSON.stringify(c.state));
}

export function loadCheckpoint(db: Db, runId: number, roundIndex: number): Checkpoint | undefined {
  const row = db
    .prepare<[number, number], { head: Buffer; gradient: Buffer | null; state: string }>(
      'SELECT head, gradient, state FROM checkpoints WHERE run_id = ? AND round_index = ?',
    )
    .get(runId, roundIndex);
  return (
    row && {
      head: fromBlob(row.head),
      gradient: row.gradient && fromBlob(row.gradient),
      state: JSON.parse(row.state) as unknown,
    }
  );
}
