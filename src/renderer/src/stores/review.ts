import { defineStore } from 'pinia';
import type {
  CuratedBatch,
  InstanceDetail,
  InstanceSummary,
  Responses,
  SavedView,
  SavedViewSettings,
} from '../../../shared/api.ts';
import { DEFAULT_SCORE_KIND, type ScoreKindName } from '../../../shared/scoreKinds.ts';
import { api, describeError } from '../api.ts';
import { describeBatch } from '../views/review/batchText.ts';
import { newestAnswer } from './newestAnswer.ts';
import { useProjectStore } from './project.ts';

export const PAGE_SIZE = 240;
export const EXTREMES = 12;
type Order = 'best' | 'worst' | 'newest';
type Action = 'accept' | 'reject' | 'clear';
/** The list the viewer steps through: the grid (in its order, under its filters) or one of the strips. */
export type ViewerSource = 'grid' | 'best' | 'worst';
/** Select-all reads the filtered class in pages of the API's largest page. */
const SELECT_ALL_PAGE = 1000;
/** The grid pages being fetched, so that the grid and the viewer wait on one request for a page. */
const loading = new Map<number, Promise<void>>();
/** Bumped by each refresh: a page asked for under the previous filters or order is dropped when it comes. */
let listing = 0;
/** The grid's and strips' listing, and the instance detail (stepping fast): only the newest answer shows. */
const askListing = newestAnswer();
const askDetail = newestAnswer();

interface FilterState {
  readonly status: '' | 'pending' | 'accepted' | 'rejected';
  readonly kind: ScoreKindName;
  readonly filters: {
    readonly promptContains: string;
    readonly minScore: number | '';
    readonly maxScore: number | '';
    readonly roundIndex: number | '';
    readonly tag: string;
  };
}

/** The filters on screen and the score kind as the API takes them: what the strips, the grid and a saved view use. */
function filtersOf({ status, kind, filters: f }: FilterState) {
  return {
    ...(status === '' ? {} : { status }),
    kind,
    ...(f.promptContains.trim() === '' ? {} : { promptContains: f.promptContains.trim() }),
    ...(f.minScore === '' ? {} : { minScore: f.minScore }),
    ...(f.maxScore === '' ? {} : { maxScore: f.maxScore }),
    // The UI counts rounds from 1.
    ...(f.roundIndex === '' ? {} : { roundIndex: f.roundIndex - 1 }),
    ...(f.tag.trim() === '' ? {} : { tag: f.tag.trim() }),
  };
}

/** A view's settings as text that does not depend on the order of its keys. */
const sameKeys = (view: SavedViewSettings) =>
  JSON.stringify(Object.entries(view).sort(([a], [b]) => a.localeCompare(b)));

