import { defineStore } from 'pinia';
import type {
  InstanceSummary,
  LabelIssues,
  RemedyKind,
  RemedyProposal,
  RemedyState,
  SuggestedInstanceSummary,
} from '../../../shared/api.ts';
import { api, guarded } from '../api.ts';
import { newestAnswer } from './newestAnswer.ts';

export const CELL_PAGE = 200;
/** The matrix (another status filter) and a cell's instances (another cell): only the newest answer shows. */
const askMatrix = newestAnswer();
const askCell = newestAnswer();
/** A class's remedy proposal: another class chosen meanwhile is the one shown. */
const askRemedy = newestAnswer();
/** How often a remedy being applied is asked how far it got. */
const REMEDY_POLL_MS = 400;
/** A curated decision to filter by, or any (''). */
type Status = '' | InstanceSummary['status'];
export interface Cell {
  readonly labelId: number;
  readonly suggestedId: number;
}

/**
 * The label issues screen: the matrix of pseudo-label × the scoring head's suggested label, one
 * opened cell's instances (most probable suggestion first), a selection, and applying the suggestion.
 */
export const useIssuesStore = defineStore('issues', {
  state: () => ({
    status: '' as Status,
    matrix: null as LabelIssues | null,
    cell: null as Cell | null,
    items: [] as SuggestedInstanceSummary[],
    total: 0,
    selected: [] as number[],
    message: null as string | null,
    error: null as string | null,
    /** The remedy proposed for the open cell's row (its pseudo-label class), the form to try remedies, and the job. */
    remedy: null as RemedyProposal | null,
    remedyNegative: '',
    remedyCount: 24,
    remedyJob: { state: 'idle' } as RemedyState,
    /** Whether the applied remedy of the finished job was undone. */
    remedyUndone: false,
    /** The remedies not tried that were applied by hand since the job finished. */
    remedyAppliedByHand: [] as RemedyKind[],
  }),
  getters: {
    /** The count of a cell (0 when empty). */
    count: (state) => (labelId: number, suggestedId: number) =>
      state.matrix?.cells.find((c) => c.labelId === labelId && c.suggestedId === suggestedId)?.count ?? 0,
    /** The largest disagreement cell: what a disagreement's shade is relative to. */
    largestDisagreement: (state) =>
      Math.max(0, ...(state.matrix?.cells.filter((c) => c.disagreement).map((c) => c.count) ?? [])),
    isSelected: (state) => (id: number) => state.selected.includes(id),
  },
  actions: {
    /** Loads the matrix and, when a cell is open, its first page again. */
    async refresh() {
      await guarded(this, async () => {
        const current = askMatrix();
        const matrix = await api.labelIssues(this.statusFilter());
        if (!current()) return;
        this.matrix = matrix;
        if (this.cell) await this.loadCell(0);
      });
    },
    async setStatus(status: Status) {
      this.status = status;
      this.selected = [];
      await this.refresh();
    },
    async open(cell: Cell) {
      this.cell = cell;
      this.selected = [];
      this.message = null;
      await guarded(this, () => this.loadCell(0));
    },
    async more() {
      await guarded(this, () => this.loadCell(this.items.length));
    },
    async loadCell(offset: number) {
      if (!this.cell) return;
      const current = askCell();
      const page = await api.labelIssueInstances({ ...this.cell, offset, limit: CELL_PAGE, ...this.statusFilter() });
      if (!current()) return;
      this.total = page.total;
      this.items = offset === 0 ? [...page.items] : [...this.items, ...page.items];
      // Instances that left the cell (relabelled) leave the selection too.
      this.selected = this.selected.filter((id) => this.items.some((i) => i.id === id));
    },
    select(id: number, mode: 'only' | 'toggle') {
      if (mode === 'only') this.selected = [id];
      else if (this.selected.includes(id)) this.selected = this.selected.filter((s) => s !== id);
      else this.selected = [...this.selected, id];
    },
    selectAll() {
      this.selected = this.items.map((i) => i.id);
    },
    /** Relabels the selection to its suggested labels (one curator relabel, undone as one), then recounts. */
    async apply() {
      if (this.selected.length === 0) return;
      await guarded(this, async () => {
        const { relabelled } = await api.applySuggestedLabels({ ids: this.selected });
        this.message = `Relabelled ${relabelled} ${relabelled === 1 ? 'instance' : 'instances'} to the suggested label.`;
        this.selected = [];
        await this.refresh();
      });
    },
    async undo() {
      await guarded(this, async () => {
        const { batch } = await api.undo({});
        this.message = batch === null ? 'Nothing to undo.' : 'Undid the last curator action.';
        await this.refresh();
      });
    },
    /** Reads the remedy proposal of a class, and the remedy job (following it when it goes). */
    async loadRemedy(classId: number) {
      const current = askRemedy();
      await guarded(this, async () => {
        const proposal = await api.remedyProposal({ classId });
        if (!current()) return;
        this.remedy = proposal;
        this.remedyNegative = proposal.negativePrompt ?? '';
        this.remedyJob = await api.remedyState({});
      });
      if (this.remedyJob.state === 'running') await this.followRemedy();
    },
    /** Tries each remedy on a batch, scores them and applies the best (a job of the engine), then recounts. */
    async applyRemedy() {
      if (!this.remedy) return;
      const classId = this.remedy.classId;
      await guarded(this, async () => {
        const negativePrompt = this.remedyNegative.trim();
        await api.remedyApply({
          classId,
          count: this.remedyCount,
          ...(negativePrompt === '' ? {} : { negativePrompt }),
        });
        this.remedyUndone = false;
        this.remedyAppliedByHand = [];
        await this.followRemedy();
        await this.refresh(); // guarded: it clears the error, so the job's failure is set after it
        const job = this.remedyJob;
        if (job.state === 'failed') this.error = job.fix ? `${job.error} ${job.fix}` : job.error;
        // Unless another class's panel was opened while the trial ran (then that one stays).
        const current = askRemedy();
        const proposal = await api.remedyProposal({ classId });
        if (current() && this.remedy?.classId === classId) this.remedy = proposal;
      });
    },
    /** Puts back the class setting the applied remedy changed. */
    async undoRemedy() {
      const job = this.remedyJob;
      if (job.state !== 'done' || job.outcome.undo === null) return;
      const { classId, undo, applied } = job.outcome;
      await guarded(this, async () => {
        await api.updateClass({ id: classId, ...undo });
        this.remedyUndone = true;
        this.message = `Undid the remedy (${applied}).`;
        this.remedy = await api.remedyProposal({ classId });
      });
    },
    /** Applies a remedy the job could not try on a batch (fewer budget) as the job proposed it. */
    async applyUntried(kind: RemedyKind) {
      const job = this.remedyJob;
      if (job.state !== 'done') return;
      const untried = job.outcome.notTried.find((n) => n.kind === kind);
      if (untried?.apply === undefined) return;
      const { classId } = job.outcome;
      await guarded(this, async () => {
        await api.updateClass({ id: classId, ...untried.apply });
        this.remedyAppliedByHand = [...this.remedyAppliedByHand, kind];
        this.message = `Applied ${untried.change}.`;
        this.remedy = await api.remedyProposal({ classId });
      });
    },
    async followRemedy() {
      await guarded(this, async () => {
        for (;;) {
          this.remedyJob = await api.remedyState({});
          if (this.remedyJob.state !== 'running') return;
          await new Promise((wait) => setTimeout(wait, REMEDY_POLL_MS));
        }
      });
    },
    statusFilter() {
      return this.status === '' ? {} : { status: this.status };
    },
  },
});
