import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MapPoints, MapStage } from '../../shared/api.ts';
import { DEFAULT_SCORE_KIND } from '../../shared/scoreKinds.ts';
import { WinnowError } from '../errors.ts';
import { PROJECTION_DEFAULTS, type ProjectionSettings, projectTo2d } from '../pipeline/projection.ts';
import { writeFileAtomic } from '../store/atomicFile.ts';
import { encodersByFeatureCount, hashesWithFeatures } from '../store/featureIndex.ts';
import { loadFeatures } from '../store/features.ts';
import { effectiveStatus, listInstances } from '../store/instances.ts';
import type { Project } from '../store/project.ts';
import { listRealSamples, SPLITS } from '../store/realSamples.ts';
import { latestScoresOf } from '../store/scores.ts';

/** The layout cache in the project's folder: the key's 32-byte SHA-256, then x, y per point (float32). */
export const MAP_CACHE_FILE = 'embeddings-map.bin';

/**
 * realism = log(t / r), with r the instance's mean distance to its label's k nearest real images and
 * t the same among that label's real images (src/main/learn/neighbours.ts). Below log(1/2) the
 * instance is more than twice as far from its label's real images as they typically are from each
 * other: outside the real images' spread, not merely at its edge.
 */
export const FAR_BELOW = Math.log(1 / 2);

interface Source {
  readonly id: number;
  readonly imageHash: string;
  readonly labelId: number;
  readonly status: MapPoints['status'][number];
  readonly round: number | null;
}

/** Layouts being computed, per project, so that a second request waits for the first's. */
const computing = new WeakMap<Project, { key: string; layout: Promise<Float32Array> }>();

/**
 * The embeddings map of a project: every real image and instance with features under the encoder
 * most images have them under, laid out by UMAP once and cached in the project's folder under a key
 * of the encoder, the layout settings and the points' images, so reopening the map (or opening it
 * after a curation, which changes no image) reads the file instead of computing.
 */
export async function embeddingsMap(
  project: Project,
  onProgress: (stage: MapStage, done: number, total: number) => void = () => undefined,
  settings: ProjectionSettings = PROJECTION_DEFAULTS,
): Promise<MapPoints> {
  const { db } = project;
  const encoderId = encodersByFeatureCount(db)[0]?.encoderId;
  if (encoderId === undefined)
    throw new WinnowError(
      'No image of the project has features yet, and the map lays out features.',
      'Run a loop round or `winnow score` first.',
    );
  const withFeatures = hashesWithFeatures(db, encoderId);
  const real: Source[] = SPLITS.flatMap((split) => listRealSamples(db, split))
    .sort((a, b) => a.id - b.id)
    .map((r) => ({ id: r.id, imageHash: r.imageHash, labelId: r.classId, status: null, round: null }));
  const synthetic: Source[] = listInstances(db).map((i) => ({
    id: i.id,
    imageHash: i.imageHash,
    labelId: i.labelId,
    status: effectiveStatus(i),
    round: i.roundIndex,
  }));
  const mapped = (s: Source) => withFeatures.has(s.imageHash);
  const points = [...real.filter(mapped), ...synthetic.filter(mapped)];
  const realCount = real.filter(mapped).length;

  const started = performance.now();
  const key = layoutKey(encoderId, settings, points);
  const path = join(project.dir, MAP_CACHE_FILE);
  let layout = await readCachedLayout(path, key, points.length);
  const cached = layout !== undefined;
  if (layout === undefined) {
    let job = computing.get(project);
    if (job?.key !== key) {
      job = { key, layout: computeLayout(project, encoderId, points, settings, onProgress, path, key) };
      computing.set(project, job);
      const clear = () => computing.get(project) === job && computing.delete(project);
      job.layout.then(clear, clear);
    }
    layout = await job.layout;
  }

  const quality = latestScoresOf(db, DEFAULT_SCORE_KIND);
  const realism = latestScoresOf(db, 'realism');
  const ofInstance = (scores: Map<number, number>, i: number) =>
    i < realCount ? null : round(scores.get((points[i] as Source).id) ?? null, 1e4);
  const realismOf = points.map((_, i) => ofInstance(realism, i));
  return {
    encoderId,
    cached,
    seconds: cached ? 0 : (performance.now() - started) / 1000,
    fitted: Math.min(points.length, settings.fitSize),
    withoutFeatures: real.length + synthetic.length - points.length,
    farBelow: FAR_BELOW,
    real: realCount,
    x: points.map((_, i) => round(layout[2 * i] as number, 1e5)),
    y: points.map((_, i) => round(layout[2 * i + 1] as number, 1e5)),
    id: points.map((p) => p.id),
    imageHash: points.map((p) => p.imageHash),
    labelId: points.map((p) => p.labelId),
    status: points.map((p) => p.status),
    round: points.map((p) => p.round),
    quality: points.map((_, i) => ofInstance(quality, i)),
    realism: realismOf,
    far: realismOf.map((r) => r !== null && r < FAR_BELOW),
  };
}

/** Rounded to 1/scale: the map needs no more, and the columns cross the wire as JSON. */
function round<T extends number | null>(value: T, scale: number): T {
  return (value === null ? null : Math.round(value * scale) / scale) as T;
}

/** What a layout depends on: the encoder, the settings, and the points' images in order. */
function layoutKey(encoderId: string, settings: ProjectionSettings, points: readonly Source[]): string {
  const hash = createHash('sha256').update(JSON.stringify({ encoderId, settings }));
  for (const p of points) hash.update(p.imageHash);
  return hash.digest('hex');
}

async function readCachedLayout(path: string, key: string, n: number): Promise<Float32Array | undefined> {
  let file: Buffer;
  try {
    file = await readFile(path);
  } catch {
    return undefined;
  }
  if (file.byteLength !== 32 + 8 * n || file.subarray(0, 32).toString('hex') !== key) return undefined;
  // Copy: the Buffer's offset in its pool need not be 4-byte aligned.
  return new Float32Array(new Uint8Array(file.subarray(32)).buffer);
}

async function computeLayout(
  project: Project,
  encoderId: string,
  points: readonly Source[],
  settings: ProjectionSettings,
  onProgress: (stage: MapStage, done: number, total: number) => void,
  path: string,
  key: string,
): Promise<Float32Array> {
  onProgress('features', 0, points.length);
  const vectors = loadFeatures(
    project.db,
    encoderId,
    points.map((p) => p.imageHash),
  );
  const dim = vectors.values().next().value?.length ?? 0;
  const features = new Float32Array(points.length * dim);
  points.forEach((p, i) => features.set(vectors.get(p.imageHash) as Float32Array, i * dim));
  onProgress('features', points.length, points.length);
  const layout = await projectTo2d(features, dim, settings, { onProgress });
  await writeFileAtomic(path, Buffer.concat([Buffer.from(key, 'hex'), Buffer.from(layout.buffer)]));
  return layout;
}
