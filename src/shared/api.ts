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

/** A class name; the engine checks the rest (it must also be a folder name on every platform). */
const className = z.string().min(1).max(100);

function isHttpUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * The instances an audit samples and estimates: `exported`, those an export of accepted instances
 * holds (the filter's decision, a curator's override winning); `all`, every instance whatever its decision.
 */
export const AUDIT_POPULATIONS = ['exported', 'all'] as const;
export type AuditPopulation = (typeof AUDIT_POPULATIONS)[number];
/** The longest tag and note a curator may write (the store's CHECKs repeat them as a backstop). */
export const TAG_MAX_LENGTH = 64;
export const NOTE_MAX_LENGTH = 4000;
/** A curator's tag: free text, trimmed, one line. Tags compare without case ("Blurry" is "blurry"). */
export const tagSchema = z
  .string()
  .trim()
  .min(1)
  .max(TAG_MAX_LENGTH)
  .regex(/^[^\p{Cc}]*$/u, 'must be one line of text (no tabs or line breaks)');

/** The review's filters of a class's instances, as both the strips and the grid take them. */
const classFilter = {
  status: z.enum(['pending', 'accepted', 'rejected']).optional(),
  minScore: z.number().optional(),
  maxScore: z.number().optional(),
  roundIndex: z.number().int().min(0).optional(),
  generatorId: z.string().max(200).optional(),
  promptContains: z.string().max(200).optional(),
  tag: tagSchema.optional(),
};

/**
 * A saved view: the review's filters with its sort and score kind, as one named thing the Review
 * screen (strips and grid) and the Map apply alike. `roundIndex` counts from 0, as in the filters.
 */
export const savedViewSettings = z
  .object({ order: z.enum(['best', 'worst', 'newest']), kind: z.enum(SCORE_KINDS), ...classFilter })
  .strict();
export type SavedViewSettings = z.infer<typeof savedViewSettings>;
const tagChange = z.object({ ids: z.array(id).min(1).max(100_000), tags: z.array(tagSchema).min(1).max(20) }).strict();

