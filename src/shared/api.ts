import { z } from 'zod';
import type { Method } from './methods.ts';
import type { ProgressEvent } from './progress.ts';
import { runRuleSchema } from './runSettings.ts';
import { ACQUISITIONS, LOOP_FILTERS, SCORE_KINDS, type ScoreKindName } from './scoreKinds.ts';

export type { RunRule } from './runSettings.ts';

/**
 * The one API contract between the workstation's UI and its engine: each method's request schema
 * (validated at every boundary, in both transports) and its response type. Electron IPC and
 * HTTP (`winnow serve`) both carry exactly this.
 */
const id = z.number().int().positive();
/** An absolute path on the machine the engine runs on. */
const absolutePath = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^(\/|[A-Za-z]:[\\/])[^\0]*$/, 'must be an absolute path');
/** A registered model's name (as `winnow models add --name` accepts it). */
const modelName = z.string().regex(/^[\w.-]{1,100}$/, 'must be a model name (letters, digits, . _ -)');
/** The name that selects an embedded model wherever a registered model name is accepted. */
export const EMBEDDED_MODEL = 'embedded';
/** A registered CLIP model's name (there is no embedded CLIP model). */
const clipModelName = modelName.refine(
  (name) => name !== EMBEDDED_MODEL,
  'must be a registered CLIP model (there is no embedded one)',
);

/** An http(s) URL, e.g. an OpenAI-compatible API's base `http://localhost:8000/v1`. */
const httpUrl = z.string().max(2000).refine(isHttpUrl, 'must be an http(s) URL, e.g. http://localhost:8000/v1');

function isHttpUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

export const requestSchemas = {
  projectStatus: z.object({}).strict(),
  projectList: z.object({}).strict(),
  projectOpen: z.object({ dir: absolutePath }).strict(),
  projectCreate: z.object({ dir: absolutePath }).strict(),
  classExtremes: z
    .object({ classId: id, n: z.number().int().min(1).max(500), kind: z.enum(SCORE_KINDS).optional() })
    .strict(),
  classPage: z
    .object({
      labelId: id,
      status: z.enum(['pending', 'accepted', 'rejected']).optional(),
      order: z.enum(['best', 'worst', 'newest']),
      kind: z.enum(SCORE_KINDS).optional(),
      minScore: z.number().optional(),
      maxScore: z.number().optional(),
      roundIndex: z.number().int().min(0).optional(),
      generatorId: z.string().max(200).optional(),
      promptContains: z.string().max(200).optional(),
      offset: z.number().int().min(0),
      limit: z.number().int().min(1).max(1000),
    })
    .strict(),
  instanceDetail: z.object({ id }).strict(),
  similar: z.object({ id, k: z.number().int().min(1).max(1000), sameLabel: z.boolean() }).strict(),
  nearestReal: z.object({ id, k: z.number().int().min(1).max(100) }).strict(),
  curate: z
    .object({
      ids: z.array(id).min(1).max(100_000),
      action: z.enum(['accept', 'reject', 'relabel', 'clear']),
      labelId: id.optional(),
    })
    .strict(),
  undo: z.object({}).strict(),
  auditSample: z.object({ perClass: z.number().int().min(1).max(200), seed: z.number().int().min(0) }).strict(),
  auditVerdict: z
    .object({
      id,
      verdict: z.enum(['correct', 'incorrect']),
      /** The label the auditor was shown and judged (default: the instance's current label). */
      labelId: id.optional(),
    })
    .strict(),
  auditUndo: z.object({}).strict(),
  /** The agreement is measured for `kind` (default: the default ranking, quality). */
  auditSummary: z.object({ kind: z.enum(SCORE_KINDS).optional() }).strict(),
  exportDataset: z
    .object({
      /** A folder name: the export goes to `<project>/exports/<name>`, never anywhere else. */
      name: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be a plain folder name (letters, digits, . _ -)'),
      status: z.enum(['accepted', 'rejected', 'pending', 'all']),
      labelIds: z.array(id).optional(),
      minContribution: z.number().optional(),
      /** Only instances whose default ranking (quality) is at least this. */
      minScore: z.number().optional(),
      formats: z.array(z.enum(['imagefolder', 'csv', 'jsonl', 'coco'])).min(1),
    })
    .strict(),
  /** Starts a loop with these settings (the rest: defaults), or resumes the latest unfinished run. */
  runStart: z.union([
    z
      .object({
        rounds: z.number().int().min(1).max(1000),
        perRound: z.number().int().min(1).max(100_000),
        /** Default: a seed no earlier run of the project used (a repeated seed remakes the same images). */
        seed: z.number().int().min(0).optional(),
        filter: z.enum(LOOP_FILTERS),
        /** Default: DEFAULT_RULE (runSettings.ts), the top 70% of each class. */
        rule: runRuleSchema.optional(),
        acquisition: z.enum(ACQUISITIONS),
        scoring: z.enum(['online', 'offline']),
        epsilon: z.number().min(0).max(10),
        /** A registered Stable Diffusion model, or `embedded` (the default). */
        generator: modelName.optional(),
        /** The head's backbone: a registered CLIP model, or `embedded` (the default). */
        encoder: modelName.optional(),
        /** A registered CLIP model: adds the `clip` score kind and makes the `clip` filter possible. */
        clip: clipModelName.optional(),
      })
      .strict(),
    z.object({ resume: z.literal(true) }).strict(),
  ]),
  runStop: z.object({ as: z.enum(['paused', 'cancelled']) }).strict(),
  listClasses: z.object({}).strict(),
  updateClass: z
    .object({
      id,
      promptTemplates: z
        .array(z.string().min(1).max(500).includes('{label}', { message: 'must contain {label}' }))
        .min(1)
        .max(50)
        .optional(),
      negativePrompt: z.string().max(500).optional(),
      disambiguation: z.string().max(500).optional(),
      budgetWeight: z.number().min(0).max(100).optional(),
    })
    .strict(),
  /**
   * Candidate prompts for a class (what `winnow prompts` prints): context and style templates on its
   * disambiguated name, those an OpenAI-compatible endpoint suggests (its key: the engine's
   * `WINNOW_LLM_API_KEY`, never sent by the UI), ranked by a registered CLIP model when given.
   */
  promptSuggestions: z
    .object({
      classId: id,
      clip: clipModelName.optional(),
      endpoint: z
        .object({ url: httpUrl, model: z.string().min(1).max(200) })
        .strict()
        .optional(),
      /** How many prompts to ask the endpoint for (default 8). */
      count: z.number().int().min(1).max(32).optional(),
    })
    .strict(),
  runState: z.object({}).strict(),
  /** The histograms are of `kind` (default: the default ranking, quality). */
  runMetrics: z.object({ runId: id, kind: z.enum(SCORE_KINDS).optional() }).strict(),
  modelList: z.object({}).strict(),
  /** Checks a Stable Diffusion or CLIP folder completely, then registers it (default name: the folder's). */
  modelAdd: z.object({ folder: absolutePath, name: modelName.optional() }).strict(),
  /** Forgets a registered model; its folder stays as it is. */
  modelRemove: z.object({ name: modelName }).strict(),
  /** Every real image and synthetic instance with features, laid out in 2-D (UMAP; cached). */
  mapPoints: z.object({}).strict(),
} as const satisfies Record<Method, z.ZodType>;

