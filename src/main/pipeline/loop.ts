import { z } from 'zod';
import { type ProgressEvent, type Stage, stageClock } from '../../shared/progress.ts';
import { WinnowError } from '../errors.ts';
import { chooseOnValidation, decide, type ScoreRule, type ScoreWindow } from '../learn/acceptance.ts';
import { acquisition } from '../learn/acquisition.ts';
import { allocateBudget } from '../learn/budget.ts';
import { searchConditioning } from '../learn/conditioningSearch.ts';
import { crossValidatedAccuracy, rowsOf } from '../learn/headFit.ts';
import { HEAD_FIT_DEFAULTS, SCORING_DEFAULTS } from '../learn/learnDefaults.ts';
import { accuracy, argmax, type FeatureSet, predictProba, type SoftmaxHead } from '../learn/softmaxHead.ts';
import type { Generator } from '../models/generator.ts';
import type { ImageEncoder } from '../models/imageEncoder.ts';
import { seededUniform } from '../models/random.ts';
import { writeTransaction } from '../store/database.ts';
import { loadCheckpoint, saveCheckpoint, saveFeatures } from '../store/features.ts';
import { findInstanceByHash, type Instance, instancesOfRun, listInstances } from '../store/instances.ts';
import { assertRunLeaseHeld, heldLeaseSignal, releaseRunLease, takeRunLease } from '../store/leases.ts';
import type { Project } from '../store/project.ts';
import {
  createRun,
  ensureRound,
  finishRound,
  finishRun,
  latestUnfinishedRun,
  listRounds,
  loopSeeds,
  metricsOf,
  recordMetric,
  setRoundStage,
  setRunStatus,
} from '../store/runs.ts';
import { featuresOf } from './featureCache.ts';
import { classPrompt } from './classPrompts.ts';
import { recordGenerated } from './generate.ts';
import { duplicatesWarning } from './duplicatesWarning.ts';
import { allRealData, emptySet, loadRealData, type RealData } from './realData.ts';
import { decidingKind, RUN_DEFAULTS, ruleLabel, ruleSchema, VALIDATED_CANDIDATES } from '../../shared/runSettings.ts';
import { ACQUISITIONS, DEFAULT_SCORE_KIND, LOOP_FILTERS } from '../../shared/scoreKinds.ts';
import type { ClipModel } from '../models/clip.ts';
import {
  concatFloat32,
  concatScored,
  recordRuleChoice,
  recordScored,
  type RuleChoice,
  type ScoredInstances,
  scoreInstances,
} from './scoreStage.ts';
import { batchContributions, fitTrainedHead, type ScoringReference, scoringReference } from './scoring.ts';
import { type GenerationBackend, type GenerationBatch, inProcessBackend, type Made } from './generationBackend.ts';
import { generationScope } from './generationScope.ts';
import type { ClassRow } from '../store/classes.ts';

/** Everything that defines a run; stored with it, so `--resume` goes on with exactly the same settings. */
export const loopParamsSchema = z.object({
  rounds: z.number().int().positive(),
  perRound: z.number().int().positive(),
  seed: z.number().int().nonnegative(),
  /** Which score decides: a contribution kind, a baseline's score, or a fixed baseline policy. */
  filter: z.enum(LOOP_FILTERS),
  rule: ruleSchema,
  /** online: every instance re-scored each round with the current head; offline: scored once against the initial head. */
  scoring: z.enum(['online', 'offline']),
  /** instance: each instance decided on its own score; batch: BSGAL's whole-batch decision. */
  granularity: z.enum(['instance', 'batch']),
  batchSize: z.number().int().positive(),
  /** The scores' tunables (learnDefaults.ts); runs stored before them get the defaults. */
  lookaheadStep: z.number().positive().default(SCORING_DEFAULTS.lookaheadStep),
  realismWeight: z.number().default(SCORING_DEFAULTS.realismWeight),
  voteWeight: z.number().default(SCORING_DEFAULTS.voteWeight),
  neighbours: z.number().int().positive().default(SCORING_DEFAULTS.neighbours),
  damping: z.number().positive().default(SCORING_DEFAULTS.damping),
  /** The cross-fitted head's folds and λ grid (λ is chosen once, at the run's start). */
  folds: z.number().int().min(2).default(HEAD_FIT_DEFAULTS.folds),
  lambdaGrid: z
    .array(z.number().positive())
    .min(1)
    .default([...HEAD_FIT_DEFAULTS.lambdaGrid]),
  acquisition: z.enum(ACQUISITIONS),
  epsilon: z.number().nonnegative(),
  candidates: z.number().int().positive(),
  searchIterations: z.number().int().nonnegative(),
  guidanceScale: z.number().nonnegative().optional(),
  steps: z.number().int().positive().optional(),
});
export type LoopParams = z.infer<typeof loopParamsSchema>;
/** A new run's settings: without a seed, the run gets one no earlier run of the project used. */
export type LoopSettings = Omit<LoopParams, 'seed'> & { readonly seed?: number | undefined };

