import type {
  GeneratorPrompting,
  HeadAgreement,
  RemedyKind,
  RemedyOutcome,
  RemedyProposal,
  RemedyTrial,
} from '../../shared/api.ts';
import { WinnowError } from '../errors.ts';
import type { Generator } from '../models/generator.ts';
import type { ImageEncoder } from '../models/imageEncoder.ts';
import { type ClassRow, getClass, listClasses, updateClass } from '../store/classes.ts';
import type { Db } from '../store/database.ts';
import type { Project } from '../store/project.ts';
import { suggestionMatrix, suggestionOf } from '../store/suggestions.ts';
import { generateInstances, randomNoiseSeed } from './generate.ts';
import { defaultScoreOptions, type ScoreOptions, scoreProject } from './scoreSet.ts';

/**
 * Remedies for a class whose instances the scoring head keeps placing in one other class (shirts
 * that look like t-shirts), each a change to the class's settings (REMEDY_KINDS). Before proposing
 * one, Winnow tries each that the generator can take on a small batch with the same seeds as a
 * batch without any, scores the project, and proposes (and applies) the one that raised the head's
 * agreement with the pseudo-label most, or none. Agreement with the head, not accuracy, which the
 * audit measures (bench/remedy.ts measures it with a judge).
 */

/** Fewer disagreements than this are too few to read a confusion from. */
export const MIN_DISAGREEMENTS = 5;
/** The share of a class's disagreements one other class must hold for a negative prompt to name it. */
export const CONCENTRATION = 0.5;

/** The label issues row of `classId` read as a remedy (every curated status counts). */
export function proposeRemedy(db: Db, classId: number): RemedyProposal {
  const cls = getClass(db, classId);
  const row = suggestionMatrix(db).cells.filter((c) => c.labelId === classId);
  const suggested = row.reduce((n, c) => n + c.count, 0);
  const agreeing = row.find((c) => c.suggestedId === classId)?.count ?? 0;
  const others = row.filter((c) => c.suggestedId !== classId).sort((a, b) => b.count - a.count);
  const disagreements = suggested - agreeing;
  const top = others[0];
  const names = new Map(listClasses(db).map((c) => [c.id, c.name]));
  const confusedWith =
    top === undefined ? null : { id: top.suggestedId, name: names.get(top.suggestedId)!, count: top.count };
  const concentrated =
    confusedWith !== null && disagreements >= MIN_DISAGREEMENTS && confusedWith.count >= CONCENTRATION * disagreements;
  return {
    classId,
    className: cls.name,
    agreement: { agreeing, suggested },
    disagreements,
    confusedWith,
    concentrated,
    currentNegativePrompt: cls.negativePrompt,
    negativePrompt: concentrated ? negativeNaming(cls.negativePrompt, confusedWith.name) : null,
    evidence: evidenceOf(cls.name, suggested, disagreements, confusedWith, concentrated),
  };
}

function evidenceOf(
  name: string,
  suggested: number,
  disagreements: number,
  confusedWith: RemedyProposal['confusedWith'],
  concentrated: boolean,
): string {
  if (suggested === 0) return `No instance of ${name} has a suggested label yet: score the project first.`;
  if (confusedWith === null) return `The head agrees with all ${suggested} scored instances of ${name}.`;
  const gathered = `${confusedWith.count} of ${disagreements} disagreements (of ${suggested} scored instances of ${name}) suggest ${confusedWith.name}`;
  if (concentrated) return `${gathered}.`;
  if (disagreements < MIN_DISAGREEMENTS)
    return `${gathered}: too few disagreements (fewer than ${MIN_DISAGREEMENTS}) to read a confusion from.`;
  return `${gathered}: no single confusion (it would take at least ${Math.round(CONCENTRATION * 100)}% of them).`;
}

/** `current` with `className` added (comma-separated), unless it already names the class. */
export function negativeNaming(current: string, className: string): string {
  const text = current.trim();
  const escaped = className.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // A word boundary for names such as "t-shirt" (the generator's tokens run over ' / and -).
  const named = new RegExp(`(?<![\\p{L}\\p{N}'/-])${escaped}(?![\\p{L}\\p{N}'/-])`, 'u').test(text.toLowerCase());
  if (named) return text;
  return text === '' ? className : `${text}, ${className}`;
}

/** The head's agreement over these instances of `classId` (those never scored are left out). */
function agreementOf(db: Db, classId: number, instanceIds: readonly number[]): HeadAgreement {
  const suggestions = instanceIds.map((id) => suggestionOf(db, id)).filter((s) => s !== undefined);
  return { agreeing: suggestions.filter((s) => s.labelId === classId).length, suggested: suggestions.length };
}

/** The class settings a remedy changes (one field each). */
type RemedySetting = 'negativePrompt' | 'guidanceScale' | 'disambiguation' | 'budgetWeight';
type SettingValue = ClassRow[RemedySetting];

/** Stronger guidance: this many times the class's scale (or the generator's default). */
export const GUIDANCE_FACTOR = 1.6;
/** Fewer budget: the class's budget weight times this. */
export const BUDGET_FACTOR = 0.5;
/** The most guidance a remedy sets (the API's limit). */
const MAX_GUIDANCE = 30;