export type Request<M extends Method> = z.infer<(typeof requestSchemas)[M]>;

export interface ClassStatus {
  readonly id: number;
  readonly name: string;
  readonly real: { readonly train: number; readonly val: number; readonly test: number };
  readonly synthetic: {
    readonly pending: number;
    readonly accepted: number;
    readonly rejected: number;
    readonly overridden: number;
  };
}

export interface ProjectStatus {
  readonly dir: string;
  readonly name: string;
  readonly schemaVersion: number;
  readonly classes: readonly ClassStatus[];
  readonly runs: number;
  /** Runs that did not finish; one whose process died shows as interrupted, with why. */
  readonly unfinishedRuns: readonly UnfinishedRunStatus[];
  readonly exports: number;
}

export interface UnfinishedRunStatus {
  readonly id: number;
  readonly kind: string;
  readonly status: 'running' | 'paused' | 'failed' | 'cancelled' | 'interrupted';
  readonly startedAt: string;
  /** Why it stopped (an interruption or a failure), when known. */
  readonly reason: string | null;
  /** Whether resuming (`winnow run --resume`, the UI's Resume) would take it up. */
  readonly resumable: boolean;
}

/** What a review grid shows of an instance. */
export interface InstanceSummary {
  readonly id: number;
  readonly imageHash: string;
  readonly classId: number;
  readonly labelId: number;
  readonly status: 'pending' | 'accepted' | 'rejected';
  readonly override: 'accepted' | 'rejected' | null;
  readonly contribution: number | null;
  /** The value of the score kind the list was ordered by (the default ranking unless another was asked for). */
  readonly score: number | null;
}

export interface InstanceDetail extends InstanceSummary {
  readonly prompt: string;
  readonly negativePrompt: string;
  readonly seed: number | null;
  readonly epsilon: number;
  readonly generatorId: string;
  readonly genParams: Record<string, unknown>;
  readonly runId: number | null;
  readonly roundIndex: number | null;
  readonly scores: readonly { kind: string; value: number; roundIndex: number | null; at: string }[];
}

