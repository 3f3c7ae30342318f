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