export const defaultLoopParams: LoopSettings = {
  ...RUN_DEFAULTS,
  granularity: 'instance',
  batchSize: 16,
  ...SCORING_DEFAULTS,
  folds: HEAD_FIT_DEFAULTS.folds,
  lambdaGrid: [...HEAD_FIT_DEFAULTS.lambdaGrid],
  candidates: 4,
  searchIterations: 1,
};

export interface LoopModels {
  readonly generator: Generator;
  readonly encoder: ImageEncoder;
  /** Adds the `clip` score kind (and makes `--filter clip`, the +CLIP baseline, possible). */
  readonly clip?: ClipModel;
}

export interface LoopHooks {
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: ProgressEvent) => void;
  /** Something the user should know that does not stop the run (e.g. its images were all already made). */
  readonly onWarning?: (message: string) => void;
  /** Where the rounds' images are made (default: in this process, with the loaded generator). */
  readonly backend?: GenerationBackend;
}

interface LoopState {
  readonly window: ScoreWindow;
  /** The head's λ, chosen by cross-validation once at the run's start (the search is the slow part). */
  readonly lambda: number;
  /** The validated rule's choice in the last round (its ruleLabel), which the next round holds if it can. */
  readonly chosenRule?: string;
}

/**
 * Starts a generative active-learning run and works through its rounds. Returns the run id. This
 * process holds the run's lease (one worker per run) until the run stops.
 */
export async function startLoop(
  project: Project,
  models: LoopModels,
  settings: LoopSettings,
  hooks: LoopHooks = {},
): Promise<number> {
  const checked = loopParamsSchema.parse({ ...settings, seed: settings.seed ?? 0 });
  if (checked.filter === 'clip' && !models.clip)
    throw new WinnowError(
      'The +CLIP filter (--filter clip) needs a CLIP model.',
      'Pass --clip <name> (see winnow models).',
    );
  const { db } = project;
  // The fresh seed is chosen and stored with the run in one transaction: two runs started at once
  // cannot both take it, and `--resume` reads it back from the run's params.
  const { runId, params } = writeTransaction(db, () => {
    const params = settings.seed === undefined ? { ...checked, seed: freshSeed(loopSeeds(db)) } : checked;
    const modelIds = {
      generator: models.generator.id,
      encoder: models.encoder.id,
      ...(models.clip ? { clip: models.clip.id } : {}),
    };
    return { runId: createRun(db, 'loop', params, modelIds), params };
  });
  await runLoop(project, models, runId, params, hooks);
  return runId;
}

/**
 * The smallest seed no loop run of the project used: each run's images are its own (a repeated seed
 * remakes the same images, which are then dropped as duplicates).
 */
export function freshSeed(used: readonly number[]): number {
  const taken = new Set(used);
  let seed = 0;
  while (taken.has(seed)) seed++;
  return seed;
}

/**
 * Resumes the latest unfinished run (killed, failed, cancelled or paused): finished rounds are kept
 * as they are, the interrupted round goes on from its last committed step, nothing is made twice.
 */
export async function resumeLoop(project: Project, models: LoopModels, hooks: LoopHooks = {}): Promise<number> {
  const run = latestUnfinishedRun(project.db, 'loop');
  if (run === undefined)
    throw new WinnowError(
      'There is no unfinished run to resume.',
      'Start one with `winnow run --rounds R --per-round N`.',
    );
  const modelIds = JSON.parse(run.modelIds) as { generator?: string; encoder?: string; clip?: string };
  if (
    modelIds.generator !== models.generator.id ||
    modelIds.encoder !== models.encoder.id ||
    modelIds.clip !== models.clip?.id
  ) {
    const names = (m: { generator?: string; encoder?: string; clip?: string | undefined }) =>
      [m.generator, m.encoder, m.clip].filter(Boolean).join(', ');
    throw new WinnowError(
      `Run ${run.id} was made with ${names(modelIds)}, not ${names({ generator: models.generator.id, encoder: models.encoder.id, clip: models.clip?.id })}.`,
      'Resume it with the models it started with, or start a new run.',
    );
  }
  // One worker per run: refused (naming the holder) while another live process works it.
  writeTransaction(project.db, () => {
    takeRunLease(project.db, run.id);
    setRunStatus(project.db, run.id, 'running');
  });
  await runLoop(project, models, run.id, loopParamsSchema.parse(JSON.parse(run.params)), hooks);
  return run.id;
}

