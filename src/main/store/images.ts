import { now } from './clock.ts';
import type { Db } from './database.ts';
import type { StoredImage } from './imageStore.ts';

/** Records a stored image's metadata; recording the same hash again is a no-op. */
export function recordImage(db: Db, image: StoredImage): void {
  db.prepare(
    'INSERT OR IGNORE INTO images (hash, width, height, channels, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(image.hash, image.width, image.height, image.channels, image.bytes, now());
}

export function imageSize(db: Db, hash: string): { width: number; height: number } | undefined {
  return db
    .prepare<[string], { width: number; height: number }>('SELECT width, height FROM images WHERE hash = ?')
    .get(hash);
}
