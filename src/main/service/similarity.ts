import { WinnowError } from '../errors.ts';
import type { Db } from '../store/database.ts';
import { encoderOfImage, loadFeatures } from '../store/features.ts';
import { getInstance, type Instance, listInstances } from '../store/instances.ts';
import { listRealSamples, type RealSample, SPLITS } from '../store/realSamples.ts';

/**
 * "Find similar": the nearest instances to one instance by cosine similarity of their cached
 * features (computed by `winnow run` or `winnow score`), so a curator can act on a whole cluster.
 */
function encoderOf(db: Db, hash: string, id: number): string {
  const encoder = encoderOfImage(db, hash);
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

/** The items nearest to a query image by cosine similarity of their cached features, most similar first. */
function nearest<T extends { imageHash: string }>(
  db: Db,
  encoder: string,
  queryHash: string,
  items: readonly T[],
  k: number,
) {
  const features = loadFeatures(db, encoder, [queryHash, ...items.map((i) => i.imageHash)]);
  const query = features.get(queryHash) as Float32Array;
  return items
    .flatMap((item) => {
      const v = features.get(item.imageHash);
      return v === undefined ? [] : [{ ...item, similarity: cosine(query, v) }];
    })
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, k);
}

function instanceOf(db: Db, id: number): Instance {
  const target = getInstance(db, id);
  if (target === undefined) throw new WinnowError(`There is no instance with id ${id}.`);
  return target;
}

/** The real samples nearest to an instance, so a curator can see what the class really looks like. */
export function nearestReal(db: Db, id: number, k: number): (RealSample & { similarity: number })[] {
  const target = instanceOf(db, id);
  const real = SPLITS.flatMap((split) => listRealSamples(db, split));
  return nearest(db, encoderOf(db, target.imageHash, id), target.imageHash, real, k);
}

export function similarInstances(
  db: Db,
  id: number,
  k: number,
  sameLabel: boolean,
): (Instance & { similarity: number })[] {
  const target = instanceOf(db, id);
  const candidates = listInstances(db, sameLabel ? { labelId: target.labelId } : {}).filter((i) => i.id !== id);
  return nearest(db, encoderOf(db, target.imageHash, id), target.imageHash, candidates, k);
}
