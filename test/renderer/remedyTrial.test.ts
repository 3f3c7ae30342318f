// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';

// The issues store against a fake transport: what the Issues screen shows when a remedy trial ends.
const ok = (value: unknown) => ({ ok: true, value });
/** When the trial's state is answered: at once, unless a test holds it. */
let trialEnds: Promise<void> = Promise.resolve();
const fake = {
  labelIssues: async () => ok({ status: 'any', cells: [] }),
  remedyProposal: async ({ classId }: { classId: number }) => ok({ classId, concentrated: true }),
  remedyApply: async () => ok({ started: true }),
  remedyState: async () => {
    await trialEnds;
    return ok({
      state: 'failed',
      classId: 3,
      error: 'The remedy trial was stopped before it finished; the class is as it was.',
      fix: 'Apply the remedy again.',
    });
  },
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

  it("leaves another class's panel open when a trial ends after the user opened it", async () => {
    setActivePinia(createPinia());
    const issues = useIssuesStore();
    await issues.loadRemedy(3);
    let end!: () => void;
    trialEnds = new Promise((resolve) => (end = resolve));
    const applying = issues.applyRemedy();
    const opening = issues.loadRemedy(5); // another row, while the trial runs
    end();
    await Promise.all([applying, opening]);
    expect(issues.remedy?.classId).toBe(5);
    trialEnds = Promise.resolve();
  });
});