interface RemedyKindRow {
  readonly kind: RemedyKind;
  readonly label: string;
  /** Whether a generator with these capabilities can take it. */
  readonly appliesTo: (prompting: Pick<GeneratorPrompting, 'followsStyle'>) => boolean;
  /** Why a batch cannot show its effect, when it cannot (it changes how many images, not which). */
  readonly untriable?: string;
  /** The class setting it changes; undone by setting it back to what it was. */
  readonly setting: RemedySetting;
  /** The setting's new value, from the class, the class it is confused with and the generator's default guidance. */
  readonly value: (cls: ClassRow, confusedWith: string, defaultGuidance: number) => SettingValue;
  /** The change in words, e.g. 'negative prompt "t-shirt"'. */
  readonly describe: (value: SettingValue) => string;
}

/**
 * The remedies, one row each: what it is, which generators take it, how it is applied (the class
 * setting and its new value) and undone (that setting back as it was). The negative prompt steers
 * the sampler away from the confused class (on the embedded generator it replaces classifier-free
 * guidance's unconditional branch with that class's embedding); stronger guidance pulls harder
 * towards the class; a disambiguation tells a generator that reads text what the class is not;
 * fewer budget gives the class a smaller share of each round.
 */
export const REMEDY_KINDS: readonly RemedyKindRow[] = [
  {
    kind: 'negative',
    label: 'Negative prompt naming the confused class',
    appliesTo: () => true,
    setting: 'negativePrompt',
    value: (cls, confusedWith) => negativeNaming(cls.negativePrompt, confusedWith),
    describe: (v) => `negative prompt "${String(v)}"`,
  },
  {
    kind: 'guidance',
    label: 'Stronger guidance',
    appliesTo: () => true,
    setting: 'guidanceScale',
    value: (cls, _, defaultGuidance) =>
      Math.min(MAX_GUIDANCE, Math.round((cls.guidanceScale ?? defaultGuidance) * GUIDANCE_FACTOR * 100) / 100),
    describe: (v) => `guidance scale ${String(v)}`,
  },
  {
    kind: 'disambiguation',
    label: 'Disambiguation naming what the class is not',
    // A class-conditional generator reads only class words: "not a t-shirt" would mix in t-shirts.
    appliesTo: (prompting) => prompting.followsStyle,
    setting: 'disambiguation',
    value: (cls, confusedWith) => disambiguationExcluding(cls.disambiguation, confusedWith),
    describe: (v) => `disambiguation "${String(v)}"`,
  },
  {
    kind: 'budget',
    label: 'Fewer budget for the class',
    appliesTo: () => true,
    untriable: 'it changes how many images a round makes of the class, not what they look like',
    setting: 'budgetWeight',
    value: (cls) => cls.budgetWeight * BUDGET_FACTOR,
    describe: (v) => `budget weight ${String(v)}`,
  },
];

/** The remedies a trial makes a batch with on a generator with these capabilities. */
export function triedKinds(prompting: Pick<GeneratorPrompting, 'followsStyle'>): RemedyKindRow[] {
  return REMEDY_KINDS.filter((row) => row.appliesTo(prompting) && row.untriable === undefined);
}

/** `current` with "not a <class>" added, unless it says so already. */
export function disambiguationExcluding(current: string, className: string): string {
  const text = current.trim();
  const phrase = `not a ${className}`;
  if (text.toLowerCase().includes(phrase.toLowerCase())) return text;
  return text === '' ? phrase : `${text}, ${phrase}`;
}

const share = (a: HeadAgreement) => (a.suggested === 0 ? 0 : a.agreeing / a.suggested);
const percent = (a: HeadAgreement) => `${(100 * share(a)).toFixed(1)}%`;

/**
 * The remedy to propose: the trial that raised agreement above the batch without a remedy most, or
 * null when none raised it (a tie keeps the class as it is), or when there is nothing to compare
 * with (the batch without a remedy repeated images already in the project, so none is new).
 */
export function chooseRemedy(
  baseline: HeadAgreement,
  trials: readonly { readonly kind: RemedyKind; readonly agreement: HeadAgreement }[],
): RemedyKind | null {
  if (baseline.suggested === 0) return null;
  let best: { kind: RemedyKind; share: number } | null = null;
  for (const t of trials) {
    if (t.agreement.suggested === 0) continue;
    const s = share(t.agreement);
    if (s > share(baseline) && (best === null || s > best.share)) best = { kind: t.kind, share: s };
  }
  return best?.kind ?? null;
}

export interface RemedyRequest {
  readonly classId: number;
  /** Images per batch (the batch without a remedy and one per remedy, all with the same seeds). */
  readonly count: number;
  /** The batches' first noise seed (default: random), as `generate` takes it. */
  readonly seed?: number;
  /** The negative prompt to try (default: the class's with the confused class added). */
  readonly negativePrompt?: string;
  /** The class to steer away from (default: the one the proposal reads from the label issues). */
  readonly confusedWith?: string;
  /** What the generator follows of a prompt: which remedies it can take. */
  readonly prompting: Pick<GeneratorPrompting, 'followsStyle'>;
}

