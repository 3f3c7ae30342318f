import type { Db } from './database.ts';

/** Encoders by how many images have cached features under them, most first (ties by id). */
export function encodersByFeatureCount(db: Db): { encoderId: string; images: number }[] {
  return db
    .prepare<[], { encoderId: string; images: number }>(
      `SELECT encoder_id AS encoderId, count(*) AS images FROM features
       GROUP BY encoder_id ORDER BY images DESC, encoder_id`,
    )
    .all();
}

/** The images that have cached features under an encoder. */
export function hashesWithFeatures(db: Db, encoderId: string): Set<string> {
  return new Set(
    db
      .prepare<[string], { hash: string }>('SELECT image_hash AS hash FROM features WHERE encoder_id = ?')
      .all(encoderId)
      .map((r) => r.hash),
  );
}