export const requestSchemas = {
  projectStatus: z.object({}).strict(),
  projectList: z.object({}).strict(),
  projectOpen: z.object({ dir: absolutePath }).strict(),
  projectCreate: z.object({ dir: absolutePath }).strict(),
  // The strips obey the grid's filters too.
  classExtremes: z
    .object({ classId: id, n: z.number().int().min(1).max(500), kind: z.enum(SCORE_KINDS).optional(), ...classFilter })
    .strict(),
  classPage: z
    .object({
      labelId: id,
      order: z.enum(['best', 'worst', 'newest']),
      kind: z.enum(SCORE_KINDS).optional(),
      ...classFilter,
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
  /** Adds tags to instances, as one curator action (the review's undo takes it back). */
  tagAdd: tagChange,
  /** Removes tags from instances, as one curator action. */
  tagRemove: tagChange,
  /** The project's tags with how many instances carry each, most used first. */
  tagList: z.object({}).strict(),
  /** Sets an instance's note; empty text clears it. */
  noteSet: z.object({ id, text: z.string().max(NOTE_MAX_LENGTH) }).strict(),
  /** The project's saved views, by name. */
  viewList: z.object({}).strict(),
  /** Saves a view under a name (replacing the one of that name, without case). */
  viewSave: z.object({ name: z.string().trim().min(1).max(100), view: savedViewSettings }).strict(),
  viewDelete: z.object({ id }).strict(),
  /** Every instance of the project (any class) a view's filters keep, with its score of the view's kind. */
  viewInstances: z.object({ kind: z.enum(SCORE_KINDS), ...classFilter }).strict(),
  classUndo: z.object({ classId: id }).strict(),
  classRedo: z.object({ classId: id }).strict(),
  auditSample: z
    .object({
      perClass: z.number().int().min(1).max(200),
      seed: z.number().int().min(0),
      /** Which instances to draw from (default: all, as before populations existed). */
      population: z.enum(AUDIT_POPULATIONS).optional(),
    })
    .strict(),
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
  auditSummary: z
    .object({
      kind: z.enum(SCORE_KINDS).optional(),
      /** The population the estimates are of (default: exported, what an export of accepted instances holds). */
      population: z.enum(AUDIT_POPULATIONS).optional(),
      /** The seed of the AUROC's bootstrap (default 1). */
      seed: z.number().int().min(0).optional(),
    })
    .strict(),
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
        /** Default: defaultRuleFor(filter, 'run') (runSettings.ts): confident learning's rule for the default ranking. */
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
      /** The class's own guidance scale; null: the generator's default. */
      guidanceScale: z.number().min(1).max(30).nullable().optional(),
    })
    .strict(),
  /**
   * Candidate prompts for a class (what `winnow prompts` prints): context and style templates on its
   * disambiguated name, those an OpenAI-compatible endpoint suggests (its key: the engine's
   * `WINNOW_LLM_API_KEY`, never sent by the UI, and sent only to `WINNOW_LLM_ENDPOINT`'s origin), ranked
   * by a registered CLIP model when given.
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
      /** The generator the prompts are for (default: the embedded one): says which styles it can draw. */
      generator: modelName.optional(),
    })
    .strict(),
  runState: z.object({}).strict(),
  /** The histograms are of `kind` (default: the default ranking, quality). */
  runMetrics: z.object({ runId: id, kind: z.enum(SCORE_KINDS).optional() }).strict(),
  /** A run's own settings and its rounds' metrics and stage timings (the per-round table `winnow run` prints). */
  runDetail: z.object({ runId: id }).strict(),
  modelList: z.object({}).strict(),
  /** Checks a Stable Diffusion or CLIP folder completely, then registers it (default name: the folder's). */
  modelAdd: z.object({ folder: absolutePath, name: modelName.optional() }).strict(),
  /** Forgets a registered model; its folder stays as it is. */
  modelRemove: z.object({ name: modelName }).strict(),
  /** The queue later runs generate through (the user's, not the project's), if any. */
  queueSetting: z.object({}).strict(),
  /**
   * Chooses it for the runs started from now on: a redis:// or rediss:// URL, checked by connecting,
   * or null to generate in this process again. Refused when the engine was started with --queue.
   */
  queueChoose: z.object({ url: z.string().trim().min(1).max(2048).nullable() }).strict(),
  /** Pseudo-label × suggested label over the project's synthetic instances (of one effective status when given). */
  labelIssues: z.object({ status: z.enum(['pending', 'accepted', 'rejected']).optional() }).strict(),
  /** One cell of that matrix, the most probable suggestion first. */
  labelIssueInstances: z
    .object({
      labelId: id,
      suggestedId: id,
      status: z.enum(['pending', 'accepted', 'rejected']).optional(),
      offset: z.number().int().min(0),
      limit: z.number().int().min(1).max(1000),
    })
    .strict(),
  /** Relabels each instance to its suggested label, as one curator relabel (one undo reverts it). */
  applySuggestedLabels: z.object({ ids: z.array(id).min(1).max(100_000) }).strict(),
  /** Creates a class with the default prompt template. */
  classAdd: z.object({ name: className }).strict(),
  /** Renames a class; its images, scores and settings stay with it. */
  classRename: z.object({ id, name: className }).strict(),
  /**
   * Starts importing an ImageFolder on the engine's machine as a background job (what `winnow import
   * real|synthetic` does); `importState` follows it. Real images go into `split` (default train).
   */
  importStart: z
    .object({
      kind: z.enum(['real', 'synthetic']),
      folder: absolutePath,
      split: z.enum(['train', 'val', 'test']).optional(),
    })
    .strict(),
  importState: z.object({}).strict(),
  /** Every real image and synthetic instance with features, laid out in 2-D (UMAP; cached). */
  mapPoints: z.object({}).strict(),
  /** Whether a class's disagreements with the head gather in one other class, and the negative prompt that names it. */
  remedyProposal: z.object({ classId: id }).strict(),
  /**
   * Tries each remedy the generator can take on a batch of `count` instances (and one batch without
   * any, same seeds), scores the project, and applies the remedy that raised the head's agreement
   * most, or none: a background job (`remedyState` follows it and holds each batch's agreement).
   */
  remedyApply: z
    .object({
      classId: id,
      count: z.number().int().min(1).max(1000),
      /** The negative prompt to try (default: the class's with the confused class added). */
      negativePrompt: z.string().trim().min(1).max(500).optional(),
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31)
        .optional(),
      /** The generator and the scoring backbone (default: the embedded ones). */
      generator: modelName.optional(),
      encoder: modelName.optional(),
    })
    .strict(),
  remedyState: z.object({}).strict(),
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
  /** The curators' tags, in alphabetical order. */
  readonly tags: readonly string[];
}

