import { defineStore } from 'pinia';
import {
  EMBEDDED_MODEL,
  type EngineEvent,
  type ModelInfo,
  type QueueSetting,
  type QueueStatus,
  type Request,
  type RunDetail,
  type RunMetrics,
  type RunRule,
  type RunState,
} from '../../../shared/api.ts';
import type { ProgressEvent } from '../../../shared/progress.ts';
import {
  DEFAULT_FILTER,
  DEFAULT_RULE,
  defaultRuleFor,
  RULE_DEFAULTS,
  RUN_DEFAULTS,
} from '../../../shared/runSettings.ts';
import { DEFAULT_SCORE_KIND, type ScoreKindName } from '../../../shared/scoreKinds.ts';
import { api, guarded, onEngineEvent } from '../api.ts';
import { onReconnect } from '../connection.ts';
import { newestAnswer } from './newestAnswer.ts';
import { useProjectStore } from './project.ts';

type StartRequest = Exclude<Request<'runStart'>, { resume: true }>;

/**
 * The run state, the selected run's metrics and detail, the compared run's detail: progress events
 * ask for them faster than the engine answers (a finished round shown unfinished, a done run shown
 * running, were an older answer to win).
 */
const askState = newestAnswer();
const askRun = newestAnswer();
const askCompared = newestAnswer();

/**
 * The run screen: settings for a new run (with the models it uses: the embedded ones unless
 * registered ones are chosen), the live job, past runs and the selected run's metrics, with the
 * histograms of the chosen score kind.
 */
