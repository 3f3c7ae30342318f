import { defineStore } from 'pinia';
import { markRaw } from 'vue';
import type { MapPoints, MapStage } from '../../../shared/api.ts';
import { api, guarded, onEngineEvent } from '../api.ts';
import type { ColourBy } from '../views/map/encoding.ts';

type Action = 'accept' | 'reject' | 'clear';

/**
 * The embeddings map's state: the points (held raw: 100,000 points' columns need no reactivity),
 * the layout's progress while the engine computes it, the colouring, and the lasso's selection as
 * point indices. Curation acts on the synthetic instances of the selection, as the review grid does.
 */
export const useMapStore = defineStore('map', {
  state: () => ({
    points: null as MapPoints | null,
    loading: false,
    progress: null as { stage: MapStage; done: number; total: number } | null,
    colourBy: 'label' as ColourBy,
    selected: [] as number[],
    hovered: null as number | null,
    message: null as string | null,
    error: null as string | null,
    unsubscribe: null as (() => void) | null,
  }),
  getters: {
    /** The instance ids of the selection's synthetic points (real images are not curated). */
    selectedInstances(state): number[] {
      const points = state.points;
      return points === null ? [] : state.selected.filter((i) => i >= points.real).map((i) => points.id[i] as number);
    },
    selectedReal(state): number {
      const real = state.points?.real ?? 0;
      return state.selected.filter((i) => i < real).length;
    },
    /** The point whose thumbnail the side panel shows: the one clicked (a selection of one). */
    focused(state): number | null {
      return state.selected.length === 1 ? (state.selected[0] as number) : null;
    },
  },
  actions: {
    async load() {
      this.unsubscribe ??= onEngineEvent((event) => {
        if (event.type === 'mapProgress') this.progress = { stage: event.stage, done: event.done, total: event.total };
      });
      this.loading = true;
      await guarded(this, async () => {
        this.points = markRaw(await api.mapPoints({}));
      });
      this.loading = false;
      this.progress = null;
    },
    select(indices: readonly number[]) {
      this.selected = [...indices];
      this.message = null;
    },
    /** Reloads the points after a curation: the layout is cached, the decisions and labels are read anew. */
    async afterCuration(message: string) {
      await guarded(this, async () => {
        this.points = markRaw(await api.mapPoints({}));
        this.message = message;
      });
    },
    async curate(action: Action) {
      const ids = this.selectedInstances;
      if (ids.length === 0) return;
      await guarded(this, async () => {
        await api.curate({ ids, action });
        const done = action === 'clear' ? 'Cleared' : action === 'accept' ? 'Accepted' : 'Rejected';
        await this.afterCuration(`${done} ${ids.length}. Undo: U`);
      });
    },
    async relabel(labelId: number) {
      const ids = this.selectedInstances;
      if (ids.length === 0) return;
      await guarded(this, async () => {
        await api.curate({ ids, action: 'relabel', labelId });
        await this.afterCuration(`Relabelled ${ids.length}. Undo: U`);
      });
    },
    async undo() {
      await guarded(this, async () => {
        const { batch } = await api.undo({});
        await this.afterCuration(batch ? 'Undone.' : 'Nothing to undo.');
      });
    },
  },
});
