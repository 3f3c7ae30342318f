import { now } from './clock.ts';
import type { Db } from './database.ts';

export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

export interface RealSample {
  readonly id: number;
  readonly imageHash: string;
  readonly classId: number;
  readonly split: Split;
  readonly sourcePath: string | null;
}

export function insertRealSample(db: Db, sample: Omit<RealSample, 'id'>): number {
  return Number(
    db
      .prepare('INSERT INTO real_samples (image_hash, class_id, split, source_path, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(sample.imageHash, sample.classId, sample.split, sample.sourcePath, now()).lastInsertRowid,
  );
}

export function findRealSampleByHash(db: Db, hash: string): RealSample | undefined {
  return db
    .prepare<[string], RealSample>(
      'SELECT id, image_hash AS imageHash, class_id AS classId, split, source_path AS sourcePath FROM real_samples WHERE image_hash = ?',
    )
    .get(hash);
}

export function listRealSamples(db: Db, split: Split): RealSample[] {
  return db
    .prepare<[string], RealSample>(
      'SELECT id, image_hash AS imageHash, class_id AS classId, split, source_path AS sourcePath FROM real_samples WHERE split = ? ORDER BY id',
    )
    .all(split);
}