/**
 * Each planned image's noise seed: unique within a run, the same when a round is resumed. In exact
 * (BigInt) arithmetic: in doubles the product passed 2^53 from a run seed of about 681,000, and
 * neighbouring images got one seed (made as duplicates, then dropped). Below that, the same seeds.
 */
export function itemSeed(runSeed: number, round: number, classIndex: number, k: number): number {
  const mixed = ((BigInt(runSeed) * 131n + BigInt(round)) * 1009n + BigInt(classIndex)) * 100_003n + BigInt(k);
  return Number(mixed % 2_147_483_647n);
}

/**
 * The rules a round may decide with: the fixed policy of a fixed filter, the run's rule, or (the
 * validated rule) each of its candidates, one of which the validation split picks.
 */
function decisionRules(params: LoopParams): readonly ScoreRule[] {
  if (params.filter === 'all') return [{ kind: 'all' }];
  if (params.filter === 'none') return [{ kind: 'threshold', threshold: Infinity }];
  if (params.filter === 'random')
    return [{ kind: 'random', keep: params.rule.kind === 'random' ? params.rule.keep : 0.5, seed: params.seed }];
  return params.rule.kind === 'validated' ? VALIDATED_CANDIDATES : [params.rule];
}

async function runLoop(
  project: Project,
  models: LoopModels,
  runId: number,
  params: LoopParams,
  given: LoopHooks,
): Promise<void> {
  const { db } = project;
  // The run stops if this process loses its lease (taken over after it looked dead).
  const lost = heldLeaseSignal(db, runId);
  const hooks: LoopHooks = { ...given, signal: given.signal ? AbortSignal.any([given.signal, lost]) : lost };
  const emit = (stage: Stage, round: number | undefined) => {
    const clock = stageClock(runId, stage, round === undefined ? undefined : { round, rounds: params.rounds });
    return (done: number, total: number) => hooks.onProgress?.(clock(done, total));
  };
  try {
    const prepare = emit('prepare', undefined);
    prepare(0, 1);
    const real = await loadRealData(project, models.encoder);
    const C = real.classes.length;
    if (loadCheckpoint(db, runId, -1) === undefined) {
      const reference = await scoringReference(allRealData(real), C, params, {
        folds: params.folds,
        lambdaGrid: params.lambdaGrid,
      });
      const lambda = reference.fit.lambda;
      const head = fitTrainedHead(real.train, emptySet(), C, lambda);
      writeTransaction(db, () => {
        assertRunLeaseHeld(db, runId);
        saveCheckpoint(db, runId, -1, {
          head: head.weights,
          gradient: null,
          state: { window: [], lambda } satisfies LoopState,
        });
        for (const [name, value] of Object.entries(evaluate(head, real))) recordMetric(db, runId, -1, name, value);
        recordMetric(db, runId, -1, 'cv_accuracy', crossValidatedAccuracy(reference.fit));
        recordMetric(db, runId, -1, 'lambda', lambda);
      });
    }
    prepare(1, 1);
    const done = new Set(
      listRounds(db, runId)
        .filter((r) => r.stage === 'done')
        .map((r) => r.roundIndex),
    );
    const backend = hooks.backend ?? inProcessBackend(project.images);
    const run: RunScope = { project, models, runId, params, real, hooks, emit, backend, references: new Map() };
    for (let round = 0; round < params.rounds; round++) {
      if (done.has(round)) continue;
      hooks.signal?.throwIfAborted();
      await runRound(run, round);
    }
    finishRun(db, runId, 'done');
  } catch (error) {
    // Taken over: the run is the other process's now; its status is not this process's to write.
    if (lost.aborted) throw lost.reason;
    const cancelled = given.signal?.aborted === true;
    finishRun(db, runId, cancelled ? 'cancelled' : 'failed', cancelled ? 'cancelled' : (error as Error).message);
    throw error;
  } finally {
    releaseRunLease(db, runId);
  }
}

