// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../src/shared/progress.ts';

// The run store against a fake engine with run 2 going: its progress must not take the screen
// away from a past run the user opened.
const ok = (value: unknown) => ({ ok: true, value });
const fake = {
  runState: async () => ok({ job: { state: 'running', runId: 2, last: null }, runs: [{ id: 1 }, { id: 2 }] }),
  runMetrics: async () => ok({}),
  runDetail: async () => ok({}),
  onEvent: () => () => {},
} as unknown as Window['winnow'];
Object.defineProperty(window, 'winnow', { value: fake });

const { useRunStore } = await import('../../src/renderer/src/stores/runs.ts');

const progress = (round: number, done: number): { type: 'progress'; event: ProgressEvent } => ({
  type: 'progress',
  event: { runId: 2, round, rounds: 3, stage: 'generate', done, total: 10 },
});

describe('the Run screen while a run goes', () => {
  it('shows the run when it starts, and keeps a past run the user opens through its later progress', async () => {
    setActivePinia(createPinia());
    const runs = useRunStore();
    await runs.load();
    await runs.onEvent(progress(0, 1));
    expect(runs.selected).toBe(2);
    await runs.select(1);
    await runs.onEvent(progress(0, 2));
    await runs.onEvent(progress(1, 0)); // a new round
    expect(runs.selected).toBe(1);
  });
});
