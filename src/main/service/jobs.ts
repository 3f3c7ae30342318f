import { EventEmitter } from 'node:events';
import type { QueueStatus } from '../../shared/api.ts';
import type { ProgressEvent } from '../../shared/progress.ts';
import { WinnowError } from '../errors.ts';
import { runDuplicatesWarning } from '../pipeline/duplicatesWarning.ts';
import { type LoopModels, type LoopSettings, resumeLoop, startLoop } from '../pipeline/loop.ts';
import { openQueueBackend, type QueueBackend } from '../queue/queueBackend.ts';
import { displayUrl } from '../queue/redisConnection.ts';
import { checkRunFree } from '../store/leases.ts';
import type { Project } from '../store/project.ts';
import { setRunStatus } from '../store/runs.ts';
import {
  checkModelChoice,
  disposeAll,
  EMBEDDED_CHOICE,
  loadChosenModels,
  type ModelChoice,
  modelsOfUnfinishedRun,
} from './modelChoice.ts';

/** How a job ended: what `finished` says, with the error itself for a caller that prints it (the CLI). */
export interface JobOutcome {
  readonly runId: number | null;
  readonly status: 'done' | 'paused' | 'cancelled' | 'failed';
  readonly error?: unknown;
  /** Why a finished run added nothing new (its images were already in the project), if it did not. */
  readonly warning?: string;
}

export type JobState =
  | { readonly state: 'idle' }
  | { readonly state: 'running'; readonly runId: number | null; readonly last: ProgressEvent | null };

/**
 * Runs the generative active-learning loop as a background job of the engine (one at a time),
 * streaming progress to every listener; pause and cancel stop it at the next step, and a paused
 * or cancelled run resumes where it stopped.
 */
export class Jobs {
  readonly events = new EventEmitter<{
    progress: [ProgressEvent];
    finished: [{ runId: number | null; status: string; error?: string; warning?: string }];
    /** Something the user should know that does not stop the run (e.g. a round made nothing new). */
    warning: [string];
    /** The generation queue's depth and workers (runs that generate through a queue only). */
    queue: [QueueStatus];
  }>();
  private readonly project: Project;
  private readonly loadModels: (choice: ModelChoice) => Promise<LoopModels>;
  /** The Redis URL of the queue a run starting now generates through (its workers); none: in this process. */
  private readonly queueUrl: () => string | undefined;
  private current: {
    controller: AbortController;
    runId: number | null;
    last: ProgressEvent | null;
    stopAs: 'paused' | 'cancelled';
    models: ModelChoice;
  } | null = null;
  /** The end of the latest run started. */
  private ending: Promise<JobOutcome> = Promise.resolve({ runId: null, status: 'done' });

  constructor(
    project: Project,
    loadModels: (choice: ModelChoice) => Promise<LoopModels> = loadChosenModels,
    options: { queueUrl?: () => string | undefined } = {},
  ) {
    this.project = project;
    this.loadModels = loadModels;
    this.queueUrl = options.queueUrl ?? (() => undefined);
  }

  get state(): JobState {
    return this.current === null
      ? { state: 'idle' }
      : { state: 'running', runId: this.current.runId, last: this.current.last };
  }

  /** The models of the run going now, by name; null when idle. */
  get models(): ModelChoice | null {
    return this.current?.models ?? null;
  }

  /**
   * Starts a run with these settings and models (default: the embedded ones), or resumes the latest
   * unfinished run with the models it started with. Unknown or wrong-kind models are refused here;
   * the promise (which never rejects) says how the job ended.
   */
  start(params: LoopSettings | 'resume', models: ModelChoice = EMBEDDED_CHOICE): Promise<JobOutcome> {
    if (this.current !== null) throw new WinnowError('A run is already going.', 'Pause or cancel it first.');
    const resumed = params === 'resume' ? modelsOfUnfinishedRun(this.project) : undefined;
    // Another process (a CLI `winnow run`, another app) working that run is named here, before starting.
    if (resumed !== undefined) checkRunFree(this.project.db, resumed.runId);
    const choice = resumed?.choice ?? models;
    checkModelChoice(choice);
    if (params !== 'resume' && params.filter === 'clip' && choice.clip === undefined)
      throw new WinnowError(
        'The clip filter (the +CLIP baseline) needs a CLIP score model.',
        'Choose a CLIP score model for the run (add one on the Models screen), or pick another filter.',
      );
    const job = {
      controller: new AbortController(),
      runId: resumed?.runId ?? (null as number | null),
      last: null as ProgressEvent | null,
      stopAs: 'cancelled' as 'paused' | 'cancelled',
      models: choice,
    };
    this.current = job;
    const hooks = {
      signal: job.controller.signal,
      backend: undefined as QueueBackend | undefined,
      onProgress: (e: ProgressEvent) => {
        job.runId = e.runId;
        job.last = e;
        this.events.emit('progress', e);
      },
      onWarning: (message: string) => this.events.emit('warning', message),
    };
    this.ending = (async (): Promise<JobOutcome> => {
      let models: LoopModels | undefined;
      try {
        const queueUrl = this.queueUrl();
        if (queueUrl !== undefined)
          hooks.backend = await openQueueBackend(queueUrl, this.project.images, {
            onStatus: (status) => this.events.emit('queue', status),
            resumeHint: `go on with the run: \`winnow run --resume --queue ${displayUrl(queueUrl)}\` (or Resume on the Run screen)`,
          });
        models = await this.loadModels(choice);
        const runId =
          params === 'resume'
            ? await resumeLoop(this.project, models, hooks)
            : await startLoop(this.project, models, params, hooks);
        const warning = runDuplicatesWarning(this.project.db, runId);
        const outcome = { runId, status: 'done', ...(warning === undefined ? {} : { warning }) } as const;
        this.events.emit('finished', outcome);
        return outcome;
      } catch (error) {
        const stopped = job.controller.signal.aborted;
        if (stopped && job.runId !== null && job.stopAs === 'paused')
          setRunStatus(this.project.db, job.runId, 'paused');
        const status = stopped ? job.stopAs : 'failed';
        this.events.emit('finished', { runId: job.runId, status, ...(stopped ? {} : { error: withFix(error) }) });
        return { runId: job.runId, status, ...(stopped ? {} : { error }) };
      } finally {
        this.current = null;
        await Promise.all([disposeAll([models?.generator, models?.encoder, models?.clip]), hooks.backend?.close()]);
      }
    })();
    return this.ending;
  }

  /** Pauses the run going, if any (it resumes later), and resolves once it has stopped. */
  async pause(): Promise<void> {
    if (this.current !== null) this.stop('paused');
    await this.ending;
  }

  stop(as: 'paused' | 'cancelled'): void {
    if (this.current === null) throw new WinnowError('No run is going.');
    this.current.stopAs = as;
    this.current.controller.abort();
  }
}

/** A failure as one line for the `finished` event: the message and, for a WinnowError, its fix. */
function withFix(error: unknown): string {
  const e = error as Error;
  return e instanceof WinnowError && e.fix ? `${e.message} ${e.fix}` : e.message;
}