/** The features and labels (head output indices) of the given instances, for training. */
async function trainingSet(
  project: Project,
  encoder: ImageEncoder,
  real: RealData,
  keep: readonly Instance[],
): Promise<FeatureSet> {
  return {
    features: await featuresOf(
      project,
      encoder,
      keep.map((i) => i.imageHash),
    ),
    labels: Int32Array.from(keep, (i) => real.indexOf.get(i.labelId) ?? 0),
  };
}

function headFrom(weights: Float32Array, C: number, D: number): SoftmaxHead {
  return { classes: C, dim: D, weights: Float32Array.from(weights) };
}

function perClassAccuracy(head: SoftmaxHead, set: FeatureSet): number[] {
  const p = predictProba(head, set.features);
  const hits = new Array<number>(head.classes).fill(0);
  const counts = new Array<number>(head.classes).fill(0);
  for (let i = 0; i < set.labels.length; i++) {
    const y = set.labels[i] as number;
    counts[y]! += 1;
    if (argmax(p, i * head.classes, head.classes) === y) hits[y]! += 1;
  }
  return hits.map((h, c) => (counts[c] === 0 ? 0 : h / (counts[c] as number)));
}

/** Validation accuracy (overall and per class) and loss of a head, and its test accuracy where the project has a test split. */
function evaluate(head: SoftmaxHead, real: RealData): Record<string, number> {
  const p = predictProba(head, real.val.features);
  let loss = 0;
  for (let i = 0; i < real.val.labels.length; i++)
    loss -= Math.log(Math.max(1e-12, p[i * head.classes + (real.val.labels[i] as number)] as number));
  const metrics: Record<string, number> = {
    val_accuracy: accuracy(head, real.val),
    val_loss: loss / real.val.labels.length,
  };
  perClassAccuracy(head, real.val).forEach((a, c) => (metrics[`val_accuracy:${real.classes[c]?.name}`] = a));
  if (real.test.labels.length > 0) metrics.test_accuracy = accuracy(head, real.test);
  return metrics;
}

/** What every round of a run in this process reads. */
interface RunScope {
  readonly project: Project;
  readonly models: LoopModels;
  readonly runId: number;
  readonly params: LoopParams;
  readonly real: RealData;
  readonly hooks: LoopHooks;
  readonly emit: (stage: Stage, round: number) => (done: number, total: number) => void;
  readonly backend: GenerationBackend;
  /**
   * The previous round's scoring references, by half (online scoring): the next round's fits and
   * solves start from them. In memory only: a resumed run starts cold, so its heads equal an
   * uninterrupted run's to the fits' tolerance (‖∇J‖ ≤ 1e-6), not bit for bit.
   */
  readonly references: Map<number, ScoringReference>;
}

/** What every stage of one round reads: the run, the round, and the head it starts from. */
interface RoundContext extends RunScope {
  readonly round: number;
  /** The previous round's head (raw features) and loop state. */
  readonly head: SoftmaxHead;
  readonly state: LoopState;
  readonly progress: (stage: Stage) => (done: number, total: number) => void;
  /** Runs one stage's work, adding its seconds to the round's timings (stored with the round). */
  readonly timed: <T>(stage: Stage, work: () => Promise<T> | T) => Promise<T>;
  /** Whatever the round's stages need the signal for, spread into their options. */
  readonly signal: { signal?: AbortSignal };
}

/** What the generate stage made, for the round's metrics and warnings. */
interface Generated {
  readonly made: number;
  readonly alreadyMade: number;
  /** Generator calls the round's searches made, a paused first part's included (as its seconds are). */
  readonly probes: number;
  /** Images identical to instances already in the project: not added again, counted. */
  readonly duplicates: number;
  /** The other runs that hold those duplicates. */
  readonly duplicateOf: ReadonlySet<number>;
}