/** A batch of curator actions, as undo and redo report it. */
export interface CuratedBatch {
  readonly batch: string;
  readonly action: 'accept' | 'reject' | 'relabel' | 'clear' | 'tag' | 'untag';
  readonly count: number;
  /** The class its instances were in before it, and after it (another one for a relabel). */
  readonly fromLabelId: number;
  readonly toLabelId: number;
  /** For a tag or untag: the tags it added or removed. */
  readonly tags?: readonly string[];
}

/** A named view of a project, as saved. */
export interface SavedView {
  readonly id: number;
  readonly name: string;
  readonly view: SavedViewSettings;
  readonly updatedAt: string;
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
  /** The scoring head's most probable class for it, out-of-sample; null until it is scored. */
  readonly suggestion: LabelSuggestionInfo | null;
  /** The curators' note on it, with when it was last changed; null when it has none. */
  readonly note: { readonly text: string; readonly updatedAt: string } | null;
}

/** A suggested label: the class the scoring head finds most probable, and that probability. */
export interface LabelSuggestionInfo {
  readonly labelId: number;
  readonly probability: number;
}

/** An instance of a label issues cell: the review grid's summary with its suggestion. */
export type SuggestedInstanceSummary = InstanceSummary & { readonly suggestion: LabelSuggestionInfo };

/** The label issues matrix: pseudo-label (rows) × suggested label (columns). */
export interface LabelIssues {
  /** The project's classes, the rows' and columns' order. */
  readonly classes: readonly { readonly id: number; readonly name: string }[];
  /** The non-empty cells; a disagreement is off the diagonal (the head suggests another class). */
  readonly cells: readonly {
    readonly labelId: number;
    readonly suggestedId: number;
    readonly count: number;
    readonly disagreement: boolean;
  }[];
  /** Instances with a suggestion, of them those that disagree, and those never scored. */
  readonly suggested: number;
  readonly disagreements: number;
  readonly unsuggested: number;
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
  /** The batch (null when every instance already had, or lacked, the tags) and how many instances changed. */
  tagAdd: { readonly batch: string | null; readonly changed: number };
  tagRemove: { readonly batch: string | null; readonly changed: number };
  tagList: { readonly tags: readonly { readonly tag: string; readonly count: number }[] };
  noteSet: { readonly note: { readonly text: string; readonly updatedAt: string } | null };
  viewList: { readonly views: readonly SavedView[] };
  viewSave: SavedView;
  viewDelete: { readonly deleted: number };
  /** In id order; `scores[k]` is `ids[k]`'s latest score of the kind asked for (null: unscored). */
  viewInstances: { readonly ids: readonly number[]; readonly scores: readonly (number | null)[] };
  /** The review screen's undo and redo: the latest batch touching one class, or null when there is none. */
  classUndo: { readonly undone: CuratedBatch | null };
  classRedo: { readonly redone: CuratedBatch | null };
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
    /** What the generator the prompts are for can follow of a prompt. */
    readonly generator: GeneratorPrompting;
  };
  runStart: { readonly started: true };
  runStop: { readonly stopping: true };
  runState: RunState;
  runMetrics: RunMetrics;
  runDetail: RunDetail;
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
  queueSetting: QueueSetting;
  queueChoose: QueueSetting;
  labelIssues: LabelIssues;
  labelIssueInstances: { readonly total: number; readonly items: readonly SuggestedInstanceSummary[] };
  /** The batch to undo (null when every instance already had its suggested label), and how many changed. */
  applySuggestedLabels: { readonly batch: string | null; readonly relabelled: number };
  classAdd: ClassSettings;
  classRename: ClassSettings;
  importStart: { readonly started: true };
  importState: ImportState;
  remedyProposal: RemedyProposal;
  remedyApply: { readonly started: true };
  remedyState: RemedyState;
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

