import { WinnowError } from '../errors.ts';
import type { Db } from '../store/database.ts';
import { loadFeatures } from '../store/features.ts';
import { getInstance, type Instance, listInstances } from '../store/instances.ts';

/**
 * "Find similar": the nearest instances to one instance by cosine similarity of their cached
 * features (computed by `winnow run` or `winnow score`), so a curator can act on a whole cluster.
 */
export function similarInstances(
  db: Db,
  id: number,
  k: number,
  sameLabel: boolean,
): (Instance & { similarity: number })[] {
  const target = getInstance(db, id);
  if (target === undefined) throw new WinnowError(`There is no instance with id ${id}.`);
  const encoder = db
    .prepare<[string], { encoderId: string }>(
      'SELECT encoder_id AS encoderId FROM features WHERE image_hash = ? LIMIT 1',
    )
    .get(target.imageHash)?.encoderId;
  if (encoder === undefined) {
    throw new WinnowError(`Instance ${id} has no features yet.`, 'Score the project first (`winnow score` or a run).');
  }
  const candidates = listInstances(db, sameLabel ? { labelId: target.labelId } : {}).filter((i) => i.id !== id);
  const features = loadFeatures(db, encoder, [target.imageHash, ...candidates.map((c) => c.imageHash)]);
  const query = features.get(target.imageHash) as Float32Array;
  const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const queryNorm = norm(query);
  return candidates
    .flatMap((c) => {
      const v = features.get(c.imageHash);
      if (v === undefined) return [];
      let dot = 0;
      for (let d = 0; d < v.length; d++) dot += (v[d] as number) * (query[d] as number);
      return [{ ...c, similarity: dot / (norm(v) * queryNorm || 1) }];
    })
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, k);
}