export interface Responses {
  projectStatus: ProjectStatus;
  projectList: {
    readonly current: string;
    readonly recent: readonly { readonly dir: string; readonly exists: boolean }[];
  };
  projectOpen: ProjectStatus;
  projectCreate: ProjectStatus;
  classExtremes: { readonly best: readonly InstanceSummary[]; readonly worst: readonly InstanceSummary[] };
  classPage: { readonly total: number; readonly items: readonly InstanceSummary[] };
  instanceDetail: InstanceDetail;
  /** Nearest instances in feature space, most similar first, with their cosine similarity. */
  similar: { readonly items: readonly (InstanceSummary & { readonly similarity: number })[] };
  /** The real images nearest to an instance in feature space, with their labels. */
  nearestReal: {
    readonly items: readonly {
      readonly imageHash: string;
      readonly classId: number;
      readonly split: string;
      readonly similarity: number;
    }[];
  };
  curate: { readonly batch: string };
  undo: { readonly batch: string | null };
  auditSample: { readonly items: readonly InstanceSummary[] };
  /** The verdict's id and the label it judged. */
  auditVerdict: { readonly id: number; readonly labelId: number };
  auditUndo: { readonly id: number | null };
  auditSummary: AuditSummary;
  listClasses: { readonly classes: readonly ClassSettings[] };
  updateClass: ClassSettings;
  promptSuggestions: {
    /** Most similar to the class's meaning first when a CLIP model ranked them, else templates, then the endpoint's. */
    readonly suggestions: readonly PromptSuggestion[];
    /** Why the endpoint was not used, when one was given and failed (the templates still were). */
    readonly endpointError?: string;
  };
  runStart: { readonly started: true };
  runStop: { readonly stopping: true };
  runState: RunState;
  runMetrics: RunMetrics;
  exportDataset: {
    readonly destination: string;
    readonly instances: number;
    readonly perClass: Readonly<Record<string, number>>;
    readonly files: readonly string[];
  };
  modelList: {
    readonly models: readonly ModelInfo[];
    /** The execution provider models run on (cuda, webgpu, dml, coreml or cpu)… */
    readonly provider: string;
    /** …why (the adapter, or why no GPU provider can start)… */
    readonly providerReason: string;
    /** …and every provider that applies here, as probed, with what would make an unavailable one usable. */
    readonly providers: readonly ProviderInfo[];
  };
  modelAdd: ModelInfo;
  modelRemove: { readonly removed: string };
  mapPoints: MapPoints;
}

/**
 * The embeddings map: a 2-D UMAP layout of the encoder features of every real image (first, `real`
 * of them) and every synthetic instance, as columns with one entry per point (compact over the wire).
 */
export interface MapPoints {
  /** The encoder whose features were laid out: the one most images have features under. */
  readonly encoderId: string;
  /** Whether the layout came from the project's cache (else it was computed now, in `seconds`). */
  readonly cached: boolean;
  readonly seconds: number;
  /** How many points UMAP was fitted on; the others were placed by its transform. */
  readonly fitted: number;
  /** Real images and instances left off the map: no features under the encoder yet (score them). */
  readonly withoutFeatures: number;
  /** Realism below this flags a synthetic instance as far from every real image of its label. */
  readonly farBelow: number;
  /** The first `real` points are real images, the rest synthetic instances. */
  readonly real: number;
  /** In [-1, 1]. */
  readonly x: readonly number[];
  readonly y: readonly number[];
  /** A real image's real-sample id, an instance's id. */
  readonly id: readonly number[];
  readonly imageHash: readonly string[];
  /** A real image's class, an instance's pseudo-label. */
  readonly labelId: readonly number[];
  /** An instance's decision (the curator's when made); null for real images. */
  readonly status: readonly ('pending' | 'accepted' | 'rejected' | null)[];
  /** The 0-based loop round an instance was made in; null for real images and imported instances. */
  readonly round: readonly (number | null)[];
  /** The default ranking (quality); null when unscored and for real images. */
  readonly quality: readonly (number | null)[];
  readonly realism: readonly (number | null)[];
  /** realism < farBelow: far from every real image of its label. */
  readonly far: readonly boolean[];
}

/** One execution provider as the engine's machine probe found it. */
export interface ProviderInfo {
  readonly provider: string;
  readonly available: boolean;
  readonly detail: string;
  readonly fix?: string;
}

/** A registered Stable Diffusion or CLIP model (the per-user registry in WINNOW_HOME). */
export interface ModelInfo {
  readonly name: string;
  readonly kind: 'stable-diffusion' | 'clip';
  /** Its folder, on the machine the engine runs on. */
  readonly path: string;
  /** `name@hash`, the hash covering every file of the folder: what instances record. */
  readonly id: string;
  readonly sizeBytes: number;
  readonly precision: 'fp32' | 'fp16' | 'mixed';
  readonly addedAt: string;
}

