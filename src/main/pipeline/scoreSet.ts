import { type AcceptanceRule, decide } from '../learn/acceptance.ts';
import { meanGradient } from '../learn/contribution.ts';
import { classPrototypes } from '../learn/labelQuality.ts';
import { trainHead } from '../learn/headTraining.ts';
import { createHead } from '../learn/softmaxHead.ts';
import type { ImageEncoder } from '../models/imageEncoder.ts';
import { writeTransaction } from '../store/database.ts';
import { listInstances, setStatus } from '../store/instances.ts';
import type { Project } from '../store/project.ts';
import { createRun, finishRun, recordMetric } from '../store/runs.ts';
import { recordScores, type ScoreEntry } from '../store/scores.ts';
import { featuresOf } from './featureCache.ts';
import { loadRealData } from './realData.ts';
import type { ScoreKindName } from '../../shared/scoreKinds.ts';
import type { ClipModel } from '../models/clip.ts';
import { clipScoresOf } from './clipScores.ts';
import { WinnowError } from '../errors.ts';
import { scoreAll } from './scoring.ts';

export interface ScoreOptions {
  /** The score kind that decides ('clip' needs `clip`). */
  readonly by: ScoreKindName;
  /** A CLIP model: adds the `clip` score kind. */
  readonly clip?: ClipModel;
  readonly rule: AcceptanceRule;
  readonly seed: number;
  readonly epochs: number;
}

export const defaultScoreOptions: ScoreOptions = {
  by: 'contribution',
  rule: { kind: 'threshold', threshold: -0.05 },
  seed: 0,
  epochs: 60,
};

/**
 * Scores every synthetic instance of the project, however it was made, against the project's real
 * data, with no generation: a head is trained on the real training split, the real gradient is
 * taken on the validation split, and each instance gets every score kind. Decisions follow the
 * rule; a curator's override stays as it is.
 */
export async function scoreProject(
  project: Project,
  encoder: ImageEncoder,
  options: ScoreOptions = defaultScoreOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<{ runId: number; scored: number; accepted: number }> {
  const { db } = project;
  if (options.by === 'clip' && !options.clip)
    throw new WinnowError('Deciding by the clip score needs a CLIP model.', 'Pass --clip <name> (see winnow models).');
  const real = await loadRealData(project, encoder);
  const C = real.classes.length;
  const head = await trainHead(createHead(C, encoder.dim), real.train, {
    epochs: options.epochs,
    seed: options.seed,
    learningRate: 0.003,
    batchSize: 64,
  });
  const G = meanGradient(head, real.val);
  const instances = listInstances(db);
  const features = await featuresOf(
    project,
    encoder,
    instances.map((i) => i.imageHash),
    onProgress ? { onProgress } : {},
  );
  const set = { features, labels: Int32Array.from(instances, (i) => real.indexOf.get(i.labelId) ?? 0) };
  const scores: Partial<Record<ScoreKindName, Float32Array>> = await scoreAll(
    head,
    { gradient: G, real: real.val, prototypes: classPrototypes(real.train, C, encoder.dim) },
    set,
  );
  if (options.clip)
    scores.clip = await clipScoresOf(
      project,
      options.clip,
      instances.map((i) => i.imageHash),
      set.labels,
      real.classes,
    );
  const { accepted } = decide(options.rule, scores[options.by]!, set.labels);
  const runId = createRun(
    db,
    'score',
    { by: options.by, rule: options.rule, seed: options.seed, epochs: options.epochs },
    { encoder: encoder.id, ...(options.clip ? { clip: options.clip.id } : {}) },
  );
  writeTransaction(db, () => {
    const entries: ScoreEntry[] = [];
    instances.forEach((inst, k) => {
      for (const [kind, values] of Object.entries(scores))
        entries.push({ instanceId: inst.id, kind, value: values[k]!, runId, roundIndex: null });
      setStatus(db, inst.id, accepted[k] ? 'accepted' : 'rejected');
    });
    recordScores(db, entries);
    recordMetric(db, runId, 0, 'scored', instances.length);
    recordMetric(db, runId, 0, 'accepted', accepted.filter(Boolean).length);
    finishRun(db, runId, 'done');
  });
  return { runId, scored: instances.length, accepted: accepted.filter(Boolean).length };
}
