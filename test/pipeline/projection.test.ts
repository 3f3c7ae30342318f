import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gaussianClusters } from '../../bench/gaussianClusters.ts';
import { projectTo2d, type ProjectionSettings } from '../../src/main/pipeline/projection.ts';
import { embeddingsMap, FAR_BELOW, MAP_CACHE_FILE } from '../../src/main/service/embeddingsMap.ts';
import { addClass } from '../../src/main/store/classes.ts';
import { curate } from '../../src/main/store/curation.ts';
import { saveFeatures } from '../../src/main/store/features.ts';
import { recordImage } from '../../src/main/store/images.ts';
import type { Project } from '../../src/main/store/project.ts';
import { insertRealSample } from '../../src/main/store/realSamples.ts';
import { createRun, ensureRound } from '../../src/main/store/runs.ts';
import { recordScores } from '../../src/main/store/scores.ts';
import { getInstance } from '../../src/main/store/instances.ts';
import { addInstance, newProject } from '../helpers/scoredProject.ts';

const D = 16;
const SMALL: ProjectionSettings = { seed: 7, fitSize: 10_000, neighbours: 10, placeChunk: 100 };

/** The k nearest other rows of a flat n × dim array (squared Euclidean), per row. */
function nearest(points: Float32Array, dim: number, k: number): number[][] {
  const n = points.length / dim;
  return Array.from({ length: n }, (_, i) => {
    const d = Array.from({ length: n }, (_, j) => {
      let s = 0;
      for (let c = 0; c < dim; c++) s += ((points[i * dim + c] as number) - (points[j * dim + c] as number)) ** 2;
      return { j, s: j === i ? Infinity : s };
    });
    return d
      .sort((a, b) => a.s - b.s)
      .slice(0, k)
      .map((e) => e.j);
  });
}

/** The mean share of each point's k nearest in feature space that are among its k nearest on the map. */
function neighboursKept(
  features: Float32Array,
  layout: Float32Array,
  k: number,
  only?: (i: number) => boolean,
): number {
  const high = nearest(features, D, k);
  const low = nearest(layout, 2, k);
  const shares = high.flatMap((h, i) =>
    only && !only(i) ? [] : [h.filter((j) => (low[i] as number[]).includes(j)).length / k],
  );
  return shares.reduce((a, b) => a + b, 0) / shares.length;
}

describe('the 2-D projection', () => {
  // 400 points in 8 clusters, close enough together that the clusters overlap a little.
  const { features } = gaussianClusters(400, 8, D, 1.5, 3);

  it('is the same for the same seed and differs for another', async () => {
    const a = await projectTo2d(features, D, SMALL);
    const b = await projectTo2d(features, D, SMALL);
    const c = await projectTo2d(features, D, { ...SMALL, seed: 8 });
    expect(a).toHaveLength(800);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).not.toEqual(Array.from(a));
    // Scaled into [-1, 1] with the longer side spanning it.
    const extent = Math.max(...Array.from(a, Math.abs));
    expect(extent).toBeCloseTo(1, 5);
  });

  it('keeps neighbours in feature space neighbours on the map, far better than chance', async () => {
    const layout = await projectTo2d(features, D, SMALL);
    // By chance a point's 10 nearest on the map would hold 10/399 of its 10 nearest in feature space.
    const kept = neighboursKept(features, layout, 10);
    expect(kept).toBeGreaterThan(0.3);
    expect(kept).toBeGreaterThan(10 * (10 / 399));
  });

  it('places the points beyond a fitted subsample near their neighbours too', async () => {
    const progress: string[] = [];
    const layout = await projectTo2d(
      features,
      D,
      { ...SMALL, fitSize: 200 },
      { onProgress: (stage, done, total) => progress.push(`${stage} ${done}/${total}`) },
    );
    expect(progress).toContain('place 200/200');
    expect(progress.at(-1)).toBe('place 200/200');
    expect(progress).toContain('neighbours 1/1');
    // Every point has a finite place; the placed ones (those not fitted) keep their neighbours.
    expect(Array.from(layout).every(Number.isFinite)).toBe(true);
    expect(neighboursKept(features, layout, 10)).toBeGreaterThan(0.25);
  });
});