/**
 * Instances of a class whose suggested label (the scoring head's most probable class) is the
 * class itself, of those with a suggestion: agreement with the head, not accuracy (the audit measures that).
 */
export interface HeadAgreement {
  readonly agreeing: number;
  readonly suggested: number;
}

/** A class's label issues row read as a remedy: the class its disagreements gather in, if one, and the negative prompt naming it. */
export interface RemedyProposal {
  readonly classId: number;
  readonly className: string;
  /** The class's instances with a suggestion, and of them those the head agrees with. */
  readonly agreement: HeadAgreement;
  readonly disagreements: number;
  /** The other class most of the disagreements suggest, with how many do; null when there are none. */
  readonly confusedWith: { readonly id: number; readonly name: string; readonly count: number } | null;
  /** Whether those disagreements concentrate enough in `confusedWith` for a negative prompt to name it. */
  readonly concentrated: boolean;
  /** The class's negative prompt now, and the proposed one (now's text with the confused class added); null: nothing to propose. */
  readonly currentNegativePrompt: string;
  readonly negativePrompt: string | null;
  /** The evidence in a sentence, e.g. "41 of 60 disagreements suggest t-shirt". */
  readonly evidence: string;
}

/** A remedy for a confused class (src/main/pipeline/remedy.ts REMEDY_KINDS says what each changes). */
export type RemedyKind = 'negative' | 'guidance' | 'disambiguation' | 'budget';

/** One remedy tried on a batch: what it changed and the head's agreement over the batch. */
export interface RemedyTrial {
  readonly kind: RemedyKind;
  readonly label: string;
  /** The change in words, e.g. 'negative prompt "t-shirt"'. */
  readonly change: string;
  readonly generateRunId: number;
  readonly instanceIds: readonly number[];
  readonly agreement: HeadAgreement;
}

/** Class settings a remedy changes: as they were before (to put back), or as it would set them. */
export interface RemedyUndo {
  readonly negativePrompt?: string;
  readonly guidanceScale?: number | null;
  readonly disambiguation?: string;
  readonly budgetWeight?: number;
}

/** What trying the remedies did: each batch's agreement, and the remedy applied (null: none raised agreement). */
export interface RemedyOutcome {
  readonly classId: number;
  readonly className: string;
  /** The class the remedies steer away from. */
  readonly confusedWith: string;
  /** Every batch's first noise seed. */
  readonly seed: number;
  /** Over the class's instances before the batches. */
  readonly before: HeadAgreement;
  /** The batch made without a remedy, the one each remedy is compared with. */
  readonly baseline: {
    readonly generateRunId: number;
    readonly instanceIds: readonly number[];
    readonly agreement: HeadAgreement;
  };
  readonly trials: readonly RemedyTrial[];
  /**
   * Remedies not tried, with why (the generator cannot take it, or a batch cannot show it); one the
   * generator can take comes with its change in words and the setting to apply it by hand.
   */
  readonly notTried: readonly {
    readonly kind: RemedyKind;
    readonly label: string;
    readonly why: string;
    readonly change?: string;
    readonly apply?: RemedyUndo;
  }[];
  readonly chosen: RemedyKind | null;
  /** The chosen remedy's change in words, and the settings to restore to undo it; null when none was applied. */
  readonly applied: string | null;
  readonly undo: RemedyUndo | null;
  /** The choice in a sentence ("No remedy tried raised agreement; left as is." when none did). */
  readonly verdict: string;
  readonly scoreRunId: number;
}

