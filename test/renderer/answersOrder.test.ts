// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it, vi } from 'vitest';
import type { RunDetail, RunState } from '../../src/shared/api.ts';

// The stores under events and clicks that ask faster than the engine answers: the answer to an
// older fetch may arrive after a newer one's, and must not put back what the newer one showed. The
// server's answers here are snapshots taken when asked, released when the test says, as a busy
// engine's would be.
const round = (index: number, finished: boolean): RunDetail['rounds'][number] => ({
  round: index,
  generated: finished ? 20 : null,
  acceptedNew: finished ? 15 : null,
  valAccuracy: finished ? 0.8 : null,
  testAccuracy: null,
  rule: null,
  seconds: {},
  startedAt: '2026-01-01T00:00:00Z',
  finishedAt: finished ? '2026-01-01T00:00:09Z' : null,
});
let detail: RunDetail = {
  runId: 1,
  status: 'running',
  startedAt: '2026-01-01T00:00:00Z',
  finishedAt: null,
  settings: {},
  models: {},
  rounds: [round(0, false)],
};
let runState: RunState = {
  job: { state: 'running', runId: 1, last: { stage: 'generate', done: 0, total: 20, round: 0, runId: 1 } },
  runs: [{ id: 1, status: 'running', startedAt: '2026-01-01T00:00:00Z', finishedAt: null }],
};
/** An instance of a class, as the review grid lists it. */
const item = (labelId: number, id: number) => ({ id, labelId, status: 'pending' });
type Asked = { runId?: number; labelId?: number; classId?: number; kind?: string; status?: string };
let projectRuns = 1;
const answers: Record<string, (request: Asked) => unknown> = {
  classPage: ({ labelId }) => ({ total: 1, items: [item(labelId!, labelId! * 100)] }),
  classExtremes: ({ classId }) => ({ best: [item(classId!, classId! * 100 + 1)], worst: [] }),
  tagList: () => ({ tags: [] }),
  viewList: () => ({ views: [] }),
  auditSummary: ({ kind }) => ({ kind }),
  labelIssues: ({ status }) => ({ status: status ?? 'any', cells: [] }),
  viewInstances: ({ status }) => ({ ids: [status === 'rejected' ? 20 : 10], scores: [0.5] }),
  remedyProposal: ({ classId }) => ({ classId }),
  remedyState: () => ({ state: 'idle' }),
  labelIssueInstances: ({ labelId }) => ({ total: 1, items: [item(labelId!, labelId! * 100)] }),
  runState: () => runState,
  runDetail: ({ runId }) => (runId === 1 ? detail : { ...detail, runId, status: 'done' }),
  runMetrics: () => ({ runId: 1, kind: 'quality', rounds: [], bins: [], perClass: [] }),
  projectStatus: () => ({
    dir: '/p',
    name: 'p',
    schemaVersion: 4,
    classes: [],
    runs: projectRuns,
    unfinishedRuns: [],
    exports: 0,
  }),
};

/** Answers taken but not yet sent, by method, in the order asked. */
const held: Record<string, (() => void)[]> = {};
let holding = false;
vi.stubGlobal('fetch', async (url: string, init?: { method?: string; body?: string }) => {
  if (init?.method === 'HEAD') return new Response(null, { status: 200 });
  const method = url.replace('/api/', '');
  const body = JSON.stringify({ ok: true, value: answers[method]!(JSON.parse(init?.body ?? '{}')) });
  if (holding) await new Promise<void>((release) => (held[method] ??= []).push(release));
  return new Response(body, { status: 200 });
});
vi.stubGlobal(
  'EventSource',
  class {
    close() {}
  },
);

const { useRunStore } = await import('../../src/renderer/src/stores/runs.ts');
const { useReviewStore } = await import('../../src/renderer/src/stores/review.ts');
const { useAuditStore } = await import('../../src/renderer/src/stores/audit.ts');
const { useIssuesStore } = await import('../../src/renderer/src/stores/issues.ts');
const { useMapStore } = await import('../../src/renderer/src/stores/map.ts');
const { useProjectStore } = await import('../../src/renderer/src/stores/project.ts');

/** Lets the store's pending work run until it waits on the server again. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
/** Sends the held answers of a method: the newest first, then the rest (the out-of-order case). */
const releaseNewestFirst = async (method: string) => {
  const waiting = held[method]!.splice(0);
  for (const release of waiting.reverse()) {
    release();
    await settle();
  }
};

