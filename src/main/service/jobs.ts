import { EventEmitter } from 'node:events';
import type { ProgressEvent } from '../../shared/progress.ts';
import { WinnowError } from '../errors.ts';
import { loadEmbeddedModels } from '../models/embeddedModels.ts';
import { type LoopModels, type LoopParams, resumeLoop, startLoop } from '../pipeline/loop.ts';
import type { Project } from '../store/project.ts';
import { setRunStatus } from '../store/runs.ts';

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
    finished: [{ runId: number | null; status: string; error?: string }];
  }>();
  private readonly project: Project;
  private readonly loadModels: () => Promise<LoopModels>;
  private current: {
    controller: AbortController;
    runId: number | null;
    last: ProgressEvent | null;
    stopAs: 'paused' | 'cancelled';
  } | null = null;

  constructor(project: Project, loadModels: () => Promise<LoopModels> = loadEmbeddedModels) {
    this.project = project;
    this.loadModels = loadModels;
  }

  get state(): JobState {
    return this.current === null
      ? { state: 'idle' }
      : { state: 'running', runId: this.current.runId, last: this.current.last };
  }

  start(params: LoopParams | 'resume'): void {
    if (this.current !== null) throw new WinnowError('A run is already going.', 'Pause or cancel it first.');
    const job = {
      controller: new AbortController(),
      runId: null as number | null,
      last: null as ProgressEvent | null,
      stopAs: 'cancelled' as 'paused' | 'cancelled',
    };
    this.current = job;
    const hooks = {
      signal: job.controller.signal,
      onProgress: (e: ProgressEvent) => {
        job.runId = e.runId;
        job.last = e;
        this.events.emit('progress', e);
      },
    };
    void (async () => {
      let models: LoopModels | undefined;
      try {
        models = await this.loadModels();
        const runId =
          params === 'resume'
            ? await resumeLoop(this.project, models, hooks)
            : await startLoop(this.project, models, params, hooks);
        this.events.emit('finished', { runId, status: 'done' });
      } catch (error) {
        const stopped = job.controller.signal.aborted;
        if (stopped && job.runId !== null && job.stopAs === 'paused')
          setRunStatus(this.project.db, job.runId, 'paused');
        this.events.emit('finished', {
          runId: job.runId,
          status: stopped ? job.stopAs : 'failed',
          ...(stopped ? {} : { error: (error as Error).message }),
        });
      } finally {
        this.current = null;
        await Promise.all([models?.generator.dispose(), models?.encoder.dispose()]);
      }
    })();
  }

  stop(as: 'paused' | 'cancelled'): void {
    if (this.current === null) throw new WinnowError('No run is going.');
    this.current.stopAs = as;
    this.current.controller.abort();
  }
}