/** The remedy job of the open project: none yet, generating or scoring, or how the last one ended. */
export type RemedyState =
  | { readonly state: 'idle' }
  | {
      readonly state: 'running';
      readonly classId: number;
      readonly stage: 'generate' | 'score';
      readonly done: number;
      readonly total: number | null;
    }
  | { readonly state: 'done'; readonly outcome: RemedyOutcome }
  | { readonly state: 'failed'; readonly classId: number; readonly error: string; readonly fix?: string };

/** What a generator can follow of a prompt: whether style words ("watercolour", "pencil sketch") change its images. */
export interface GeneratorPrompting {
  /** The generator's name as a run selects it (`embedded`, or a registered model's). */
  readonly name: string;
  readonly followsStyle: boolean;
  /** What it does with a prompt, in a sentence (e.g. that it draws only the class a prompt names). */
  readonly note: string;
}

/** An import started from the UI: what it imports from where. */
export interface ImportJob {
  readonly kind: 'real' | 'synthetic';
  readonly folder: string;
  /** The split real images go into; null for synthetic ones. */
  readonly split: 'train' | 'val' | 'test' | null;
}

/** What an import did, as `winnow import` prints it, with what each class gained. */
export interface ImportSummary {
  readonly imported: number;
  readonly classesCreated: readonly string[];
  /** Images each class gained (real ones in the split, or synthetic instances), counted in the project. */
  readonly perClass: readonly { readonly name: string; readonly added: number }[];
  /** The files left out, with why: the first ones, when there are many (`skippedCount` counts them all). */
  readonly skipped: readonly { readonly path: string; readonly reason: string }[];
  readonly skippedCount: number;
  /** The run a synthetic import is recorded as; null for real images. */
  readonly runId: number | null;
}

/** The import job of the open project: none yet, reading files, or how the last one ended. */
export type ImportState =
  | { readonly state: 'idle' }
  | {
      readonly state: 'running';
      readonly job: ImportJob;
      /** Reading files (`done` of `total` found), then committing the staged ones (`done` of `total` staged). */
      readonly stage: 'read' | 'commit';
      readonly done: number;
      readonly total: number | null;
    }
  | { readonly state: 'done'; readonly job: ImportJob; readonly report: ImportSummary }
  | { readonly state: 'failed'; readonly job: ImportJob; readonly error: string; readonly fix?: string };

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
    /** How many instances of the population it holds now: its stratum's size. */
    readonly size: number;
  } & AccuracyEstimate)[];
  /** The verdicts pooled, every class counted as if it were as large as the others (see `stratified`). */
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
    /** The AUROC's 95% percentile-bootstrap interval (seeded: the same verdicts and seed give the same one). */
    readonly low: number | null;
    readonly high: number | null;
    readonly resamples: number;
    readonly seed: number;
    /** The incorrect verdicts among `scored`: what the AUROC rests on, as much as the total. */
    readonly incorrect: number;
  };
  /** The population the classes' rows, the estimates and the agreement are of. */
  readonly population: AuditPopulation;
  /** The pseudo-label accuracy of the population, each class weighted by its size there. */
  readonly stratified: StratifiedAccuracy;
  /** Standing incorrect verdicts of the population, newest first, with the label they judged. */
  readonly incorrect: readonly AuditedInstance[];
}

