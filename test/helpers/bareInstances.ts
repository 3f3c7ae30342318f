// Many synthetic instances at once, for the speed tests and benches: an image row each (no file)
// and an instance of one of the classes in turn, labelled as made.
import type { Db } from '../../src/main/store/database.ts';

/** Adds `n` instances, the k-th of class classIds[k % classIds.length]; returns their ids in order. */
export function addBareInstances(db: Db, n: number, classIds: readonly number[]): number[] {
  const image = db.prepare(
    "INSERT INTO images (hash, width, height, channels, bytes, created_at) VALUES (?, 28, 28, 1, 100, '')",
  );
  const instance = db.prepare(
    "INSERT INTO instances (image_hash, class_id, label_id, source, created_at) VALUES (?, ?, ?, 'generated', '')",
  );
  return db.transaction(() =>
    Array.from({ length: n }, (_, i) => {
      const hash = i.toString(16).padStart(64, '0');
      const classId = classIds[i % classIds.length] as number;
      image.run(hash);
      return Number(instance.run(hash, classId, classId).lastInsertRowid);
    }),
  )();
}