export interface AccuracyEstimate {
  readonly audited: number;
  readonly correct: number;
  readonly accuracy: number | null;
  /** 95% Wilson interval. */
  readonly low: number;
  readonly high: number;
}

export interface AuditSummary {
  /**
   * Per class, the verdicts that judged it as the label (a verdict stays with the label it judged
   * when the instance is relabelled later); `relabelled` of them are on instances labelled otherwise now.
   */
  readonly classes: readonly ({
    readonly classId: number;
    readonly name: string;
    readonly relabelled: number;
  } & AccuracyEstimate)[];
  readonly overall: AccuracyEstimate;
  /**
   * How well a score kind (`kind`; default the default ranking) agrees with the verdicts (AUROC for
   * flagging incorrect ones), over the verdicts on instances' current labels (the labels their scores rank).
   */
  readonly agreement: {
    readonly kind: ScoreKindName;
    readonly scored: number;
    readonly auroc: number | null;
    readonly meanCorrect: number | null;
    readonly meanIncorrect: number | null;
  };
}

/** The API as an object of methods: what the engine implements and the renderer's client offers. */
export type WinnowApi = { [M in Method]: (request: Request<M>) => Promise<Responses[M]> };

/** How an error crosses a transport: what is wrong, and what to do about it. */
export interface ApiError {
  readonly error: string;
  readonly fix?: string;
}

/** What crosses a transport: the response, or the error with its fix (errors lose fields when thrown across IPC). */
export type Result<T> = { readonly ok: true; readonly value: T } | ({ readonly ok: false } & ApiError);

/** The API as a transport carries it: what the preload exposes as `window.winnow`. */
export type WinnowTransport = { [M in Method]: (request: Request<M>) => Promise<Result<Responses[M]>> } & {
  /** Subscribes to engine events; returns the unsubscribe function. */
  onEvent(listener: (event: EngineEvent) => void): () => void;
};

export interface RunState {
  readonly job:
    | { readonly state: 'idle' }
    | { readonly state: 'running'; readonly runId: number | null; readonly last: ProgressEvent | null };
  readonly runs: readonly {
    readonly id: number;
    readonly status: string;
    readonly startedAt: string;
    readonly finishedAt: string | null;
  }[];
}

export interface RunMetrics {
  readonly runId: number;
  /** The score kind of the histograms. */
  readonly kind: ScoreKindName;
  readonly rounds: readonly {
    readonly round: number;
    readonly valAccuracy: number | null;
    readonly generated: number | null;
    readonly acceptedNew: number | null;
    /** Histogram of `kind` over the instances scored in this round: counts over `bins`. */
    readonly histogram: readonly number[];
  }[];
  /**
   * Bin edges of the histograms, common to all rounds: 20 equal bins over the run's range of the
   * kind, within the kind's own range if it has one (binEdges, src/shared/histogram.ts).
   */
  readonly bins: readonly number[];
  /** The run's instances by pseudo-label and curated decision. */
  readonly perClass: readonly {
    readonly name: string;
    readonly accepted: number;
    readonly rejected: number;
    readonly pending: number;
  }[];
}

/** Events the engine pushes to every open view. */
export type EngineEvent =
  | { readonly type: 'progress'; readonly event: ProgressEvent }
  | {
      readonly type: 'finished';
      readonly runId: number | null;
      readonly status: string;
      readonly error?: string;
      /** Why a finished run added less than it generated (its images were already in the project). */
      readonly warning?: string;
    }
  /** Another project was opened: every view reloads. */
  | { readonly type: 'project'; readonly dir: string }
  /** How far the embeddings map's layout has got (it is computed once, then cached). */
  | { readonly type: 'mapProgress'; readonly stage: MapStage; readonly done: number; readonly total: number };

/** The embeddings map's stages: load features, find UMAP's neighbours, lay out, place the rest. */
export type MapStage = 'features' | 'neighbours' | 'layout' | 'place';

/** A candidate prompt for a class. */
export interface PromptSuggestion {
  /** The prompt as the generator would get it (the class's disambiguated name filled in). */
  readonly prompt: string;
  /** The same with {label}, what a class's templates hold; null when the prompt never names the class. */
  readonly template: string | null;
  readonly source: 'template' | 'endpoint';
  /** CLIP cosine between the prompt and the class's meaning, when a CLIP model ranked the suggestions. */
  readonly clipSimilarity?: number;
}

/** A class's generation settings. */
export interface ClassSettings {
  readonly id: number;
  readonly name: string;
  readonly promptTemplates: readonly string[];
  readonly negativePrompt: string;
  readonly disambiguation: string;
  readonly budgetWeight: number;
}
