// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import { auditableStatus } from './auditableStatus.ts';
import type { AuditSummary, InstanceSummary } from '../../src/shared/api.ts';

// The Audit view against a fake transport: the completion state once every class's sample is
// judged, the population asked of the engine, and a one-choice relabel through `curate`.
const SHIRT = 1;
const TSHIRT = 2;
const item = (id: number, labelId: number): InstanceSummary => ({
  id,
  imageHash: String(id).repeat(64).slice(0, 64),
  classId: labelId,
  labelId,
  status: 'accepted',
  override: null,
  contribution: null,
  score: null,
  tags: [],
});
const none = { audited: 0, correct: 0, accuracy: null, low: 0, high: 1 };
const summary: AuditSummary = {
  population: 'exported',
  classes: [
    { classId: SHIRT, name: 'shirt', relabelled: 0, size: 30, ...none },
    { classId: TSHIRT, name: 't-shirt', relabelled: 0, size: 10, ...none },
  ],
  overall: none,
  stratified: { size: 40, accuracy: 0.625, standardError: 0.18, low: 0.3, high: 0.85, coveredShare: 1 },
  agreement: {
    kind: 'quality',
    scored: 8,
    auroc: 0.8,
    meanCorrect: 0,
    meanIncorrect: -1,
    low: 0.5,
    high: 1,
    resamples: 1000,
    seed: 1,
    incorrect: 4,
  },
  incorrect: [{ id: 8, imageHash: 'b'.repeat(64), judgedLabelId: TSHIRT, labelId: TSHIRT }],
};
const calls: [string, unknown][] = [];
const ok = (value: unknown) => ({ ok: true, value });
const fake = {
  auditSample: async (request: unknown) => (
    calls.push(['auditSample', request]),
    ok({ items: [item(7, SHIRT), item(8, TSHIRT)] })
  ),
  auditVerdict: async (request: { labelId: number }) => ok({ id: 1, labelId: request.labelId }),
  auditSummary: async (request: unknown) => (calls.push(['auditSummary', request]), ok(summary)),
  curate: async (request: unknown) => (calls.push(['curate', request]), ok({ batch: 'b' })),
  onEvent: () => () => {},
} as unknown as Window['winnow'];
Object.defineProperty(window, 'winnow', { value: fake });

const { useProjectStore } = await import('../../src/renderer/src/stores/project.ts');
const { default: AuditView } = await import('../../src/renderer/src/views/audit/AuditView.vue');

describe('the Audit view’s completion and relabel', () => {
  it('says when every class’s sample is judged, shows the weighted estimate, and relabels in one choice', async () => {
    setActivePinia(createPinia());
    useProjectStore().status = auditableStatus(SHIRT, TSHIRT);
    const view = mount(AuditView, { attachTo: document.body });
    await view.get('button').trigger('click'); // Draw a stratified sample
    await flushPromises();
    expect(calls).toContainEqual(['auditSample', { perClass: 10, seed: 1, population: 'exported' }]);
    expect(calls).toContainEqual(['auditSummary', { kind: 'quality', population: 'exported', seed: 1 }]);
    expect(view.get('[aria-label="Sample progress"]').text()).toMatch(/shirt 0\/1\s*t-shirt 0\/1/);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'y' }));
    await flushPromises();
    expect(view.find('[role="status"]').exists()).toBe(false);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'n' }));
    await flushPromises();
    expect(view.get('[role="status"]').text()).toContain('Every class’s sample is judged (2 verdicts)');
    expect(view.get('tr.total').text()).toMatch(/all \(weighted\)\s*40.*62\.5%\s*30\.0% – 85\.0%/);
    expect(view.get('[aria-label="Agreement"]').text()).toMatch(
      /8 scored, of which 4 incorrect.*0\.800 \(95% bootstrap interval 0\.500 – 1\.000/,
    );
    await view.get('select[aria-label="Relabel 8"]').setValue(String(SHIRT));
    await flushPromises();
    expect(calls).toContainEqual(['curate', { ids: [8], action: 'relabel', labelId: SHIRT }]);
    expect(view.text()).toContain('Undo relabel');
    view.unmount();
  });
});