describe('the embeddings map of a project', () => {
  let project: Project;
  let instanceIds: number[];
  const encoder = 'enc@1';
  const progress: string[] = [];
  const map = () => embeddingsMap(project, (stage, done, total) => progress.push(`${stage} ${done}/${total}`), SMALL);

  beforeAll(() => {
    project = newProject();
    const { db } = project;
    const classes = [addClass(db, { name: 'shirt' }).id, addClass(db, { name: 'boot' }).id];
    const { features, labels } = gaussianClusters(121, 2, D, 3, 5);
    const vector = (i: number) => features.slice(i * D, (i + 1) * D);
    // 40 real images, then 80 instances of two rounds, with features near their class's; one more
    // instance has no features (not scored yet).
    for (let i = 0; i < 40; i++) {
      const hash = i.toString(16).padStart(64, 'a');
      recordImage(db, { hash, width: 1, height: 1, channels: 1, bytes: 1 });
      insertRealSample(db, { imageHash: hash, classId: classes[labels[i]!]!, split: 'train', sourcePath: null });
      saveFeatures(db, encoder, [{ hash, vector: vector(i) }]);
    }
    const runId = createRun(db, 'loop', {});
    ensureRound(db, runId, 0, {});
    ensureRound(db, runId, 1, {});
    instanceIds = Array.from({ length: 81 }, (_, k) => {
      const id = addInstance(db, classes[labels[40 + k]!]!, { runId, roundIndex: k % 2 });
      if (k < 80) saveFeatures(db, encoder, [{ hash: getInstance(db, id)!.imageHash, vector: vector(40 + k) }]);
      return id;
    });
    // Quality and realism of the first two: one near the real images, one far from them.
    recordScores(db, [
      { instanceId: instanceIds[0]!, kind: 'quality', value: -0.25, runId, roundIndex: 0 },
      { instanceId: instanceIds[0]!, kind: 'realism', value: -0.1, runId, roundIndex: 0 },
      { instanceId: instanceIds[1]!, kind: 'realism', value: FAR_BELOW - 0.01, runId, roundIndex: 1 },
    ]);
  });
  afterAll(() => project.close());

  it('holds every real image first, then every instance with features, with what the map colours by', async () => {
    const m = await map();
    expect(m.cached).toBe(false);
    expect(m.encoderId).toBe(encoder);
    expect(m.real).toBe(40);
    expect(m.id).toHaveLength(120);
    expect(m.withoutFeatures).toBe(1);
    expect(m.id.slice(40)).toEqual(instanceIds.slice(0, 80));
    expect(m.status.slice(0, 40).every((s) => s === null)).toBe(true);
    expect(m.status[40]).toBe('pending');
    expect(m.round.slice(40, 44)).toEqual([0, 1, 0, 1]);
    expect(m.quality[40]).toBe(-0.25);
    expect(m.quality[41]).toBeNull();
    expect([m.far[40], m.far[41], m.far[42]]).toEqual([false, true, false]);
    expect(m.far.filter(Boolean)).toHaveLength(1);
    expect(m.x.every((v) => Math.abs(v) <= 1) && m.y.every((v) => Math.abs(v) <= 1)).toBe(true);
    expect(progress).toContain('features 120/120');
    // umap-js picks the epochs by size (500 for a small map); the last event says all are done.
    expect(progress.filter((p) => p.startsWith('layout')).at(-1)).toMatch(/^layout (\d+)\/\1$/);
  });

  it('is read from the cache the second time, and after a curation (which changes no image)', async () => {
    const first = await map();
    const file = join(project.dir, MAP_CACHE_FILE);
    const written = statSync(file).mtimeMs;
    progress.length = 0;
    curate(project.db, { instanceIds: [instanceIds[2]!], action: 'reject' });
    const again = await map();
    expect(again.cached).toBe(true);
    expect(progress).toEqual([]);
    expect(statSync(file).mtimeMs).toBe(written);
    expect(again.x).toEqual(first.x);
    expect(again.y).toEqual(first.y);
    // The decision is read fresh, never cached.
    expect(again.status[42]).toBe('rejected');
  });

  it('is laid out anew when the set of images changes', async () => {
    const before = await map();
    saveFeatures(project.db, encoder, [
      { hash: getInstance(project.db, instanceIds[80]!)!.imageHash, vector: new Float32Array(D).fill(0.5) },
    ]);
    const after = await map();
    expect(after.cached).toBe(false);
    expect(after.id).toHaveLength(121);
    expect(after.withoutFeatures).toBe(0);
    expect(before.id).toHaveLength(120);
  });
});