/** The review screen's state: one class, its best and worst, a paged grid, a selection, a detail. */
export const useReviewStore = defineStore('review', {
  state: () => ({
    classId: null as number | null,
    best: [] as InstanceSummary[],
    worst: [] as InstanceSummary[],
    order: 'best' as Order,
    status: '' as '' | 'pending' | 'accepted' | 'rejected',
    kind: DEFAULT_SCORE_KIND as ScoreKindName,
    filters: {
      promptContains: '',
      minScore: '' as number | '',
      maxScore: '' as number | '',
      roundIndex: '' as number | '',
      tag: '',
    },
    /** The project's tags with their counts: the tag input's and the tag filter's suggestions. */
    projectTags: [] as Responses['tagList']['tags'][number][],
    /** The project's saved views. */
    views: [] as SavedView[],
    nearestReal: [] as Responses['nearestReal']['items'][number][],
    total: 0,
    pages: {} as Record<number, InstanceSummary[]>,
    selected: [] as number[],
    /** The grid shows only the selection. */
    selectionOnly: false,
    /** Every instance summary seen since the class opened, by id: what the selection-only grid shows. */
    known: {} as Record<number, InstanceSummary>,
    viewer: null as { source: ViewerSource; index: number; id: number; imageHash: string } | null,
    /** What the last undo or redo did, and which of the two the toast offers next. */
    toast: null as { text: string; offer: 'undo' | 'redo' } | null,
    detail: null as InstanceDetail | null,
    message: null as string | null,
    error: null as string | null,
  }),
  getters: {
    /** The instance at a grid position, if its page is loaded. */
    at: (state) => (index: number) => state.pages[Math.floor(index / PAGE_SIZE)]?.[index % PAGE_SIZE],
    isSelected: (state) => (id: number) => state.selected.includes(id),
    /** Whether any filter beyond the class is set. */
    filtering: (state) =>
      state.status !== '' ||
      state.filters.promptContains.trim() !== '' ||
      state.filters.minScore !== '' ||
      state.filters.maxScore !== '' ||
      state.filters.roundIndex !== '' ||
      state.filters.tag.trim() !== '',
    /** The saved view whose filters, sort and score kind are those on screen; null when none is. */
    viewId(): number | null {
      const now = sameKeys({ order: this.order, ...filtersOf(this) });
      return this.views.find((v) => sameKeys(v.view) === now)?.id ?? null;
    },
    /** How many tiles the grid has: the class under its filters, or the selection. */
    gridCount: (state) => (state.selectionOnly ? state.selected.length : state.total),
  },
  actions: {
    async run<T>(work: () => Promise<T>): Promise<T | undefined> {
      try {
        this.error = null;
        return await work();
      } catch (error) {
        this.error = describeError(error);
        return undefined;
      }
    },
    async open(classId: number) {
      this.classId = classId;
      this.selected = [];
      this.selectionOnly = false;
      this.known = {};
      this.viewer = null;
      this.toast = null;
      this.detail = null;
      await Promise.all([this.refresh(), this.loadTags(), this.loadViews()]);
    },
    async refresh() {
      const classId = this.classId;
      if (classId === null) return;
      const current = askListing();
      await this.run(async () => {
        // The strips come first: they are two walks of one index; the grid's first page may need a sort.
        const page = api.classPage({
          labelId: classId,
          order: this.order,
          offset: 0,
          limit: PAGE_SIZE,
          ...this.statusFilter(),
        });
        page.catch(() => undefined); // a failure is reported where the page is awaited below
        // The strips obey the same filters as the grid.
        const { kind, ...filter } = this.statusFilter();
        const extremes = await api.classExtremes({ classId, n: EXTREMES, kind, ...filter });
        const first = await page;
        if (!current()) return;
        this.best = [...extremes.best];
        this.worst = [...extremes.worst];
        listing++;
        loading.clear();
        this.total = first.total;
        this.pages = { 0: [...first.items] };
        this.remember([...this.best, ...this.worst, ...first.items]);
        if (this.detail) {
          const currentDetail = askDetail();
          const detail = await api.instanceDetail({ id: this.detail.id });
          if (currentDetail()) this.detail = detail;
        }
      });
    },
    async setOrder(order: Order) {
      this.order = order;
      await this.refresh();
    },
    statusFilter() {
      return filtersOf(this);
    },
    /** The filters, sort and score kind on screen, as a saved view holds them. */
    currentView(): SavedViewSettings {
      return { order: this.order, ...filtersOf(this) };
    },
    async setKind(kind: ScoreKindName) {
      this.kind = kind;
      await this.refresh();
    },
    async setStatus(status: '' | 'pending' | 'accepted' | 'rejected') {
      this.status = status;
      await this.refresh();
    },
    remember(items: readonly InstanceSummary[]) {
      for (const item of items) this.known[item.id] = item;
    },
    async loadPage(page: number) {
      if (this.classId === null) return;
      if (this.pages[page] !== undefined) return loading.get(page);
      this.pages[page] = [];
      const asked = listing;
      const done = (async () => {
        const result = await this.run(() =>
          api.classPage({
            labelId: this.classId as number,
            order: this.order,
            offset: page * PAGE_SIZE,
            limit: PAGE_SIZE,
            ...this.statusFilter(),
          }),
        );
        if (result && asked === listing) {
          this.pages[page] = [...result.items];
          this.remember(result.items);
        } else if (!result && asked === listing) delete this.pages[page]; // failed: asked again when next in view
      })();
      loading.set(page, done);
      return done;
    },
    /** The instance at a grid position: of the class in the grid's order, or of the selection. */
    gridAt(index: number): InstanceSummary | undefined {
      if (!this.selectionOnly) return this.at(index);
      const id = this.selected[index];
      return id === undefined ? undefined : this.known[id];
    },
    /** Clears every filter beyond the class and reloads. */
    async clearFilters() {
      this.status = '';
      this.filters = { promptContains: '', minScore: '', maxScore: '', roundIndex: '', tag: '' };
      await this.refresh();
    },
    /** Selects every instance the grid shows under the filters (all pages, not only the loaded ones). */
    async selectAll() {
      const classId = this.classId;
      if (classId === null) return;
      await this.run(async () => {
        const ids: number[] = [];
        for (let offset = 0; offset === 0 || offset < this.total; offset += SELECT_ALL_PAGE) {
          const page = await api.classPage({
            labelId: classId,
            order: this.order,
            offset,
            limit: SELECT_ALL_PAGE,
            ...this.statusFilter(),
          });
          this.remember(page.items);
          ids.push(...page.items.map((i) => i.id));
          if (page.items.length < SELECT_ALL_PAGE) break;
        }
        this.selected = ids;
        this.message = `Selected all ${ids.length}.`;
      });
    },
    clearSelection() {
      this.selected = [];
      this.selectionOnly = false;
    },
    toggleSelectionOnly() {
      this.selectionOnly = !this.selectionOnly && this.selected.length > 0;
    },
    /** The list the viewer steps through, and its length. */
    viewerList(source: ViewerSource): { length: number; at: (index: number) => InstanceSummary | undefined } {
      if (source === 'grid') return { length: this.gridCount, at: (i) => this.gridAt(i) };
      const strip = source === 'best' ? this.best : this.worst;
      return { length: strip.length, at: (i) => strip[i] };
    },
    /** Opens the viewer on a position of a list (the selection stays: the viewer's A, R and C act on the instance shown). */
    async openViewer(source: ViewerSource, index: number) {
      const list = this.viewerList(source);
      if (index < 0 || index >= list.length) return;
      if (source === 'grid' && !this.selectionOnly && list.at(index) === undefined)
        await this.loadPage(Math.floor(index / PAGE_SIZE));
      const item = list.at(index);
      if (item === undefined) return;
      this.viewer = { source, index, id: item.id, imageHash: item.imageHash };
      await this.showDetail(item.id);
    },
    /** Opens the viewer on an instance of the grid or the strips. */
    async view(id: number) {
      for (const source of ['grid', 'best', 'worst'] as const) {
        const list = this.viewerList(source);
        for (let i = 0; i < list.length; i++) if (list.at(i)?.id === id) return this.openViewer(source, i);
      }
    },
    async step(delta: number) {
      if (this.viewer) await this.openViewer(this.viewer.source, this.viewer.index + delta);
    },
    /**
     * After a change, the viewer's place: the instance shown where it still is, else what holds its
     * place now (a status filter drops a decided instance and the next moves up: stepping on from
     * the old place would skip it).
     */
    async keepViewerPlace() {
      const v = this.viewer;
      if (v === null) return;
      const list = this.viewerList(v.source);
      if (v.source === 'grid' && !this.selectionOnly && v.index < list.length && list.at(v.index) === undefined)
        await this.loadPage(Math.floor(v.index / PAGE_SIZE));
      if (list.at(v.index)?.id === v.id) return;
      if (list.length === 0) return this.closeViewer();
      await this.openViewer(v.source, Math.min(v.index, list.length - 1));
    },
    closeViewer() {
      this.viewer = null;
    },
    select(id: number, mode: 'only' | 'toggle') {
      if (mode === 'only') this.selected = [id];
      else this.selected = this.isSelected(id) ? this.selected.filter((s) => s !== id) : [...this.selected, id];
      void this.showDetail(id);
    },
    async showDetail(id: number) {
      const current = askDetail();
      const detail = await this.run(() => api.instanceDetail({ id }));
      // Features exist once the instance is scored; before that there is nothing to compare.
      const nearest = await api.nearestReal({ id, k: 6 }).catch(() => undefined);
      if (!current()) return;
      if (detail) this.detail = detail;
      this.nearestReal = [...(nearest?.items ?? [])];
    },
    async relabel(labelId: number) {
      if (this.selected.length === 0) return;
      const ids = [...this.selected];
      const done = await this.run(() => api.curate({ ids, action: 'relabel', labelId }));
      if (done) {
        await this.refresh();
        await this.keepViewerPlace();
        this.toast = null;
        this.message = `Relabelled ${ids.length}. Undo: U`;
      }
    },
    /** Curates the selection, or the instance the viewer shows while it is open. */
    async curate(action: Action) {
      const ids = this.viewer ? [this.viewer.id] : [...this.selected];
      if (ids.length === 0) return;
      const done = await this.run(() => api.curate({ ids, action }));
      if (done) {
        await this.refresh();
        await this.keepViewerPlace();
        this.toast = null;
        this.message = `${action === 'clear' ? 'Cleared' : action === 'accept' ? 'Accepted' : 'Rejected'} ${ids.length}. Undo: U`;
      }
    },
    /** Undoes the latest action touching this class (not one taken on another class's screen). */
    async undo() {
      const classId = this.classId;
      if (classId === null) return;
      const done = await this.run(() => api.classUndo({ classId }));
      if (done) await this.reportBatch(done.undone, 'Undid', 'redo', 'Nothing to undo in this class.');
    },
    async redo() {
      const classId = this.classId;
      if (classId === null) return;
      const done = await this.run(() => api.classRedo({ classId }));
      if (done) await this.reportBatch(done.redone, 'Redid', 'undo', 'Nothing to redo in this class.');
    },
    async reportBatch(batch: CuratedBatch | null, verb: string, offer: 'undo' | 'redo', none: string) {
      this.message = null;
      if (batch === null) {
        this.toast = null;
        this.message = none;
        return;
      }
      await this.refresh();
      this.toast = { text: `${verb}: ${describeBatch(batch, useProjectStore().className)}`, offer };
    },
    async loadTags() {
      const list = await this.run(() => api.tagList({}));
      if (list) this.projectTags = [...list.tags];
    },
    /** Tags the selection, or the instance the viewer shows while it is open, as one undoable action. */
    async tag(tag: string) {
      const ids = this.viewer ? [this.viewer.id] : [...this.selected];
      if (ids.length === 0 || tag.trim() === '') return;
      const done = await this.run(() => api.tagAdd({ ids, tags: [tag] }));
      if (done) {
        await Promise.all([this.refresh(), this.loadTags()]);
        this.toast = null;
        const had = done.changed < ids.length ? ` (${ids.length - done.changed} had it)` : '';
        this.message = `Tagged ${done.changed} "${tag.trim()}"${had}.${done.batch === null ? '' : ' Undo: U'}`;
      }
    },
    /** Removes a tag from one instance (the detail's ×), as one undoable action. */
    async untag(id: number, tag: string) {
      const done = await this.run(() => api.tagRemove({ ids: [id], tags: [tag] }));
      if (done) {
        await Promise.all([this.refresh(), this.loadTags()]);
        this.toast = null; // a new action ends the redo history a toast may offer
        this.message = `Removed "${tag}". Undo: U`;
      }
    },
    /** Sets the note of the instance in the detail; empty text clears it. */
    async saveNote(id: number, text: string) {
      const done = await this.run(() => api.noteSet({ id, text }));
      if (done && this.detail?.id === id) {
        this.detail = { ...this.detail, note: done.note };
        this.message = done.note ? 'Note saved.' : 'Note cleared.';
      }
    },
    async loadViews() {
      const list = await this.run(() => api.viewList({}));
      if (list) this.views = [...list.views];
    },
    /** Saves the filters, sort and score kind on screen under a name (replacing a view of that name). */
    async saveView(name: string) {
      const saved = await this.run(() => api.viewSave({ name, view: this.currentView() }));
      if (saved) {
        await this.loadViews();
        this.message = `Saved the view "${saved.name}".`;
      }
    },
    /** Puts a saved view's filters, sort and score kind on screen: the strips and the grid follow. */
    async applyView(id: number) {
      const saved = this.views.find((v) => v.id === id);
      if (saved === undefined) return;
      const v = saved.view;
      this.order = v.order;
      this.kind = v.kind;
      this.status = v.status ?? '';
      this.filters = {
        promptContains: v.promptContains ?? '',
        minScore: v.minScore ?? '',
        maxScore: v.maxScore ?? '',
        roundIndex: v.roundIndex === undefined ? '' : v.roundIndex + 1,
        tag: v.tag ?? '',
      };
      await this.refresh();
    },
    async deleteView(id: number) {
      const done = await this.run(() => api.viewDelete({ id }));
      if (done) await this.loadViews();
    },
    async selectSimilar() {
      const id = this.selected[0];
      if (id === undefined) return;
      const found = await this.run(() => api.similar({ id, k: 24, sameLabel: true }));
      if (found) {
        this.remember(found.items);
        this.selected = [id, ...found.items.map((i) => i.id)];
        this.message = `Selected ${this.selected.length} similar instances.`;
      }
    },
  },
});
