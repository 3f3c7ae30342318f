import { WinnowError } from '../errors.ts';
import { EMBEDDED, loadClip, loadEncoder, loadGenerator } from '../models/modelLoader.ts';
import { findModel, listModels } from '../models/modelRegistry.ts';
import type { LoopModels } from '../pipeline/loop.ts';
import type { Project } from '../store/project.ts';
import { latestUnfinishedRun } from '../store/runs.ts';

/** The models a run uses, by registered name (`embedded` for the embedded generator or backbone). */
export interface ModelChoice {
  readonly generator: string;
  readonly encoder: string;
  readonly clip?: string | undefined;
}

export const EMBEDDED_CHOICE: ModelChoice = { generator: EMBEDDED, encoder: EMBEDDED };

/**
 * Checks that each chosen model is registered, of the right kind, with its folder in place: a
 * wrong name is refused when the run is asked for, not after it has started.
 */
export function checkModelChoice(choice: ModelChoice): void {
  if (choice.generator !== EMBEDDED) findModel(choice.generator, 'stable-diffusion');
  if (choice.encoder !== EMBEDDED) findModel(choice.encoder, 'clip');
  if (choice.clip !== undefined) findModel(choice.clip, 'clip');
}

/** The models that score without generating (`winnow score`): a backbone and an optional CLIP scorer. */
export type ScoringChoice = Omit<ModelChoice, 'generator'>;

/**
 * Loads the chosen models (a CLIP model chosen as both backbone and scorer is loaded once); if one
 * fails, those already loaded are released. The one place models are loaded for a run or a scoring.
 */
export async function loadChosenModels(choice: ModelChoice): Promise<LoopModels>;
export async function loadChosenModels(choice: ScoringChoice): Promise<Omit<LoopModels, 'generator'>>;
export async function loadChosenModels(
  choice: ScoringChoice & { readonly generator?: string },
): Promise<Omit<LoopModels, 'generator'> & { generator?: LoopModels['generator'] }> {
  const shared = choice.clip !== undefined && choice.encoder === choice.clip;
  const [generator, clip, encoder] = await Promise.allSettled([
    choice.generator === undefined ? undefined : loadGenerator(choice.generator),
    choice.clip === undefined ? undefined : loadClip(choice.clip),
    shared ? undefined : loadEncoder(choice.encoder),
  ]);
  const value = <T>(r: PromiseSettledResult<T>) => (r.status === 'fulfilled' ? r.value : undefined);
  const failed = [generator, clip, encoder].find((r) => r.status === 'rejected');
  if (failed) {
    await disposeAll([value(generator), value(clip), value(encoder)]);
    throw failed.reason;
  }
  const loadedGenerator = value(generator);
  const loadedClip = value(clip);
  return {
    ...(loadedGenerator ? { generator: loadedGenerator } : {}),
    encoder: shared ? loadedClip! : value(encoder)!,
    ...(loadedClip ? { clip: loadedClip } : {}),
  };
}

/** Releases each distinct model once (the same CLIP model may be both backbone and scorer). */
export async function disposeAll(models: readonly ({ dispose(): Promise<void> } | undefined)[]): Promise<void> {
  await Promise.all([...new Set(models.filter((m) => m !== undefined))].map((m) => m.dispose()));
}

/**
 * The models the latest unfinished run started with, by name: its stored model ids looked up in
 * the registry; an id no registered model has is the embedded model's (the loop then checks it).
 */
export function modelsOfUnfinishedRun(project: Project): { runId: number; choice: ModelChoice } {
  const run = latestUnfinishedRun(project.db, 'loop');
  if (run === undefined)
    throw new WinnowError(
      'There is no unfinished run to resume.',
      'Start a new run (Start on the Run screen, or `winnow run`).',
    );
  const ids = JSON.parse(run.modelIds) as { generator?: string; encoder?: string; clip?: string };
  const registered = listModels();
  const nameOf = (id: string | undefined, role: string): string => {
    if (id === undefined) return EMBEDDED;
    const model = registered.find((m) => m.id === id);
    if (model) return model.name;
    const sameName = registered.find((m) => m.name === id.split('@')[0]);
    if (sameName)
      throw new WinnowError(
        `Run ${run.id} was made with ${id} as its ${role}, but the model "${sameName.name}" is now ${sameName.id}: its files changed.`,
        `Restore the files it was made with (or register them under their old name), or start a new run.`,
      );
    if (role === 'CLIP score model')
      throw new WinnowError(
        `Run ${run.id} scored with the CLIP model ${id}, which is no longer registered.`,
        `Add its folder again on the Models screen under the name "${id.split('@')[0]}" (the same files under the same name give the same id), or start a new run.`,
      );
    return EMBEDDED;
  };
  const clip = ids.clip === undefined ? undefined : nameOf(ids.clip, 'CLIP score model');
  return {
    runId: run.id,
    choice: {
      generator: nameOf(ids.generator, 'generator'),
      encoder: nameOf(ids.encoder, 'backbone'),
      ...(clip === undefined ? {} : { clip }),
    },
  };
}
