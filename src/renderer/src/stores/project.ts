import { defineStore } from 'pinia';
import type { ProjectStatus, Responses } from '../../../shared/api.ts';
import { api, describeError, onEngineEvent } from '../api.ts';
import { onReconnect } from '../connection.ts';
import { newestAnswer } from './newestAnswer.ts';

/** The project's counts, asked again by every run's or import's end: the newest answer shows. */
const askStatus = newestAnswer();

/** The project's synthetic instances, whatever their decision. */
export function syntheticCount(status: ProjectStatus): number {
  return status.classes.reduce((sum, c) => sum + c.synthetic.pending + c.synthetic.accepted + c.synthetic.rejected, 0);
}

export const useProjectStore = defineStore('project', {
  state: () => ({
    status: null as ProjectStatus | null,
    recent: [] as Responses['projectList']['recent'][number][],
    error: null as string | null,
    unsubscribe: null as (() => void) | null,
    stopRefreshing: null as (() => void) | null,
  }),
  getters: {
    syntheticTotal: (state) => (state.status ? syntheticCount(state.status) : 0),
    className: (state) => (id: number) => state.status?.classes.find((c) => c.id === id)?.name ?? `#${id}`,
  },
  actions: {
    async load() {
      try {
        const current = askStatus();
        const status = await api.projectStatus({});
        if (current()) this.status = status;
        this.recent = [...(await api.projectList({})).recent];
        this.error = null;
      } catch (error) {
        this.error = error instanceof Error ? error.message : String(error);
      }
      // Another project opened (here or in another window): every view starts afresh.
      this.unsubscribe ??= onEngineEvent((event) => {
        if (event.type === 'project') window.location.reload();
      });
      // The engine was unreachable (or so when the page opened): once it is back, load what it holds now.
      this.stopRefreshing ??= onReconnect(() => void this.load());
    },
    /** The project's counts fetched anew (after a run or an import changed them); a failure leaves the last ones. */
    async refreshStatus() {
      try {
        const current = askStatus();
        const status = await api.projectStatus({});
        if (current()) this.status = status;
      } catch {
        // The connection banner says the engine is unreachable; the store loads again when it is back.
      }
    },
    async switchTo(dir: string, create: boolean): Promise<string | null> {
      try {
        await (create ? api.projectCreate({ dir }) : api.projectOpen({ dir }));
        return null;
      } catch (error) {
        return describeError(error);
      }
    },
  },
});
