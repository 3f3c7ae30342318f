import type { HeadAgreement, RemedyOutcome, RemedyProposal } from '../../shared/api.ts';
import { WinnowError } from '../errors.ts';
import type { Generator } from '../models/generator.ts';
import type { ImageEncoder } from '../models/imageEncoder.ts';
import { getClass, listClasses, updateClass } from '../store/classes.ts';
import type { Db } from '../store/database.ts';
import type { Project } from '../store/project.ts';
import { suggestionMatrix, suggestionOf } from '../store/suggestions.ts';
import { generateInstances } from './generate.ts';
import { defaultScoreOptions, type ScoreOptions, scoreProject } from './scoreSet.ts';

/**
 * The remedy for a class whose instances the scoring head keeps placing in one other class (shirts
 * that look like t-shirts): a negative prompt naming that class, so that generation is guided away
 * from it (the embedded generator encodes a class name to that class's embedding and uses it in
 * place of classifier-free guidance's unconditional branch; Stable Diffusion takes it as text).
 * Applying it makes a small batch and scores it, and compares the head's agreement with the
 * pseudo-label before and after: agreement with the head, not accuracy, which the audit measures.
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

export interface RemedyRequest {
  readonly classId: number;
  readonly negativePrompt: string;
  readonly count: number;
  /** The batch's first noise seed (default: random), as `generate` takes it. */
  readonly seed?: number;
}

/**
 * Sets the class's negative prompt, generates `count` instances of it, scores the project as
 * `winnow score` does (the new instances get their suggested labels), and returns the head's
 * agreement over the class's instances before and over the new batch. `scoreOptions` are `winnow
 * score`'s (its defaults unless given).
 */
export async function applyRemedy(
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
  if (request.negativePrompt.trim() === '')
    throw new WinnowError('The negative prompt is empty.', 'Name the class to steer away from (the proposal does).');
  const { agreement: before, currentNegativePrompt: previousNegativePrompt } = proposeRemedy(db, request.classId);
  const cls = updateClass(db, request.classId, { negativePrompt: request.negativePrompt.trim() });
  const generated = await generateInstances(
    project,
    models.generator,
    { className: cls.name, count: request.count, ...(request.seed === undefined ? {} : { seed: request.seed }) },
    {
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      onProgress: (done, total) => hooks.onProgress?.('generate', done, total),
    },
  );
  const scored = await scoreProject(project, models.encoder, scoreOptions, (done, total) =>
    hooks.onProgress?.('score', done, total),
  );
  return {
    classId: cls.id,
    negativePrompt: cls.negativePrompt,
    previousNegativePrompt,
    generateRunId: generated.runId,
    scoreRunId: scored.runId,
    instanceIds: generated.instanceIds,
    before,
    after: agreementOf(db, cls.id, generated.instanceIds),
  };
}
