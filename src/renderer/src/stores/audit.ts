import { defineStore } from 'pinia';
import type { AuditSummary, InstanceSummary } from '../../../shared/api.ts';
import { api, guarded } from '../api.ts';

type Verdict = 'correct' | 'incorrect';

/** The audit screen: a stratified sample, the curator's verdicts on it, and the resulting estimates. */
export const useAuditStore = defineStore('audit', {
  state: () => ({
    perClass: 10,
    seed: 1,
    sample: [] as InstanceSummary[],
    /** The verdict given on each sample item, and the label it judged (the one the item was shown as). */
    verdicts: {} as Record<number, { verdict: Verdict; labelId: number }>,
    /** Ids in the order verdicts were given, for undo. */
    history: [] as number[],
    cursor: 0,
    summary: null as AuditSummary | null,
    error: null as string | null,
  }),
  getters: {
    current: (state) => state.sample[state.cursor],
    done: (state) => Object.keys(state.verdicts).length,
  },
  actions: {
    async draw() {
      await guarded(this, async () => {
        const { items } = await api.auditSample({ perClass: this.perClass, seed: this.seed });
        this.sample = [...items];
        this.verdicts = {};
        this.history = [];
        this.cursor = 0;
        this.summary = await api.auditSummary({});
      });
    },
    async mark(verdict: Verdict) {
      const item = this.sample[this.cursor];
      if (!item) return;
      await guarded(this, async () => {
        const recorded = await api.auditVerdict({ id: item.id, verdict, labelId: item.labelId });
        this.verdicts[item.id] = { verdict, labelId: recorded.labelId };
        this.history.push(item.id);
        this.cursor = Math.min(this.sample.length - 1, this.cursor + 1);
        this.summary = await api.auditSummary({});
      });
    },
    async undo() {
      await guarded(this, async () => {
        const undone = await api.auditUndo({});
        const id = this.history.pop();
        if (undone.id !== null && id !== undefined) {
          delete this.verdicts[id];
          this.cursor = Math.max(
            0,
            this.sample.findIndex((s) => s.id === id),
          );
        }
        this.summary = await api.auditSummary({});
      });
    },
    async refresh() {
      await guarded(this, async () => {
        this.summary = await api.auditSummary({});
      });
    },
  },
});
