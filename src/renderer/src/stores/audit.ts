import { defineStore } from 'pinia';
import type { AuditPopulation, AuditSummary, InstanceSummary } from '../../../shared/api.ts';
import { DEFAULT_SCORE_KIND, type ScoreKindName } from '../../../shared/scoreKinds.ts';
import { api, guarded } from '../api.ts';
import { newestAnswer } from './newestAnswer.ts';

type Verdict = 'correct' | 'incorrect';
/** The summary (of another score kind or population, or after a verdict): only the newest answer shows. */
const askSummary = newestAnswer();

/** One class's part of the drawn sample: how many items were drawn and how many are judged. */
export interface StratumProgress {
  readonly labelId: number;
  readonly drawn: number;
  readonly judged: number;
}

/**
 * The audit screen: a stratified sample of a population (by default what an export of accepted
 * instances holds), the curator's verdicts on it, the resulting estimates with the agreement of a
 * chosen score kind, and the relabelling of items judged incorrect.
 */
export const useAuditStore = defineStore('audit', {
  state: () => ({
    perClass: 10,
    seed: 1,
    population: 'exported' as AuditPopulation,
    /** The score kind whose agreement with the verdicts is measured. */
    kind: DEFAULT_SCORE_KIND as ScoreKindName,
    sample: [] as InstanceSummary[],
    /** The verdict given on each sample item, and the label it judged (the one the item was shown as). */
    verdicts: {} as Record<number, { verdict: Verdict; labelId: number }>,
    /** Ids in the order verdicts were given, for undo. */
    history: [] as number[],
    cursor: 0,
    /**
     * A verdict or undo is on its way: another key is ignored until it is answered (two quick Ys
     * would judge one item twice). The next item shows once it is: the summary is fetched after.
     */
    marking: false,
    summary: null as AuditSummary | null,
    /** The instance of the latest relabel made here, until it is undone. */
    relabelled: null as number | null,
    error: null as string | null,
  }),
  getters: {
    current: (state) => state.sample[state.cursor],
    done: (state) => Object.keys(state.verdicts).length,
    /** Per class of the sample (each class is a stratum), in the order the sample lists them. */
    strata(state): StratumProgress[] {
      const byClass = new Map<number, { drawn: number; judged: number }>();
      for (const item of state.sample) {
        const stratum = byClass.get(item.labelId) ?? { drawn: 0, judged: 0 };
        stratum.drawn++;
        if (state.verdicts[item.id] !== undefined) stratum.judged++;
        byClass.set(item.labelId, stratum);
      }
      return [...byClass].map(([labelId, s]) => ({ labelId, ...s }));
    },
    /** Every stratum has its whole sample judged. */
    complete(): boolean {
      return this.strata.length > 0 && this.strata.every((s) => s.judged === s.drawn);
    },
  },
  actions: {
    async draw() {
      await guarded(this, async () => {
        const { items } = await api.auditSample({
          perClass: this.perClass,
          seed: this.seed,
          population: this.population,
        });
        this.sample = [...items];
        this.verdicts = {};
        this.history = [];
        this.cursor = 0;
        await this.fetchSummary();
      });
    },
    async mark(verdict: Verdict) {
      const item = this.sample[this.cursor];
      if (!item || this.marking) return;
      this.marking = true;
      await guarded(this, async () => {
        try {
          const recorded = await api.auditVerdict({ id: item.id, verdict, labelId: item.labelId });
          this.verdicts[item.id] = { verdict, labelId: recorded.labelId };
          this.history.push(item.id);
          this.cursor = Math.min(this.sample.length - 1, this.cursor + 1);
        } finally {
          this.marking = false;
        }
        await this.fetchSummary();
      });
    },
    async undo() {
      if (this.marking) return;
      this.marking = true;
      await guarded(this, async () => {
        try {
          const undone = await api.auditUndo({});
          const id = this.history.pop();
          if (undone.id !== null && id !== undefined) {
            delete this.verdicts[id];
            this.cursor = Math.max(
              0,
              this.sample.findIndex((s) => s.id === id),
            );
          }
        } finally {
          this.marking = false;
        }
        await this.fetchSummary();
      });
    },
    /** Another population: a sample of the former one no longer fits, so it is put away. */
    async setPopulation(population: AuditPopulation) {
      this.population = population;
      this.sample = [];
      this.verdicts = {};
      this.history = [];
      this.cursor = 0;
      await this.refresh();
    },
    async setKind(kind: ScoreKindName) {
      this.kind = kind;
      await this.refresh();
    },
    /**
     * Relabels an item judged incorrect through the curator's relabel, the path the review screen
     * uses: it reaches exports and the undo history like any other curator action.
     */
    async relabel(id: number, labelId: number) {
      await guarded(this, async () => {
        await api.curate({ ids: [id], action: 'relabel', labelId });
        this.relabelled = id;
        await this.fetchSummary();
      });
    },
    /** Undoes the latest curator action (the relabel made here, unless another screen acted since). */
    async undoRelabel() {
      await guarded(this, async () => {
        await api.undo({});
        this.relabelled = null;
        await this.fetchSummary();
      });
    },
    async refresh() {
      await guarded(this, () => this.fetchSummary());
    },
    async fetchSummary() {
      const current = askSummary();
      const summary = await api.auditSummary({ kind: this.kind, population: this.population, seed: this.seed });
      if (current()) this.summary = summary;
    },
  },
});
