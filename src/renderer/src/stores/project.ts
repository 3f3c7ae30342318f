import { defineStore } from 'pinia';
import type { ProjectStatus } from '../../../shared/api.ts';
import { api } from '../api.ts';

export const useProjectStore = defineStore('project', {
  state: () => ({ status: null as ProjectStatus | null, error: null as string | null }),
  getters: {
    syntheticTotal: (state) =>
      state.status?.classes.reduce(
        (sum, c) => sum + c.synthetic.pending + c.synthetic.accepted + c.synthetic.rejected,
        0,
      ) ?? 0,
    className: (state) => (id: number) => state.status?.classes.find((c) => c.id === id)?.name ?? `#${id}`,
  },
  actions: {
    async load() {
      try {
        this.status = await api.projectStatus({});
        this.error = null;
      } catch (error) {
        this.error = error instanceof Error ? error.message : String(error);
      }
    },
  },
});