describe('when answers arrive out of order', () => {
  it('the run store keeps the newest: a finished round stays finished, a done run stays done', async () => {
    setActivePinia(createPinia());
    const runs = useRunStore();
    await runs.load();
    expect(runs.detail?.rounds[0]?.finishedAt).toBeNull();

    // Round 1 begins while round 0's fetches are still unanswered; round 0 has finished meanwhile.
    holding = true;
    void runs.onEvent({ type: 'progress', event: { runId: 1, round: 1, rounds: 3, stage: 'plan', done: 0, total: 1 } });
    await settle();
    await releaseNewestFirst('runState');
    detail = { ...detail, rounds: [round(0, true), round(1, false)] };
    void runs.onEvent({ type: 'progress', event: { runId: 1, round: 2, rounds: 3, stage: 'plan', done: 0, total: 1 } });
    await settle();
    await releaseNewestFirst('runState');
    await releaseNewestFirst('runMetrics');
    await releaseNewestFirst('runDetail');
    expect(runs.detail?.rounds.map((r) => r.finishedAt !== null)).toEqual([true, false]);

    // The run ends; the state fetched for the last progress event answers after the finished one's.
    void runs.onEvent({ type: 'progress', event: { runId: 1, round: 3, rounds: 3, stage: 'plan', done: 0, total: 1 } });
    await settle();
    runState = {
      job: { state: 'idle' },
      runs: [{ id: 1, status: 'done', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:30Z' }],
    };
    void runs.onEvent({ type: 'finished', runId: 1, status: 'done' });
    await settle();
    await releaseNewestFirst('runState');
    holding = false;
    for (const method of Object.keys(held)) await releaseNewestFirst(method);
    expect(runs.running).toBe(false);
    expect(runs.progress).toBeNull();
  });

  it('the run screen shows the run last chosen for comparison', async () => {
    holding = true;
    const runs = useRunStore();
    void runs.compare(2);
    void runs.compare(3);
    await settle();
    await releaseNewestFirst('runDetail');
    holding = false;
    expect(runs.compareWith).toBe(3);
    expect(runs.compareDetail?.runId).toBe(3);
  });

  it('the review screen shows the class last opened, the audit the kind last chosen, label issues the status and cell', async () => {
    const review = useReviewStore();
    const audit = useAuditStore();
    const issues = useIssuesStore();
    holding = true;
    void review.open(1);
    await settle();
    void review.open(2);
    void audit.setKind('quality');
    void audit.setKind('contribution');
    void issues.setStatus('accepted');
    void issues.setStatus('');
    void issues.open({ labelId: 3, suggestedId: 4 });
    void issues.open({ labelId: 5, suggestedId: 6 });
    await settle();
    for (const method of ['classExtremes', 'classPage', 'auditSummary', 'labelIssues', 'labelIssueInstances'])
      await releaseNewestFirst(method);
    holding = false;
    for (const method of Object.keys(held)) await releaseNewestFirst(method);
    expect(review.classId).toBe(2);
    expect(review.best.map((i) => i.labelId)).toEqual([2]);
    expect(review.pages[0]?.map((i) => i.labelId)).toEqual([2]);
    expect(audit.summary).toEqual({ kind: 'contribution' });
    expect(issues.matrix).toEqual({ status: 'any', cells: [] });
    expect(issues.items.map((i) => i.labelId)).toEqual([5]);
  });

  it('the map shows the view last chosen, label issues the class last asked, the project its newest counts', async () => {
    const map = useMapStore();
    map.points = { real: 0, id: [10, 20] } as unknown as typeof map.points;
    const view = (id: number, status: 'accepted' | 'rejected') => ({
      id,
      name: status,
      view: { kind: 'quality', status },
    });
    map.views = [view(1, 'accepted'), view(2, 'rejected')] as unknown as typeof map.views;
    const issues = useIssuesStore();
    const project = useProjectStore();
    holding = true;
    void map.applyView(1);
    void map.applyView(2);
    void issues.loadRemedy(7);
    void issues.loadRemedy(8);
    void project.refreshStatus();
    projectRuns = 2;
    void project.refreshStatus();
    await settle();
    for (const method of ['viewInstances', 'remedyProposal', 'projectStatus']) await releaseNewestFirst(method);
    holding = false;
    for (const method of Object.keys(held)) await releaseNewestFirst(method);
    expect(map.viewId).toBe(2);
    expect([...map.inView!]).toEqual([0, 1]);
    expect(issues.remedy).toEqual({ classId: 8 });
    expect(project.status?.runs).toBe(2);
  });
});
