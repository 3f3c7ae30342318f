import { defineStore } from 'pinia';
import type { InstanceDetail, InstanceSummary, Responses } from '../../../shared/api.ts';
import { DEFAULT_SCORE_KIND, type ScoreKindName } from '../../../shared/scoreKinds.ts';
import { api, describeError } from '../api.ts';

export const PAGE_SIZE = 240;
export const EXTREMES = 12;
type Order = 'best' | 'worst' | 'newest';
type Action = 'accept' | 'reject' | 'clear';

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
    },
    nearestReal: [] as Responses['nearestReal']['items'][number][],
    total: 0,
    pages: {} as Record<number, InstanceSummary[]>,
    selected: [] as number[],
    detail: null as InstanceDetail | null,
    message: null as string | null,
    error: null as string | null,
  }),
  getters: {
    /** The instance at a grid position, if its page is loaded. */
    at: (state) => (index: number) => state.pages[Math.floor(index / PAGE_SIZE)]?.[index % PAGE_SIZE],
    isSelected: (state) => (id: number) => state.selected.includes(id),
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
      this.detail = null;
      await this.refresh();
    },
    async refresh() {
      const classId = this.classId;
      if (classId === null) return;
      await this.run(async () => {
        // The strips come first: they are two index range scans; the grid's first page may need a sort.
        const page = api.classPage({
          labelId: classId,
          order: this.order,
          offset: 0,
          limit: PAGE_SIZE,
          ...this.statusFilter(),
        });
        page.catch(() => undefined); // a failure is reported where the page is awaited below
        const extremes = await api.classExtremes({ classId, n: EXTREMES, kind: this.kind });
        this.best = [...extremes.best];
        this.worst = [...extremes.worst];
        const first = await page;
        this.total = first.total;
        this.pages = { 0: [...first.items] };
        if (this.detail) this.detail = await api.instanceDetail({ id: this.detail.id });
      });
    },
    async setOrder(order: Order) {
      this.order = order;
      await this.refresh();
    },
    statusFilter() {
      const f = this.filters;
      return {
        ...(this.status === '' ? {} : { status: this.status }),
        kind: this.kind,
        ...(f.promptContains.trim() === '' ? {} : { promptContains: f.promptContains.trim() }),
        ...(f.minScore === '' ? {} : { minScore: f.minScore }),
        ...(f.maxScore === '' ? {} : { maxScore: f.maxScore }),
        // The UI counts rounds from 1.
        ...(f.roundIndex === '' ? {} : { roundIndex: f.roundIndex - 1 }),
      };
    },
    async setKind(kind: ScoreKindName) {
      this.kind = kind;
      await this.refresh();
    },
    async setStatus(status: '' | 'pending' | 'accepted' | 'rejected') {
      this.status = status;
      await this.refresh();
    },
    async loadPage(page: number) {
      if (this.classId === null || this.pages[page] !== undefined) return;
      this.pages[page] = [];
      const result = await this.run(() =>
        api.classPage({
          labelId: this.classId as number,
          order: this.order,
          offset: page * PAGE_SIZE,
          limit: PAGE_SIZE,
          ...this.statusFilter(),
        }),
      );
      if (result) this.pages[page] = [...result.items];
    },
    select(id: number, mode: 'only' | 'toggle') {
      if (mode === 'only') this.selected = [id];
      else this.selected = this.isSelected(id) ? this.selected.filter((s) => s !== id) : [...this.selected, id];
      void this.showDetail(id);
    },
    async showDetail(id: number) {
      const detail = await this.run(() => api.instanceDetail({ id }));
      if (detail) this.detail = detail;
      // Features exist once the instance is scored; before that there is nothing to compare.
      this.nearestReal = [...((await api.nearestReal({ id, k: 6 }).catch(() => undefined))?.items ?? [])];
    },
    async relabel(labelId: number) {
      if (this.selected.length === 0) return;
      const ids = [...this.selected];
      const done = await this.run(() => api.curate({ ids, action: 'relabel', labelId }));
      if (done) {
        await this.refresh();
        this.message = `Relabelled ${ids.length}. Undo: U`;
      }
    },
    async curate(action: Action) {
      if (this.selected.length === 0) return;
      const ids = [...this.selected];
      const done = await this.run(() => api.curate({ ids, action }));
      if (done) {
        await this.refresh();
        this.message = `${action === 'clear' ? 'Cleared' : action === 'accept' ? 'Accepted' : 'Rejected'} ${ids.length}. Undo: U`;
      }
    },
    async undo() {
      const done = await this.run(() => api.undo({}));
      if (done) {
        await this.refresh();
        this.message = done.batch ? 'Undone.' : 'Nothing to undo.';
      }
    },
    async selectSimilar() {
      const id = this.selected[0];
      if (id === undefined) return;
      const found = await this.run(() => api.similar({ id, k: 24, sameLabel: true }));
      if (found) {
        this.selected = [id, ...found.items.map((i) => i.id)];
        this.message = `Selected ${this.selected.length} similar instances.`;
      }
    },
  },
});
