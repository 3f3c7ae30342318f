// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it, vi } from 'vitest';
import type { RunState } from '../../src/shared/api.ts';

// The served page (no `window.winnow`: calls go over HTTP, events over an EventSource) while the
// engine goes away and comes back: a run finished meanwhile, and its `finished` event was never
// received. Once the server answers again, the stores that show engine state fetch it anew.
let online = true;
let runState: RunState = {
  job: { state: 'running', runId: 1, last: { stage: 'generate', done: 3, total: 10, round: 0, runId: 1 } },
  runs: [{ id: 1, status: 'running', startedAt: '2026-01-01T00:00:00Z', finishedAt: null }],
};
let runCount = 1;
const calls: string[] = [];

const answers: Record<string, () => unknown> = {
  runState: () => runState,
  runMetrics: () => ({ runId: 1, kind: 'quality', rounds: [], bins: [], perClass: [] }),
  // The run screen's table and settings of the selected run, fetched with its metrics.
  runDetail: () => ({
    runId: 1,
    status: 'running',
    startedAt: '',
    finishedAt: null,
    settings: {},
    models: {},
    rounds: [],
  }),
  projectStatus: () => ({
    dir: '/p',
    name: 'p',
    schemaVersion: 4,
    classes: [],
    runs: runCount,
    unfinishedRuns: [],
    exports: 0,
  }),
  projectList: () => ({ current: '/p', recent: [] }),
};

vi.stubGlobal('fetch', async (url: string, init?: { method?: string }) => {
  if (!online) throw new TypeError('Failed to fetch');
  if (init?.method === 'HEAD') return new Response(null, { status: 200 });
  const method = url.replace('/api/', '');
  calls.push(method);
  return new Response(JSON.stringify({ ok: true, value: answers[method]!() }), { status: 200 });
});

/** The event stream: the test drops it as a dead server would. */
class FakeEventSource {
  static last: FakeEventSource | null = null;
  onmessage: ((message: { data: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  constructor() {
    FakeEventSource.last = this;
  }
  close() {
    this.closed = true;
  }
}
vi.stubGlobal('EventSource', FakeEventSource);

const { connection } = await import('../../src/renderer/src/connection.ts');
const { useRunStore } = await import('../../src/renderer/src/stores/runs.ts');
const { useProjectStore } = await import('../../src/renderer/src/stores/project.ts');

describe('after the connection comes back', () => {
  it('the run and project stores fetch the engine state again', async () => {
    setActivePinia(createPinia());
    const runs = useRunStore();
    const project = useProjectStore();
    await Promise.all([runs.load(), project.load()]);
    expect(runs.running).toBe(true);
    expect(runs.progress?.done).toBe(3);
    expect(project.status?.runs).toBe(1);

    // The server goes away (the stream drops); meanwhile the run ends and another starts and ends.
    online = false;
    const dropped = FakeEventSource.last!;
    dropped.onerror?.();
    expect(connection.state).toBe('unreachable');
    runState = {
      job: { state: 'idle' },
      runs: [
        { id: 1, status: 'interrupted', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:01:00Z' },
        { id: 2, status: 'done', startedAt: '2026-01-01T00:02:00Z', finishedAt: '2026-01-01T00:03:00Z' },
      ],
    };
    runCount = 2;
    calls.length = 0;
    online = true;

    await vi.waitFor(() => expect(connection.state).toBe('connected'), { timeout: 3000 });
    await vi.waitFor(() => expect(calls).toEqual(expect.arrayContaining(['runState', 'projectStatus'])));
    await vi.waitFor(() => expect(runs.state?.runs.map((r) => r.status)).toEqual(['interrupted', 'done']));
    expect(runs.running).toBe(false);
    expect(runs.progress).toBeNull();
    expect(runs.resumable).toBe(true);
    await vi.waitFor(() => expect(project.status?.runs).toBe(2));
    expect(FakeEventSource.last).not.toBe(dropped);
  });
});
