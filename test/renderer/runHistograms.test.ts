// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import type { RunMetrics } from '../../src/shared/api.ts';
import { binEdges, countInBins } from '../../src/shared/histogram.ts';
import { SCORE_KIND_TABLE, type ScoreKindName } from '../../src/shared/scoreKinds.ts';

// The Run screen against a fake transport answering as the engine does (test/pipeline/runReport.test.ts
// checks the engine's side): the histograms are of the score kind picked (the registry's labels;
// quality first), asked of the engine by name, their bins labelled in the kind's number format.
const values: Partial<Record<ScoreKindName, number[]>> = { quality: [-4, -3, -2], contribution: [0.2, 0.3, 0.4] };
const asked: unknown[] = [];
function metrics({ kind = 'quality' }: { kind?: ScoreKindName }): RunMetrics {
  const bins = binEdges(kind, values[kind] ?? []);
  return {
    runId: 1,
    kind,
    rounds: [
      {
        round: 0,
        valAccuracy: 0.5,
        testAccuracy: null,
        generated: 3,
        acceptedNew: 2,
        histogram: countInBins(bins, values[kind] ?? []),
      },
    ],
    bins,
    perClass: [],
  };
}
const ok = (value: unknown) => ({ ok: true, value });
Object.defineProperty(window, 'winnow', {
  value: {
    runState: async () =>
      ok({
        job: { state: 'idle' },
        runs: [{ id: 1, status: 'done', startedAt: '2026-01-01T00:00', finishedAt: null }],
      }),
    runMetrics: async (request: { kind?: ScoreKindName }) => (asked.push(request), ok(metrics(request))),
    modelList: async () => ok({ models: [], provider: 'cpu' }),
    onEvent: () => () => {},
  },
});

const { default: RunView } = await import('../../src/renderer/src/views/run/RunView.vue');

type Option = { title: { text: string }; xAxis: { name: string; data: string[] }; series: { data: number[] }[] };

describe('the Run screen', () => {
  it('draws the histograms of the picked score kind, labelled in its format', async () => {
    setActivePinia(createPinia());
    const view = mount(RunView, { global: { stubs: { Echarts: true, RouterLink: true, ProblemReport: true } } });
    await flushPromises();
    const histogram = () =>
      view
        .findAllComponents({ name: 'Echarts' })
        .find((c) => c.attributes('aria-label') === 'Score histogram')!
        .props('option') as Option;
    const picker = view.get('select[aria-label="Histogram score"]');
    expect(picker.findAll('option').map((o) => o.text())).toEqual(SCORE_KIND_TABLE.map((k) => k.label));
    expect((picker.element as HTMLSelectElement).value).toBe('quality');
    expect(asked).toEqual([{ runId: 1, kind: 'quality' }]);
    expect(histogram().title).toMatchObject({ text: 'Quality (default ranking) per round', subtext: '' });
    expect(histogram().xAxis.data[0]).toBe('-4.000…-3.900');
    expect(histogram().xAxis.data.at(-1)).toBe('-2.100…-2.000');
    expect(histogram().series[0]?.data).toEqual([1, ...Array(9).fill(0), 1, ...Array(8).fill(0), 1]);

    await picker.setValue('contribution');
    await flushPromises();
    expect(asked.at(-1)).toEqual({ runId: 1, kind: 'contribution' });
    expect(histogram().title.text).toBe('Contribution (cosine, BSGAL) per round');
    expect(histogram().xAxis).toMatchObject({ name: 'contribution' });
    expect(histogram().xAxis.data[0]).toBe('0.200…0.210');
    expect(histogram().xAxis.data.at(-1)).toBe('0.390…0.400');

    // A kind the run has no scores of says so.
    await picker.setValue('clip');
    await flushPromises();
    expect(histogram().series).toEqual([]);
    expect(histogram()).toMatchObject({ title: { subtext: 'No scores of this kind in this run.' } });
    view.unmount();
  });
});