/**
 * Tries each remedy the generator can take: a batch of `count` instances of the class without a
 * remedy and one with each (same seeds), each batch made with its remedy as a setting of that request
 * alone (the class is not changed while the trial runs); then scores the project as `winnow score`
 * does and compares the head's agreement over each batch. The remedy that raised it most is applied
 * (the class keeps its setting); none, if none did.
 * Every batch stays in the project with its provenance. `scoreOptions` are `winnow score`'s.
 */
export async function trialRemedies(
  project: Project,
  models: { readonly generator: Generator; readonly encoder: ImageEncoder },
  request: RemedyRequest,
  hooks: {
    signal?: AbortSignal;
    onProgress?: (stage: 'generate' | 'score', done: number, total: number) => void;
  } = {},
  scoreOptions: ScoreOptions = defaultScoreOptions,
): Promise<RemedyOutcome> {
  const { db } = project;
  const proposal = proposeRemedy(db, request.classId);
  const confusedWith = request.confusedWith ?? (proposal.concentrated ? proposal.confusedWith!.name : undefined);
  if (confusedWith === undefined)
    throw new WinnowError(`No remedy to try for ${proposal.className}: ${proposal.evidence}`);
  if (request.negativePrompt !== undefined && request.negativePrompt.trim() === '')
    throw new WinnowError('The negative prompt is empty.', 'Name the class to steer away from (the proposal does).');
  const original = getClass(db, request.classId);
  const defaultGuidance = models.generator.defaults.guidanceScale;
  const valueOf = (row: RemedyKindRow): SettingValue =>
    row.kind === 'negative' && request.negativePrompt !== undefined
      ? request.negativePrompt.trim()
      : row.value(original, confusedWith, defaultGuidance);
  const tried = triedKinds(request.prompting);
  const seed = request.seed ?? randomNoiseSeed();
  const batches = [null, ...tried];
  const made: { runId: number; instanceIds: readonly number[] }[] = [];
  for (const [b, row] of batches.entries()) {
    // The class as it was, with this batch's remedy only.
    made.push(
      await generateInstances(
        project,
        models.generator,
        {
          className: original.name,
          count: request.count,
          seed,
          classSettings: { ...settingsOf(original), ...(row === null ? {} : { [row.setting]: valueOf(row) }) },
        },
        {
          ...(hooks.signal ? { signal: hooks.signal } : {}),
          onProgress: (done, total) => hooks.onProgress?.('generate', b * total + done, batches.length * total),
        },
      ),
    );
  }
  hooks.signal?.throwIfAborted();
  const scored = await scoreProject(project, models.encoder, scoreOptions, (done, total) =>
    hooks.onProgress?.('score', done, total),
  );
  const baseline = agreementOf(db, original.id, made[0]!.instanceIds);
  const trials: RemedyTrial[] = tried.map((row, k) => ({
    kind: row.kind,
    label: row.label,
    change: row.describe(valueOf(row)),
    generateRunId: made[k + 1]!.runId,
    instanceIds: made[k + 1]!.instanceIds,
    agreement: agreementOf(db, original.id, made[k + 1]!.instanceIds),
  }));
  const chosen = chooseRemedy(baseline, trials);
  const row = REMEDY_KINDS.find((r) => r.kind === chosen);
  const best = trials.find((t) => t.kind === chosen);
  if (row !== undefined) updateClass(db, original.id, { [row.setting]: valueOf(row) });
  return {
    classId: original.id,
    className: original.name,
    confusedWith,
    seed,
    before: proposal.agreement,
    baseline: { generateRunId: made[0]!.runId, instanceIds: made[0]!.instanceIds, agreement: baseline },
    trials,
    notTried: REMEDY_KINDS.filter((r) => !tried.includes(r)).map((r) =>
      r.appliesTo(request.prompting)
        ? {
            kind: r.kind,
            label: r.label,
            why: r.untriable!,
            change: r.describe(valueOf(r)),
            apply: { [r.setting]: valueOf(r) },
          }
        : { kind: r.kind, label: r.label, why: 'the generator does not follow the wording of a prompt' },
    ),
    chosen,
    applied: best?.change ?? null,
    verdict:
      best === undefined
        ? 'No remedy tried raised agreement; left as is.'
        : `${best.label} raised agreement most (${percent(baseline)} → ${percent(best.agreement)}); applied: ${best.change}.`,
    undo: row === undefined ? null : { [row.setting]: original[row.setting] },
    scoreRunId: scored.runId,
  };
}

/** The generation settings of a class as they were when the trial began, under each batch's remedy. */
function settingsOf(cls: ClassRow): Pick<ClassRow, 'negativePrompt' | 'guidanceScale' | 'disambiguation'> {
  return { negativePrompt: cls.negativePrompt, guidanceScale: cls.guidanceScale, disambiguation: cls.disambiguation };
}