export interface StratifiedAccuracy {
  /** The population's size: its instances in every class. */
  readonly size: number;
  readonly accuracy: number | null;
  readonly standardError: number | null;
  /** 95% interval; null until every judged class has two verdicts. */
  readonly low: number | null;
  readonly high: number | null;
  /** The share of the population in classes with a verdict: the estimate speaks for that share. */
  readonly coveredShare: number;
}

/** An instance a verdict judged, with the label it judged (`labelId` is its label now). */
export interface AuditedInstance {
  readonly id: number;
  readonly imageHash: string;
  readonly judgedLabelId: number;
  readonly labelId: number;
}

/** A loop run as the run screen shows it: its settings, and per round its numbers and stage timings. */
export interface RunDetail {
  readonly runId: number;
  readonly status: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** The settings the run was started with, as stored. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** The models it used, `name@hash` by role. */
  readonly models: Readonly<Record<string, string>>;
  readonly rounds: readonly {
    /** -1: the start (the real-data head), before any round. */
    readonly round: number;
    readonly generated: number | null;
    readonly acceptedNew: number | null;
    readonly valAccuracy: number | null;
    /** Accuracy on the project's test split, held out from everything; null where it has none. */
    readonly testAccuracy: number | null;
    /** The rule the validated rule chose this round (ruleLabel's words); null under any other rule. */
    readonly rule: string | null;
    /** Seconds each stage took, as the loop recorded them. */
    readonly seconds: Readonly<Record<string, number>>;
    readonly startedAt: string | null;
    readonly finishedAt: string | null;
  }[];
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
    /** Accuracy on the project's test split, held out from everything; null where it has none. */
    readonly testAccuracy: number | null;
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
  | { readonly type: 'mapProgress'; readonly stage: MapStage; readonly done: number; readonly total: number }
  /** The generation queue's depth and workers, every few seconds while a run generates through one. */
  | { readonly type: 'queue'; readonly status: QueueStatus };

/** The queue runs generate through: its URL (password hidden) and where it was set; null: in-process. */
export interface QueueSetting {
  readonly url: string | null;
  /** `flag`: `winnow serve --queue` (fixed while it runs); `setting`: chosen on the Run screen. */
  readonly source: 'flag' | 'setting' | null;
}

/** A generation queue (`--queue redis://…`) as the Run screen shows it. */
export interface QueueStatus {
  /** The queue's Redis URL, any password replaced by ***. */
  readonly url: string;
  /** Jobs waiting for a worker, being worked, waiting to be retried (backoff), and failed for good. */
  readonly depth: {
    readonly waiting: number;
    readonly active: number;
    readonly delayed: number;
    readonly failed: number;
  };
  readonly workers: readonly QueueWorker[];
}

/** A worker (`winnow worker`) as it last reported itself. */
export interface QueueWorker {
  /** host-pid */
  readonly id: string;
  /** Whether it reported in the last few seconds. */
  readonly alive: boolean;
  /** The execution provider its generator runs on, and the adapter (or why not on a GPU). */
  readonly provider: string;
  readonly adapter: string;
  readonly jobs: number;
  readonly images: number;
  /** Jobs finished per second over the last 30 seconds. */
  readonly jobsPerSecond: number;
}

/** The embeddings map's stages: load features, find UMAP's neighbours, lay out, place the rest. */
export type MapStage = 'features' | 'neighbours' | 'layout' | 'place';

/** A candidate prompt for a class. */
export interface PromptSuggestion {
  /** The prompt as the generator would get it (the class's disambiguated name filled in). */
  readonly prompt: string;
  /** The same with {label}, what a class's templates hold; null when the prompt never names the class. */
  readonly template: string | null;
  readonly source: 'template' | 'endpoint';
  /** For a template: whether it varies where the object is (context) or how it is depicted (style). */
  readonly aspect?: 'context' | 'style';
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
  /** Classifier-free guidance for this class's images; null: the generator's default. */
  readonly guidanceScale: number | null;
}
