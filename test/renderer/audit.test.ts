// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import { auditableStatus } from './auditableStatus.ts';
import type { AuditSummary, InstanceSummary } from '../../src/shared/api.ts';

// The Audit view against a fake transport standing in for `window.winnow`: a verdict is sent with
// the label the item was shown as, and the view says which label each verdict judged.
const SHIRT = 1;
const TSHIRT = 2;
const item: InstanceSummary = {
  id: 7,
  imageHash: 'a'.repeat(64),
  classId: SHIRT,
  labelId: SHIRT,
  status: 'pending',
  override: null,
  contribution: -0.3,
  score: -0.3,
  tags: [],
};
const estimate = { audited: 1, correct: 0, accuracy: 0, low: 0, high: 0.79 };
const summary: AuditSummary = {
  population: 'exported',
  classes: [
    { classId: SHIRT, name: 'shirt', relabelled: 1, size: 30, ...estimate },
    {
      classId: TSHIRT,
      name: 't-shirt',
      relabelled: 0,
      size: 10,
      audited: 0,
      correct: 0,
      accuracy: null,
      low: 0,
      high: 1,
    },
  ],
  overall: estimate,
  stratified: { size: 40, accuracy: 0, standardError: null, low: null, high: null, coveredShare: 0.75 },
  agreement: {
    kind: 'quality',
    scored: 0,
    auroc: null,
    meanCorrect: null,
    meanIncorrect: null,
    low: null,
    high: null,
    resamples: 1000,
    seed: 1,
    incorrect: 0,
  },
  incorrect: [{ id: 7, imageHash: 'a'.repeat(64), judgedLabelId: SHIRT, labelId: TSHIRT }],
};
const calls: [string, unknown][] = [];
let sampleItems: InstanceSummary[] = [item];
const ok = (value: unknown) => ({ ok: true, value });
const fake = {
  auditSample: async (request: unknown) => (calls.push(['auditSample', request]), ok({ items: sampleItems })),
  auditVerdict: async (request: { labelId?: number }) => (
    calls.push(['auditVerdict', request]),
    ok({ id: 1, labelId: request.labelId ?? SHIRT })
  ),
  auditSummary: async () => ok(summary),
  onEvent: () => () => {},
} as unknown as Window['winnow'];
Object.defineProperty(window, 'winnow', { value: fake });

const { useProjectStore } = await import('../../src/renderer/src/stores/project.ts');
const { default: AuditView } = await import('../../src/renderer/src/views/audit/AuditView.vue');

describe('the Audit view', () => {
  it('sends the label it showed with each verdict and says which label each verdict judged', async () => {
    setActivePinia(createPinia());
    useProjectStore().status = auditableStatus(SHIRT, TSHIRT);
    const view = mount(AuditView, { attachTo: document.body });
    await view.get('button').trigger('click'); // Draw a stratified sample
    await flushPromises();
    expect(view.get('.question').text()).toBe('Is this a shirt?');
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'n' }));
    await flushPromises();
    expect(calls).toContainEqual(['auditVerdict', { id: 7, verdict: 'incorrect', labelId: SHIRT }]);
    expect(view.text()).toContain('Marked incorrect as shirt.');
    const rows = view.findAll('table[aria-label="Accuracy"] tr').map((r) => r.findAll('th, td').map((c) => c.text()));
    expect(rows[0]).toContain('Since relabelled');
    // The class's size in the population is shown since the estimate became stratified.
    expect(rows[1]).toEqual(['shirt', '30', '1', '0', '0.0%', '0.0% – 79.0%', '1']);
    expect(rows[3]?.at(-1)).toBe('1');
    view.unmount();
  });

  it('judges the item shown once: a second Y before the first is answered, a held Y or Ctrl+Y judge nothing more', async () => {
    setActivePinia(createPinia());
    useProjectStore().status = auditableStatus(SHIRT, TSHIRT);
    sampleItems = [item, { ...item, id: 8 }, { ...item, id: 9 }];
    calls.length = 0;
    const view = mount(AuditView, { attachTo: document.body });
    await view.get('button').trigger('click');
    await flushPromises();
    for (const init of [{}, {}, { repeat: true }, { ctrlKey: true }] as KeyboardEventInit[])
      window.dispatchEvent(new KeyboardEvent('keydown', { key: 'y', ...init }));
    await flushPromises();
    expect(calls.filter(([method]) => method === 'auditVerdict')).toEqual([
      ['auditVerdict', { id: 7, verdict: 'correct', labelId: SHIRT }],
    ]);
    expect(view.get('.question').text()).toBe('Is this a shirt?'); // the next item, 8, is shown
    view.unmount();
    sampleItems = [item];
  });
});