/** One round: plan → generate → embed → score → decide → train → evaluate, committed at the end. */
async function runRound(run: RunScope, round: number): Promise<void> {
  const { project, models, runId, real, hooks, emit } = run;
  const { db } = project;
  const previous = loadCheckpoint(db, runId, round - 1);
  if (previous === undefined)
    throw new WinnowError(
      `Run ${runId} has no checkpoint for round ${round - 1}; it cannot go on.`,
      'Start a new run.',
    );
  // A resumed round adds to the seconds its first part recorded: its stages' times are the whole round's.
  const stored = listRounds(db, runId).find((r) => r.roundIndex === round)?.timings;
  const timings = JSON.parse(stored ?? '{}') as Record<string, number>;
  const context: RoundContext = {
    ...run,
    round,
    head: headFrom(previous.head, real.classes.length, models.encoder.dim),
    state: previous.state as LoopState,
    progress: (stage) => emit(stage, round),
    timed: async (stage, work) => {
      const started = performance.now();
      const result = await work();
      timings[stage] = (timings[stage] ?? 0) + (performance.now() - started) / 1000;
      setRoundStage(db, runId, round, stage, timings);
      return result;
    },
    signal: hooks.signal ? { signal: hooks.signal } : {},
  };

  const counts = await context.timed('plan', () => planRound(context));
  const generated = await generateRound(context, counts);
  if (generated.duplicates > 0)
    hooks.onWarning?.(
      `Round ${round + 1}: ${duplicatesWarning({
        duplicates: generated.duplicates,
        generated: generated.made - generated.alreadyMade,
        runs: [...generated.duplicateOf],
      })}`,
    );
  const { instances, features } = await embedRun(context);
  const { scored, batch, cvAccuracy } = await context.timed('score', () => scoreRound(context, instances, features));
  const { accepted, window, head, acceptedTotal, choice } = await context.timed('train', () =>
    decideAndTrain(context, scored, batch),
  );
  const metrics = await context.timed('evaluate', () => evaluate(head, real));
  writeTransaction(db, () => {
    assertRunLeaseHeld(db, runId);
    recordScored(db, scored, accepted, runId, round, batch ? { contribution_batch: batch } : {});
    for (const [name, value] of Object.entries(metrics)) recordMetric(db, runId, round, name, value);
    const newOnes = scored.instances.map((inst, k) => ({ inst, k })).filter(({ inst }) => inst.roundIndex === round);
    recordMetric(db, runId, round, 'generated', newOnes.length);
    recordMetric(db, runId, round, 'accepted_new', newOnes.filter(({ k }) => accepted[k]).length);
    recordMetric(db, runId, round, 'accepted_total', acceptedTotal);
    recordMetric(db, runId, round, 'cv_accuracy', cvAccuracy);
    recordMetric(db, runId, round, 'probes', generated.probes);
    recordMetric(db, runId, round, 'duplicates', generated.duplicates);
    for (const other of generated.duplicateOf) recordMetric(db, runId, round, `duplicate_of_run:${other}`, 1);
    if (choice) recordRuleChoice(db, runId, round, choice);
    saveCheckpoint(db, runId, round, {
      head: head.weights,
      gradient: null,
      state: {
        window,
        lambda: context.state.lambda,
        ...(choice ? { chosenRule: ruleLabel(choice.rule) } : {}),
      } satisfies LoopState,
    });
    setRoundStage(db, runId, round, 'evaluate', timings);
    finishRound(db, runId, round);
  });
  emit('evaluate', round)(1, 1);
}

/** Plan: more images for the classes the head gets wrong most often on validation data. */
function planRound(r: RoundContext): number[] {
  const counts = allocateBudget(
    r.params.perRound,
    perClassAccuracy(r.head, r.real.val),
    r.real.classes.map((c) => c.budgetWeight),
  );
  ensureRound(r.project.db, r.runId, r.round, {
    counts: Object.fromEntries(r.real.classes.map((c, i) => [c.name, counts[i]])),
  });
  return counts;
}

/**
 * Search class by class, then generate every class's images through the run's backend (in this
 * process, or a queue's workers all at once); each group of images is committed as it arrives, so a
 * resumed round makes only the seeds not yet recorded.
 */
