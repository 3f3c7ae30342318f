import { defineStore } from 'pinia';
import { markRaw } from 'vue';
import type { MapPoints, MapStage, Responses, SavedView, SavedViewSettings } from '../../../shared/api.ts';
import { api, guarded, onEngineEvent } from '../api.ts';
import type { ColourBy, PointScores } from '../views/map/encoding.ts';
import { newestAnswer } from './newestAnswer.ts';

type Action = 'accept' | 'reject' | 'clear';
/** The saved view's instances: a view chosen while another's were coming is the one shown. */
const askView = newestAnswer();

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
    /** The project's tags with their counts (the tag input's suggestions). */
    projectTags: [] as Responses['tagList']['tags'][number][],
    /** The project's saved views, and the one applied (null: every point). */
    views: [] as SavedView[],
    viewId: null as number | null,
    /**
     * What the applied view keeps, per point (1: an instance its filters keep; real images, which
     * no view's filters are about, 0), and each point's score of the view's kind. Raw: per point.
     */
    inView: null as Uint8Array | null,
    viewScores: null as PointScores | null,
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
    /** The saved view applied, if any. */
    view(state): SavedView | null {
      return state.views.find((v) => v.id === state.viewId) ?? null;
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
        const [tags, views] = await Promise.all([api.tagList({}), api.viewList({})]);
        this.projectTags = [...tags.tags];
        this.views = [...views.views];
        await this.applyView(this.views.some((v) => v.id === this.viewId) ? this.viewId : null);
      });
      this.loading = false;
      this.progress = null;
    },
    /**
     * Applies a saved view (null: none): the points it keeps keep their colours and only they can
     * be selected; the others are drawn faint. Colouring by score uses the view's kind.
     */
    async applyView(id: number | null) {
      const current = askView();
      const points = this.points;
      const view = this.views.find((v) => v.id === id);
      this.viewId = view?.id ?? null;
      if (points === null || view === undefined) {
        this.inView = null;
        this.viewScores = null;
        return;
      }
      // The map has no order: it shows every point the view's filters keep.
      const filter = Object.fromEntries(Object.entries(view.view).filter(([key]) => key !== 'order'));
      const kept = await api.viewInstances(filter as Omit<SavedViewSettings, 'order'>);
      if (!current()) return;
      const indexOf = new Map<number, number>();
      for (let i = points.real; i < points.id.length; i++) indexOf.set(points.id[i] as number, i);
      const inView = new Uint8Array(points.id.length);
      const values: (number | null)[] = Array.from({ length: points.id.length }, () => null);
      kept.ids.forEach((instanceId, k) => {
        const i = indexOf.get(instanceId);
        if (i === undefined) return; // an instance without features is not on the map
        inView[i] = 1;
        values[i] = kept.scores[k] ?? null;
      });
      this.inView = markRaw(inView);
      this.viewScores = markRaw({ kind: view.view.kind, values });
      this.select(this.selected);
    },
    select(indices: readonly number[]) {
      const inView = this.inView;
      this.selected = inView === null ? [...indices] : indices.filter((i) => inView[i] === 1);
      this.message = null;
    },
    /** Reloads the points after a curation: the layout is cached, the decisions and labels are read anew. */
    async afterCuration(message: string) {
      await guarded(this, async () => {
        this.points = markRaw(await api.mapPoints({}));
        // A decision or a tag can move instances into or out of the view.
        await this.applyView(this.viewId);
        this.message = message;
      });
    },
    /** Tags the selection's synthetic instances, as one undoable action. */
    async tag(tag: string) {
      const ids = this.selectedInstances;
      if (ids.length === 0 || tag.trim() === '') return;
      await guarded(this, async () => {
        const { changed } = await api.tagAdd({ ids, tags: [tag] });
        this.projectTags = [...(await api.tagList({})).tags];
        await this.afterCuration(`Tagged ${changed} "${tag.trim()}". Undo: U`);
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
