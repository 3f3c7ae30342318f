import { WinnowError } from '../errors.ts';

/**
 * What a background task that threw says: `stopped` when its signal was aborted (what it threw then
 * is only the abort), else the error's message and fix. An error that is no WinnowError is a bug: logged.
 */
export function failureOf(
  caught: unknown,
  signal: AbortSignal | undefined,
  stopped: WinnowError,
): { error: string; fix?: string } {
  const error = signal?.aborted ? stopped : caught;
  if (!(error instanceof WinnowError)) console.error(error);
  return {
    error: (error as Error).message,
    ...(error instanceof WinnowError && error.fix ? { fix: error.fix } : {}),
  };
}

/**
 * The engine's one task of a kind going in the background (an import, a remedy trial): started
 * with a signal that stop() aborts, so that closing the engine can end it and wait for it.
 */
export class BackgroundTask {
  private going: { readonly controller: AbortController; readonly done: Promise<void> } | null = null;

  /** Runs `task` in the background; `task` settles its own outcome (it must not reject). */
  start(task: (signal: AbortSignal) => Promise<void>): void {
    const controller = new AbortController();
    const going = { controller, done: task(controller.signal) };
    this.going = going;
    void going.done.finally(() => {
      if (this.going === going) this.going = null;
    });
  }

  /** Aborts the task going, if any, and resolves once it has ended. */
  async stop(): Promise<void> {
    if (this.going === null) return;
    this.going.controller.abort();
    await this.going.done;
  }
}
