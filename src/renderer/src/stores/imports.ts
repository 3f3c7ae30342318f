import { defineStore } from 'pinia';
import type { ImportState } from '../../../shared/api.ts';
import { api } from '../api.ts';
import { onReconnect } from '../connection.ts';
import { type ModelProblem, modelProblem } from './models.ts';

/** How often a going import is asked how far it got. */
const POLL_MS = 400;

/**
 * Importing an ImageFolder from the UI (what `winnow import real|synthetic` does): the form, the
 * engine's import job as it goes, and its report when it is done.
 */
export const useImportsStore = defineStore('imports', {
  state: () => ({
    kind: 'real' as 'real' | 'synthetic',
    folder: '',
    split: 'train' as 'train' | 'val' | 'test',
    job: { state: 'idle' } as ImportState,
    /** Why the engine refused to start (the folder, the request): shown under the form. */
    error: null as ModelProblem | null,
    /** Whether a loop is asking the engine how the job goes, and whether it must ask once more. */
    following: false,
    again: false,
  }),
  getters: {
    running: (s) => s.job.state === 'running',
  },
  actions: {
    /**
     * Follows the engine's job: asks how far it got until it ends, then calls `onDone`. One loop at
     * a time; a call meanwhile (an import just started) makes it ask once more before it stops.
     */
    async follow(onDone?: () => void) {
      if (this.following) {
        this.again = true;
        return;
      }
      this.following = true;
      try {
        for (;;) {
          this.again = false;
          this.job = await api.importState({});
          if (this.job.state === 'running') await new Promise((wait) => setTimeout(wait, POLL_MS));
          else if (!this.again) break;
        }
      } catch {
        // The engine is away (the banner says so): ask again once it is back.
        this.following = false;
        const stop = onReconnect(() => {
          stop();
          void this.follow(onDone);
        });
        return;
      }
      this.following = false;
      onDone?.();
    },
    async start(onDone: () => void) {
      this.error = null;
      try {
        await api.importStart({
          kind: this.kind,
          folder: this.folder.trim(),
          ...(this.kind === 'real' ? { split: this.split } : {}),
        });
      } catch (error) {
        this.error = modelProblem(error);
        return;
      }
      await this.follow(onDone);
    },
  },
});