async function generateRound(r: RoundContext, counts: readonly number[]): Promise<Generated> {
  const { project, params, round, models } = r;
  const { db } = project;
  const { generator } = models;
  const steps = params.steps ?? generator.defaults.steps;
  const sampling = generator.sampling(steps);
  const already = new Set(instancesOfRun(db, r.runId, round).map((i) => i.seed));
  const total = counts.reduce((a, b) => a + b, 0);
  const progress = r.progress('generate');
  let made = already.size;
  // A resumed round searches again for each class it has images left of: its work adds to the
  // probes the first part recorded, stored as each search ends so that a pause keeps them.
  let probes = metricsOf(db, r.runId).find((m) => m.roundIndex === round && m.name === 'probes')?.value ?? 0;
  let duplicates = 0;
  const duplicateOf = new Set<number>();
  const scope = generationScope(db, `run${r.runId}-round${round}`);
  const classes: {
    cls: ClassRow;
    prompt: string;
    batch: GenerationBatch;
    perturbation: Perturbation;
    /** Each planned seed's place in the class's round plan. */
    placeOf: ReadonlyMap<number, number>;
  }[] = [];
  for (let c = 0; c < r.real.classes.length; c++) {
    const cls = r.real.classes[c]!;
    // The run's scale, else the class's own (a remedy may set it), else the generator's default.
    const guidanceScale = params.guidanceScale ?? cls.guidanceScale ?? generator.defaults.guidanceScale;
    // A resumed round plans what is left; each image keeps its place in the whole plan, which picks
    // its searched conditioning, so it is made as an uninterrupted round makes it.
    const planned = Array.from({ length: counts[c] ?? 0 }, (_, place) => ({
      seed: itemSeed(params.seed, round, c, place),
      place,
    })).filter(({ seed }) => !already.has(seed));
    if (planned.length === 0) continue;
    r.hooks.signal?.throwIfAborted();
    const template = cls.promptTemplates[round % cls.promptTemplates.length] ?? 'a photo of a {label}';
    const encoding = await generator.encodePrompt(classPrompt(template, cls));
    const negative =
      cls.negativePrompt.trim() === '' ? undefined : (await generator.encodePrompt(cls.negativePrompt)).conditioning;
    const conditioned = await conditionClass(r, c, encoding.conditioning, negative, planned, { guidanceScale, steps });
    if (conditioned.probes > 0) {
      probes += conditioned.probes;
      writeTransaction(db, () => {
        assertRunLeaseHeld(db, r.runId);
        recordMetric(db, r.runId, round, 'probes', probes);
      });
    }
    const batch: GenerationBatch = {
      scope,
      bases: [encoding.conditioning],
      negative,
      epsilon: params.epsilon,
      items: planned.map(({ seed }, k) => ({
        seed,
        base: 0,
        ...(conditioned.conditionings ? { conditioning: conditioned.conditionings[k]! } : {}),
      })),
      guidanceScale,
      steps,
      batchSize: generator.defaults.batchSize,
      features: { encoderId: models.encoder.id, dim: models.encoder.dim },
    };
    classes.push({
      cls,
      prompt: encoding.prompt,
      batch,
      perturbation: conditioned.perturbation,
      placeOf: new Map(planned.map(({ seed, place }) => [seed, place])),
    });
  }
  const record = (index: number, stored: readonly Made[]) => {
    const { cls, prompt, batch, perturbation, placeOf } = classes[index]!;
    writeTransaction(db, () => {
      assertRunLeaseHeld(db, r.runId);
      for (const { image } of stored) {
        const owner = findInstanceByHash(db, image.hash);
        if (owner !== undefined && owner.runId !== null && owner.runId !== r.runId) duplicateOf.add(owner.runId);
      }
      duplicates += recordGenerated(
        db,
        cls,
        stored.map(({ image, seed }) => ({
          image,
          prompt,
          seed,
          perturbation: perturbation(seed, placeOf.get(seed)!),
        })),
        {
          epsilon: params.epsilon,
          generatorId: generator.id,
          guidanceScale: batch.guidanceScale,
          steps,
          sampling,
          runId: r.runId,
          roundIndex: round,
        },
      ).duplicates;
      const features = stored.flatMap(({ image, features: vector }) => (vector ? [{ hash: image.hash, vector }] : []));
      saveFeatures(db, models.encoder.id, features);
    });
    made += stored.length;
    progress(made, total);
  };
  const start = made;
  await r.timed('generate', () =>
    r.backend.produce(
      generator,
      classes.map((c) => c.batch),
      { ...r.signal, onProgress: (done) => progress(start + Math.floor(done), total), onStored: record },
    ),
  );
  return { made, alreadyMade: already.size, probes, duplicates, duplicateOf };
}

/**
 * The perturbation an image's provenance records: its seed's random direction, or the search's pick
 * for its place in the class's round plan.
 */
type Perturbation = (seed: number, place: number) => string | null;

/**
 * Each planned image's conditioning for class `c`: the prompt's, perturbed at random (or not at all
 * at ε = 0: the backend does both), or GALOT's search for the perturbations the acquisition function rates highest.
 */
