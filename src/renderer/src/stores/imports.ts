import { defineStore } from 'pinia';
import type { ImportState } from '../../../shared/api.ts';
import { api } from '../api.ts';
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
    polling: null as ReturnType<typeof setTimeout> | null,
  }),
  getters: {
    running: (s) => s.job.state === 'running',
  },
  actions: {
    /** The engine's job as it is now; keeps asking while it runs, and calls `onDone` once it ends. */
    async follow(onDone?: () => void) {
      this.job = await api.importState({});
      if (this.job.state === 'running') this.polling = setTimeout(() => void this.follow(onDone), POLL_MS);
      else {
        this.polling = null;
        onDone?.();
      }
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
