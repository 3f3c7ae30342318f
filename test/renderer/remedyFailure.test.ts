// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';

// The issues store against a fake transport: a remedy trial that fails says why, with the fix.
const ok = (value: unknown) => ({ ok: true, value });
const fake = {
  labelIssues: async () => ok({ status: 'any', cells: [] }),
  remedyProposal: async ({ classId }: { classId: number }) => ok({ classId, concentrated: true }),
  remedyApply: async () => ok({ started: true }),
  remedyState: async () =>
    ok({
      state: 'failed',
      classId: 3,
      error: 'The remedy trial was stopped before it finished; the class is as it was.',
      fix: 'Apply the remedy again.',
    }),
  onEvent: () => () => {},
} as unknown as Window['winnow'];
Object.defineProperty(window, 'winnow', { value: fake });

const { useIssuesStore } = await import('../../src/renderer/src/stores/issues.ts');

describe('Try remedies', () => {
  it('shows why the trial failed, with the fix, after the screen is recounted', async () => {
    setActivePinia(createPinia());
    const issues = useIssuesStore();
    await issues.loadRemedy(3);
    await issues.applyRemedy();
    expect(issues.error).toBe(
      'The remedy trial was stopped before it finished; the class is as it was. Apply the remedy again.',
    );
  });
});