async function conditionClass(
  r: RoundContext,
  c: number,
  base: Float32Array,
  negative: Float32Array | undefined,
  planned: readonly { readonly seed: number; readonly place: number }[],
  sampling: { readonly guidanceScale: number; readonly steps: number },
): Promise<{
  /** Undefined: each image's is the base perturbed by ε along its seed's random direction. */
  conditionings: Float32Array[] | undefined;
  perturbation: Perturbation;
  probes: number;
}> {
  const { params, round, models } = r;
  if (params.acquisition === 'random' || params.epsilon === 0)
    return {
      conditionings: undefined,
      perturbation: (s) =>
        params.epsilon === 0 ? null : JSON.stringify({ kind: 'random-direction', directionSeed: s }),
      probes: 0,
    };
  const random = seededUniform(params.seed + round);
  const found = await r.timed('search', () =>
    searchConditioning({
      base,
      epsilon: params.epsilon,
      candidates: params.candidates,
      keep: Math.max(1, Math.ceil(params.candidates / 2)),
      iterations: params.searchIterations,
      seed: itemSeed(params.seed, round, c, 99_999),
      evaluate: async (conds) => {
        const images = await models.generator.generate(
          conds.map((conditioning, k) => ({
            conditioning,
            seed: itemSeed(params.seed, round, c, 90_000 + k),
            ...(negative ? { negative } : {}),
          })),
          { ...sampling, ...r.signal },
        );
        return Array.from(acquisition(params.acquisition, r.head, await models.encoder.encodePixels(images), random));
      },
    }),
  );
  return {
    conditionings: planned.map(({ place }) => found.conditionings[place % found.conditionings.length]!),
    perturbation: (_s, place) =>
      JSON.stringify({
        kind: 'search',
        acquisition: params.acquisition,
        value: found.values[place % found.values.length],
      }),
    probes: found.probes,
  };
}

/** Embed every instance of the run (cached after the first time). */
async function embedRun(r: RoundContext): Promise<{ instances: Instance[]; features: Float32Array }> {
  const instances = instancesOfRun(r.project.db, r.runId);
  const features = await r.timed('embed', () =>
    featuresOf(
      r.project,
      r.models.encoder,
      instances.map((i) => i.imageHash),
      { ...r.signal, onProgress: r.progress('embed') },
    ),
  );
  r.hooks.signal?.throwIfAborted();
  return { instances, features };
}

/**
 * Online scoring's halves: the run's instances alternate between two halves by their place in the
 * run (one by one, or batch by batch under batch granularity, so a batch stays whole), which new
 * rounds never change. An instance is scored by heads trained on the real images plus the accepted
 * instances of the other half (and of other runs), never on itself: a head that had trained on an
 * accepted instance would score it in-sample, so whatever was accepted once would look good
 * enough to stay accepted.
 */
const SCORING_HALVES = 2;

/**
 * Score: online re-scores every instance of the run against the head cross-fitted on all real
 * images plus the synthetic instances accepted so far in the other half (the model as it trains, so
 * scores move round to round); offline scores only this round's new instances against the
 * real-only head. The cross-validated accuracy is the mean over the heads used.
 */
async function scoreRound(
  r: RoundContext,
  instances: readonly Instance[],
  features: Float32Array,
): Promise<{ scored: ScoredInstances; batch: Float32Array | undefined; cvAccuracy: number }> {
  const { project, params, real } = r;
  const D = r.models.encoder.dim;
  const accepted = params.scoring === 'online' ? listInstances(project.db, { status: 'accepted' }) : [];
  const unit = params.granularity === 'batch' ? params.batchSize : 1;
  const halfOf = new Map(instances.map((inst, k) => [inst.id, Math.floor(k / unit) % SCORING_HALVES]));
  const rowsWhere = (keep: (inst: Instance) => boolean) => instances.flatMap((inst, k) => (keep(inst) ? [k] : []));
  const groups =
    params.scoring === 'online'
      ? Array.from({ length: SCORING_HALVES }, (_, h) => ({
          rows: rowsWhere((inst) => halfOf.get(inst.id) === h),
          extra: accepted.filter((inst) => halfOf.get(inst.id) !== h),
        }))
      : [{ rows: rowsWhere((inst) => inst.roundIndex === r.round), extra: [] }];
  const parts: { scored: ScoredInstances; batch: Float32Array | undefined; cvAccuracy: number }[] = [];
  // An empty group is skipped, unless all are (then one scores nothing, so every kind is present).
  for (const [group, { rows, extra }] of groups.entries()) {
    if (rows.length === 0 && (parts.length > 0 || groups.slice(group + 1).some((g) => g.rows.length > 0))) continue;
    const reference = await scoringReference(
      allRealData(real),
      real.classes.length,
      params,
      { folds: params.folds, lambda: r.state.lambda, extra: await trainingSet(project, r.models.encoder, real, extra) },
      r.references.get(group),
    );
    r.references.set(group, reference);
    const chosen = Float32Array.from(rows.flatMap((k) => Array.from(features.subarray(k * D, (k + 1) * D))));
    const scored = await scoreInstances(
      project,
      reference,
      real,
      rows.map((k) => instances[k]!),
      chosen,
      r.models.clip,
      r.hooks.signal,
    );
    const batch =
      params.granularity === 'batch' ? batchContributions(reference, scored.set, params.batchSize) : undefined;
    parts.push({ scored, batch, cvAccuracy: crossValidatedAccuracy(reference.fit) });
  }
  const scored = concatScored(parts.map((p) => p.scored));
  r.progress('score')(scored.instances.length, scored.instances.length);
  return {
    scored,
    batch: params.granularity === 'batch' ? concatFloat32(parts.map((p) => p.batch!)) : undefined,
    cvAccuracy: parts.length === 0 ? 0 : parts.reduce((sum, p) => sum + p.cvAccuracy, 0) / parts.length,
  };
}

