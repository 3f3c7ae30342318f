import { WinnowError } from '../errors.ts';
import type { Db } from '../store/database.ts';
import { loadFeatures } from '../store/features.ts';
import { getInstance, type Instance, listInstances } from '../store/instances.ts';
import { listRealSamples, type RealSample, SPLITS } from '../store/realSamples.ts';

/**
 * "Find similar": the nearest instances to one instance by cosine similarity of their cached
 * features (computed by `winnow run` or `winnow score`), so a curator can act on a whole cluster.
 */
function encoderOf(db: Db, hash: string, id: number): string {
  const encoder = db
    .prepare<[string], { encoderId: string }>(
      'SELECT encoder_id AS encoderId FROM features WHERE image_hash = ? LIMIT 1',
    )
    .get(hash)?.encoderId;
  if (encoder === undefined) {
    throw new WinnowError(`Instance ${id} has no features yet.`, 'Score the project first (`winnow score` or a run).');
  }
  return encoder;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let d = 0; d < a.length; d++) {
    dot += (a[d] as number) * (b[d] as number);
    na += (a[d] as number) ** 2;
    nb += (b[d] as number) ** 2;
  }
  return dot / (Math.sqrt(na * nb) || 1);
}

/** The real samples nearest to an instance, so a curator can see what the class really looks like. */
export function nearestReal(db: Db, id: number, k: number): (RealSample & { similarity: number })[] {
  const target = getInstance(db, id);
  if (target === undefined) throw new WinnowError(`There is no instance with id ${id}.`);
  const encoder = encoderOf(db, target.imageHash, id);
  const real = SPLITS.flatMap((split) => listRealSamples(db, split));
  const features = loadFeatures(db, encoder, [target.imageHash, ...real.map((r) => r.imageHash)]);
  const query = features.get(target.imageHash) as Float32Array;
  return real
    .flatMap((r) => {
      const v = features.get(r.imageHash);
      return v === undefined ? [] : [{ ...r, similarity: cosine(query, v) }];
    })
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, k);
}

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
  return candidates
    .flatMap((c) => {
      const v = features.get(c.imageHash);
      return v === undefined ? [] : [{ ...c, similarity: cosine(query, v) }];
    })
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, k);
}
