import { WinnowError } from '../errors.ts';
import type { FeatureSet } from '../learn/softmaxHead.ts';
import type { ImageEncoder } from '../models/imageEncoder.ts';
import { type ClassRow, listClasses } from '../store/classes.ts';
import type { Project } from '../store/project.ts';
import { listRealSamples, type Split } from '../store/realSamples.ts';
import { featuresOf } from './featureCache.ts';

/** The project's classes as the head's output indices, and its real data as feature sets. */
export interface RealData {
  readonly classes: readonly ClassRow[];
  /** class id → head output index */
  readonly indexOf: ReadonlyMap<number, number>;
  readonly train: FeatureSet;
  readonly val: FeatureSet;
  /**
   * The test split (often empty): held out from everything that fits, scores or chooses, so its
   * accuracy is the one independent figure a run and a scoring pass report.
   */
  readonly test: FeatureSet;
}

async function splitSet(
  project: Project,
  encoder: ImageEncoder,
  split: Split,
  indexOf: ReadonlyMap<number, number>,
): Promise<FeatureSet> {
  const samples = listRealSamples(project.db, split);
  const features = await featuresOf(
    project,
    encoder,
    samples.map((s) => s.imageHash),
  );
  return { features, labels: Int32Array.from(samples, (s) => indexOf.get(s.classId) as number) };
}

/**
 * Loads real train, validation and test features. Contribution needs real validation data (its gradient
 * is what "helps" means) and every head real training data, so a project without either gets an
 * error saying how to add it.
 */
export async function loadRealData(project: Project, encoder: ImageEncoder): Promise<RealData> {
  const classes = listClasses(project.db);
  if (classes.length < 2) {
    throw new WinnowError(
      'The project needs at least two classes to train a classifier.',
      'Import real images of each class with `winnow import real <ImageFolder>`.',
    );
  }
  const indexOf = new Map(classes.map((c, i) => [c.id, i]));
  const val = await splitSet(project, encoder, 'val', indexOf);
  if (val.labels.length === 0) {
    throw new WinnowError(
      'The project has no real validation images, and contribution scores are measured against them.',
      'Import some with `winnow import real <ImageFolder> --split val` (a few dozen per class is enough).',
    );
  }
  const train = await splitSet(project, encoder, 'train', indexOf);
  if (train.labels.length === 0) {
    throw new WinnowError(
      "The project has no real training images, and every head (the scores' and the trained classifier) starts from them.",
      'Import some with `winnow import real <ImageFolder> --split train` (the default split).',
    );
  }
  const test = await splitSet(project, encoder, 'test', indexOf);
  return { classes, indexOf, train, val, test };
}

/** No images: the synthetic part of a head trained on real images alone. */
export function emptySet(): FeatureSet {
  return { features: new Float32Array(0), labels: new Int32Array(0) };
}

/** Concatenates feature sets (flat arrays of the same dimension). */
export function concatSets(sets: readonly FeatureSet[]): FeatureSet {
  return {
    features: concatArrays(
      sets.map((s) => s.features),
      (n) => new Float32Array(n),
    ),
    labels: concatArrays(
      sets.map((s) => s.labels),
      (n) => new Int32Array(n),
    ),
  };
}

/** Concatenates typed arrays of one type. */
export function concatArrays<T extends Float32Array | Int32Array>(
  arrays: readonly ArrayLike<number>[],
  make: (length: number) => T,
): T {
  const out = make(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** Every labelled real image (train then validation): what the cross-fitted head is fitted on. */
export function allRealData(real: RealData): FeatureSet {
  return concatSets([real.train, real.val]);
}