export const useRunStore = defineStore('runs', {
  state: () => ({
    settings: {
      // No seed: the engine picks one no earlier run used, so a new run never remakes old images.
      ...RUN_DEFAULTS,
      generator: EMBEDDED_MODEL,
      encoder: EMBEDDED_MODEL,
    } as StartRequest,
    state: null as RunState | null,
    progress: null as ProgressEvent | null,
    /** The generation queue of the run going now, when it generates through one (`winnow serve --queue`). */
    queue: null as QueueStatus | null,
    /** The queue runs started from now on generate through (null until loaded). */
    queueSetting: null as QueueSetting | null,
    selected: null as number | null,
    metrics: null as RunMetrics | null,
    /** The selected run's own settings and per-round table. */
    detail: null as RunDetail | null,
    /** A second run shown side by side with the selected one (null: none). */
    compareWith: null as number | null,
    compareDetail: null as RunDetail | null,
    /** The score kind of the selected run's histograms. */
    kind: DEFAULT_SCORE_KIND as ScoreKindName,
    message: null as string | null,
    error: null as string | null,
    unsubscribe: null as (() => void) | null,
    stopRefreshing: null as (() => void) | null,
  }),
  getters: {
    running: (s) => s.state?.job.state === 'running',
    /** The acceptance rule's number: the threshold, or the share kept; the confident and validated rules have none. */
    ruleValue: (s): number | null => {
      const rule = s.settings.rule ?? DEFAULT_RULE;
      return rule.kind === 'threshold' ? rule.threshold : 'keep' in rule ? rule.keep : null;
    },
    /** The clip filter needs a CLIP score model. */
    clipFilterUsable: (s) => s.settings.clip !== undefined,
    resumable: (s) => s.state?.runs.some((r) => r.status !== 'done' && r.status !== 'running') ?? false,
  },
  actions: {
    async load() {
      const current = askState();
      await guarded(this, async () => {
        const state = await api.runState({});
        if (!current()) return;
        this.state = state;
        // No job: no progress to show (its `finished` event may have been missed while disconnected).
        if (this.state.job.state !== 'running') this.progress = null;
        else if (this.state.job.last) this.progress = this.state.job.last;
        const latest = this.state.runs.at(-1)?.id ?? null;
        if (this.selected === null && latest !== null) await this.select(latest);
      });
      this.unsubscribe ??= onEngineEvent((event) => void this.onEvent(event));
      // Events sent while the engine was unreachable are lost: once it is back, ask it how things stand.
      this.stopRefreshing ??= onReconnect(() => void this.refresh());
    },
    async loadQueueSetting() {
      await guarded(this, async () => {
        this.queueSetting = await api.queueSetting({});
      });
    },
    /** Runs started from now on generate through this Redis queue's workers, or (null) in the engine again. */
    async chooseQueue(url: string | null) {
      await guarded(this, async () => {
        this.queueSetting = await api.queueChoose({ url });
        this.message =
          url === null ? 'Runs will generate in this engine.' : `Runs will generate through ${this.queueSetting.url}.`;
      });
    },
    /** The run state and the selected run's metrics, fetched anew. */
    async refresh() {
      await this.load();
      if (this.selected !== null) await this.select(this.selected);
    },
    async onEvent(event: EngineEvent) {
      if (event.type === 'progress') {
        const runId = event.event.runId;
        const newRun = this.progress?.runId !== runId;
        const newRound = newRun || this.progress?.round !== event.event.round;
        this.progress = event.event;
        if (newRound) {
          await this.load();
          // A run that starts is shown; a past run the user opened meanwhile stays open.
          if (newRun || this.selected === runId) await this.select(runId);
        }
      } else if (event.type === 'queue') {
        this.queue = event.status;
      } else if (event.type === 'finished') {
        this.queue = null;
        const detail = event.error ?? event.warning;
        this.message = `Run ${event.runId ?? ''} ${event.status}${detail ? `: ${detail}` : ''}.`;
        this.progress = null;
        // The run's instances change every screen's counts (and end the first-run guidance).
        void useProjectStore().refreshStatus();
        await this.load();
        if (event.runId !== null) await this.select(event.runId);
      }
    },
    async select(runId: number) {
      this.selected = runId;
      const current = askRun();
      await guarded(this, async () => {
        // Each on its own: the charts show even when the table cannot be had, and the other way round.
        const [metrics, detail] = await Promise.allSettled([
          api.runMetrics({ runId, kind: this.kind }),
          api.runDetail({ runId }),
        ]);
        if (!current()) return;
        if (metrics.status === 'fulfilled') this.metrics = metrics.value;
        if (detail.status === 'fulfilled') this.detail = detail.value;
        const failed = [metrics, detail].find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
      });
      if (this.compareWith === runId) await this.compare(null);
    },
    /** Shows another run side by side with the selected one, or none (null). */
    async compare(runId: number | null) {
      this.compareWith = runId;
      this.compareDetail = null;
      const current = askCompared();
      if (runId === null) return;
      await guarded(this, async () => {
        const detail = await api.runDetail({ runId });
        if (current()) this.compareDetail = detail;
      });
    },
    /**
     * Fills the next run's form with a past run's choices of what the form shows, not its seed (which
     * would remake its images) nor its models; the clip filter only when a CLIP score model is chosen.
     */
    copySettings(detail: RunDetail) {
      const past = detail.settings as Partial<StartRequest>;
      for (const key of Object.keys(RUN_DEFAULTS) as (keyof typeof RUN_DEFAULTS)[]) {
        if (past[key] === undefined || (key === 'filter' && past.filter === 'clip' && !this.clipFilterUsable)) continue;
        Object.assign(this.settings, { [key]: past[key] });
      }
    },
    /** Shows the selected run's histograms of another score kind. */
    async setKind(kind: ScoreKindName) {
      this.kind = kind;
      if (this.selected !== null) await this.select(this.selected);
    },
    /** Chooses the CLIP score model ('' for none); without one, the clip filter falls back to the default. */
    chooseClip(name: string) {
      if (name !== '') this.settings.clip = name;
      else {
        delete this.settings.clip;
        if (this.settings.filter === 'clip') this.settings.filter = DEFAULT_FILTER;
      }
    },
    /** Forgets chosen models that are no longer registered (or not of the kind their role needs). */
    keepRegistered(models: readonly ModelInfo[]) {
      const has = (name: string | undefined, kind: ModelInfo['kind']) =>
        models.some((m) => m.name === name && m.kind === kind);
      if (this.settings.generator !== EMBEDDED_MODEL && !has(this.settings.generator, 'stable-diffusion'))
        this.settings.generator = EMBEDDED_MODEL;
      if (this.settings.encoder !== EMBEDDED_MODEL && !has(this.settings.encoder, 'clip'))
        this.settings.encoder = EMBEDDED_MODEL;
      if (this.settings.clip !== undefined && !has(this.settings.clip, 'clip')) this.chooseClip('');
    },
    /**
     * Another filter; a rule left at the old filter's default follows to the new one's (the
     * confident rule reads its own kind, so other kinds get the top share of each class).
     */
    setFilter(filter: StartRequest['filter']) {
      const rule = this.settings.rule ?? DEFAULT_RULE;
      if (JSON.stringify(rule) === JSON.stringify(defaultRuleFor(this.settings.filter, 'run')))
        this.settings.rule = { ...defaultRuleFor(filter, 'run') };
      this.settings.filter = filter;
    },
    /** A rule of another kind, with that kind's usual number (BSGAL's threshold, or keeping 70%). */
    setRuleKind(kind: RunRule['kind']) {
      this.settings.rule = { ...RULE_DEFAULTS[kind] };
    },
    setRuleValue(value: number) {
      const rule = this.settings.rule ?? DEFAULT_RULE;
      if (rule.kind === 'threshold') this.settings.rule = { ...rule, threshold: value };
      else if ('keep' in rule) this.settings.rule = { ...rule, keep: value };
    },
    async start() {
      await guarded(this, async () => {
        const { seed, ...settings } = this.settings;
        // An emptied seed field reads as '': leave the seed to the engine then.
        await api.runStart(typeof seed === 'number' ? { ...settings, seed } : settings);
        this.message = 'Started.';
        void useProjectStore().refreshStatus();
        await this.load();
      });
    },
    async resume() {
      await guarded(this, async () => {
        await api.runStart({ resume: true });
        this.message = 'Resumed.';
        await this.load();
      });
    },
    async stop(as: 'paused' | 'cancelled') {
      await guarded(this, async () => {
        await api.runStop({ as });
        this.message = as === 'paused' ? 'Pausing after the current step…' : 'Cancelling…';
      });
    },
  },
});
