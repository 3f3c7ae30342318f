import type { RemedyState, Request } from '../../shared/api.ts';
import { WinnowError } from '../errors.ts';
import { EMBEDDED } from '../models/modelLoader.ts';
import type { LoopModels } from '../pipeline/loop.ts';
import { type RemedyRequest, trialRemedies } from '../pipeline/remedy.ts';
import { getClass } from '../store/classes.ts';
import type { Project } from '../store/project.ts';
import { BackgroundTask, failureOf } from './backgroundTask.ts';
import { generatorPrompting } from './generatorPrompting.ts';
import { checkModelChoice, disposeAll, loadChosenModels, type ModelChoice } from './modelChoice.ts';

/**
 * The open project's remedy job (one at a time), started from the Label issues screen: each remedy
 * the generator can take tried on a batch, the project scored and the best remedy applied in the
 * background, its stage and progress and then each batch's agreement kept for `remedyState`.
 * Models default to the embedded ones.
 */
export class Remedies {
  private current: RemedyState = { state: 'idle' };
  private readonly task = new BackgroundTask();
  private readonly project: Project;
  /** Why the project is busy (a run or an import going), or undefined when a remedy may start. */
  private readonly busy: () => string | undefined;
  private readonly loadModels: (choice: ModelChoice) => Promise<LoopModels>;

  constructor(
    project: Project,
    busy: () => string | undefined,
    loadModels: (choice: ModelChoice) => Promise<LoopModels> = loadChosenModels,
  ) {
    this.project = project;
    this.busy = busy;
    this.loadModels = loadModels;
  }

  get state(): RemedyState {
    return this.current;
  }

  get running(): boolean {
    return this.current.state === 'running';
  }

  /** Checks that nothing else is going and that the class exists, then tries the remedies in the background. */
  start(request: Request<'remedyApply'>): void {
    if (this.running) throw new WinnowError('Remedies are being tried.', 'Wait until it is done.');
    const busy = this.busy();
    if (busy !== undefined) throw new WinnowError(busy, 'Wait until it is done, then apply the remedy.');
    getClass(this.project.db, request.classId);
    const { generator = EMBEDDED, encoder = EMBEDDED, ...remedy } = request;
    const choice = { generator, encoder };
    checkModelChoice(choice);
    const prompting = generatorPrompting(generator);
    const running = {
      state: 'running' as const,
      classId: request.classId,
      stage: 'generate' as 'generate' | 'score',
      done: 0,
      total: null as number | null,
    };
    this.current = running;
    this.task.start((signal) =>
      this.run(choice, { ...remedy, prompting }, signal, (stage, done, total) =>
        Object.assign(running, { stage, done, total }),
      ),
    );
  }

  /** Stops the trial going, if any (the class is left as it was); resolves once it has ended. */
  stop(): Promise<void> {
    return this.task.stop();
  }

  private async run(
    choice: ModelChoice,
    request: RemedyRequest,
    signal: AbortSignal,
    onProgress: (stage: 'generate' | 'score', done: number, total: number) => void,
  ): Promise<void> {
    let models: LoopModels | undefined;
    try {
      models = await this.loadModels(choice);
      this.current = {
        state: 'done',
        outcome: await trialRemedies(this.project, models, request, { signal, onProgress }),
      };
    } catch (caught) {
      const stopped = new WinnowError(
        'The remedy trial was stopped before it finished; the class is as it was.',
        'Apply the remedy again (the batches made so far stay in the project, with their provenance).',
      );
      this.current = { state: 'failed', classId: request.classId, ...failureOf(caught, signal, stopped) };
    } finally {
      await disposeAll([models?.generator, models?.encoder]);
    }
  }
}
