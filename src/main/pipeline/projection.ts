import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { UMAP } from 'umap-js';
import type { MapStage } from '../../shared/api.ts';
import { seededUniform } from '../models/random.ts';

/**
 * A 2-D UMAP layout of feature vectors (umap-js), deterministic for a seed.
 *
 * umap-js runs in one thread, and its neighbour search and epochs grow with the points: fitting
 * 10,000 128-d points took 31 s here (12 s neighbours, 18 s for 200 epochs; 2 shared cores), so a
 * full fit of 100,000 would take many minutes. UMAP is therefore fitted on a seeded random
 * subsample of at most `fitSize` points and every other point is placed by umap-js's `transform`:
 * its nearest fitted points (the fit's own search graph), started at their weighted mean, then a
 * few epochs that move only the new point (the fitted layout never moves). 100,000 points of 128
 * dimensions took 403 s in all (bench/review-speed.ts, on 2 cores shared with other jobs): about
 * a third each for the fit's neighbours, its epochs, and placing the other 85,000. The result is
 * cached (src/main/service/embeddingsMap.ts), so that is paid once per set of images.
 */
export interface ProjectionSettings {
  readonly seed: number;
  /** At most this many points are fitted; the rest are placed by `transform`. */
  readonly fitSize: number;
  /** UMAP's neighbourhood size. */
  readonly neighbours: number;
  /** Points placed per `transform` call (the event loop runs between calls). */
  readonly placeChunk: number;
}

export const PROJECTION_DEFAULTS: ProjectionSettings = {
  seed: 1,
  fitSize: 15_000,
  neighbours: 15,
  placeChunk: 2_000,
};

export type ProjectionStage = Exclude<MapStage, 'features'>;

export interface ProjectionHooks {
  readonly signal?: AbortSignal;
  readonly onProgress?: (stage: ProjectionStage, done: number, total: number) => void;
}

/** Row `i` of a flat n × dim array as umap-js takes it. */
function row(features: Float32Array, dim: number, i: number): number[] {
  return Array.from(features.subarray(i * dim, (i + 1) * dim));
}

/** `count` distinct indices of [0, n), a seeded partial Fisher–Yates shuffle, in increasing order. */
export function seededSubsample(n: number, count: number, seed: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const uniform = seededUniform(seed);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(uniform() * (n - i));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order.subarray(0, count).sort();
}

/**
 * The layout of n = features.length / dim points: a flat [x0, y0, x1, y1, …] array, scaled so the
 * layout spans [-1, 1] on its longer side (what the scatterplot's normalised space expects).
 * Fewer points than UMAP's neighbourhood needs are laid out on a line (there is nothing to fit).
 */
export async function projectTo2d(
  features: Float32Array,
  dim: number,
  settings: ProjectionSettings = PROJECTION_DEFAULTS,
  hooks: ProjectionHooks = {},
): Promise<Float32Array> {
  const n = dim === 0 ? 0 : features.length / dim;
  const out = new Float32Array(2 * n);
  if (n <= settings.neighbours + 1) {
    for (let i = 0; i < n; i++) out[2 * i] = n === 1 ? 0 : (2 * i) / (n - 1) - 1;
    return out;
  }
  const fitted =
    n <= settings.fitSize
      ? Int32Array.from({ length: n }, (_, i) => i)
      : seededSubsample(n, settings.fitSize, settings.seed);
  const umap = new UMAP({ nNeighbors: settings.neighbours, random: seededUniform(settings.seed) });
  hooks.onProgress?.('neighbours', 0, 1);
  await yieldToEventLoop();
  const epochs = umap.initializeFit(Array.from(fitted, (i) => row(features, dim, i)));
  hooks.onProgress?.('neighbours', 1, 1);
  for (let epoch = 0; epoch < epochs; epoch++) {
    hooks.signal?.throwIfAborted();
    umap.step();
    if (epoch % 10 === 9 || epoch === epochs - 1) {
      hooks.onProgress?.('layout', epoch + 1, epochs);
      await yieldToEventLoop();
    }
  }
  umap.getEmbedding().forEach((point, k) => out.set(point, 2 * (fitted[k] as number)));

  const isFitted = new Uint8Array(n);
  for (const i of fitted) isFitted[i] = 1;
  const rest = Int32Array.from({ length: n }, (_, i) => i).filter((i) => isFitted[i] === 0);
  // A chunk as large as the fit would make umap-js move the fitted points too (it tells fit from
  // transform by the two embeddings' lengths).
  const chunk = Math.min(settings.placeChunk, settings.fitSize - 1);
  for (let start = 0; start < rest.length; start += chunk) {
    hooks.signal?.throwIfAborted();
    const ids = rest.subarray(start, start + chunk);
    umap
      .transform(Array.from(ids, (i) => row(features, dim, i)))
      .forEach((point, k) => out.set(point, 2 * (ids[k] as number)));
    hooks.onProgress?.('place', Math.min(rest.length, start + chunk), rest.length);
    await yieldToEventLoop();
  }
  return normalise(out);
}

/** Centres the layout and scales its longer side to [-1, 1]. */
function normalise(xy: Float32Array): Float32Array {
  const range = [0, 1].map((axis) => {
    let low = Infinity;
    let high = -Infinity;
    for (let i = axis; i < xy.length; i += 2) {
      low = Math.min(low, xy[i] as number);
      high = Math.max(high, xy[i] as number);
    }
    return { low, high };
  });
  const half = Math.max(...range.map((r) => r.high - r.low)) / 2 || 1;
  return xy.map((v, i) => {
    const { low, high } = range[i % 2] as { low: number; high: number };
    return (v - (low + high) / 2) / half;
  });
}