/**
 * The values a rule decides on: BSGAL's batch cosines, the kind the rule decides on (the filter's,
 * or the confident rule's own), or (for the fixed policies, which ignore it) the default ranking.
 */
function decisionScores(
  params: LoopParams,
  rule: ScoreRule,
  scored: ScoredInstances,
  batch: Float32Array | undefined,
): Float32Array {
  if (batch) return batch;
  const kind =
    params.filter === 'all' || params.filter === 'random' || params.filter === 'none'
      ? DEFAULT_SCORE_KIND
      : decidingKind(rule, params.filter);
  return scored.scores[kind]!;
}

/** A round's decisions and the head trained on them; `choice` says what the validated rule chose among. */
interface Decided {
  readonly accepted: boolean[];
  readonly window: ScoreWindow;
  readonly head: SoftmaxHead;
  readonly acceptedTotal: number;
  readonly choice?: RuleChoice;
}

/**
 * Decide and train: each of the round's rules decides and a head is trained on real + every accepted
 * instance of the project (a curator's override wins over the round's decision); with more than one
 * rule (the validated rule), the validation split chooses the round's (chooseOnValidation), holding
 * the run's last choice while it stays within one standard error of the best.
 */
async function decideAndTrain(
  r: RoundContext,
  scored: ScoredInstances,
  batch: Float32Array | undefined,
): Promise<Decided> {
  const rules = decisionRules(r.params);
  const everyInstance = listInstances(r.project.db);
  const decided = rules.map((rule) => {
    const { accepted, window } = decide(
      rule,
      decisionScores(r.params, rule, scored, batch),
      scored.set.labels,
      r.state.window,
    );
    const decisions = new Map(scored.instances.map((inst, k) => [inst.id, accepted[k] ? 'accepted' : 'rejected']));
    // Positions in everyInstance of what the head trains on.
    const keep = everyInstance.flatMap((i, k) =>
      (i.override ?? decisions.get(i.id) ?? i.status) === 'accepted' ? [k] : [],
    );
    return { rule, accepted, window, keep };
  });
  // The features are read once, for every instance some rule keeps; each head trains on its rows.
  const kept = [...new Set(decided.flatMap((d) => d.keep))].sort((a, b) => a - b);
  const keptSet = await trainingSet(
    r.project,
    r.models.encoder,
    r.real,
    kept.map((k) => everyInstance[k]!),
  );
  const rowOf = new Map(kept.map((k, row) => [k, row]));
  const trials = decided.map(({ keep, ...d }) => {
    const synthetic = rowsOf(
      keptSet,
      keep.map((k) => rowOf.get(k)!),
      r.models.encoder.dim,
    );
    const head = fitTrainedHead(r.real.train, synthetic, r.real.classes.length, r.state.lambda);
    return { ...d, head, acceptedTotal: keep.length };
  });
  if (trials.length === 1) return trials[0]!;
  const held = rules.findIndex((rule) => ruleLabel(rule) === r.state.chosenRule);
  const { chosen, accuracies } = chooseOnValidation(trials, r.real.val, held < 0 ? undefined : held);
  return { ...chosen, choice: { rule: chosen.rule, trials: rules, accuracies } };
}
