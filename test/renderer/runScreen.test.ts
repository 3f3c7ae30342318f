// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import RoundTable from '../../src/renderer/src/views/run/RoundTable.vue';
import RunCompare from '../../src/renderer/src/views/run/RunCompare.vue';
import type { RunDetail } from '../../src/shared/api.ts';
import { accuracyAxisMax, accuracyAxisMin } from '../../src/renderer/src/views/run/chartAxis.ts';
import { roundSeconds, wholeRunEta } from '../../src/renderer/src/views/run/runEta.ts';

const round = (index: number, startedAt: string | null, finishedAt: string | null) => ({
  round: index,
  generated: null,
  acceptedNew: null,
  valAccuracy: null,
  testAccuracy: null,
  rule: null,
  seconds: {},
  startedAt,
  finishedAt,
});
const detail = (rounds: RunDetail['rounds']): RunDetail => ({
  runId: 1,
  status: 'running',
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: null,
  settings: {},
  models: {},
  rounds,
});

describe('the whole run’s ETA', () => {
  it('is the mean finished round’s time for each round left, less what the current round has taken', () => {
    const run = detail([
      round(-1, null, null),
      round(0, '2026-01-01T00:00:00.000Z', '2026-01-01T00:01:00.000Z'), // 60 s
      round(1, '2026-01-01T00:01:00.000Z', '2026-01-01T00:03:00.000Z'), // 120 s
      round(2, '2026-01-01T00:03:00.000Z', null), // under way for 30 s at `now`
    ]);
    expect(roundSeconds(run)).toEqual([60, 120]);
    // 5 rounds: 3 not finished at a mean of 90 s, less 30 s of the third: 240 s.
    expect(wholeRunEta(run, 5, Date.parse('2026-01-01T00:03:30.000Z'))).toBe(240);
    // A round running longer than the mean leaves the rest at no less than zero.
    expect(wholeRunEta(run, 3, Date.parse('2026-01-01T00:10:00.000Z'))).toBe(0);
  });

  it('is unknown until a round has finished', () => {
    expect(wholeRunEta(detail([round(0, '2026-01-01T00:00:00.000Z', null)]), 5, Date.now())).toBeUndefined();
  });
});

describe('the validation accuracy axis', () => {
  it('spans the values with a point either side, within 0–100%', () => {
    expect(accuracyAxisMin({ min: 0.853 })).toBeCloseTo(0.84, 12);
    expect(accuracyAxisMax({ max: 0.861 })).toBeCloseTo(0.88, 12);
    expect(accuracyAxisMin({ min: 0.004 })).toBe(0);
    expect(accuracyAxisMax({ max: 0.995 })).toBe(1);
  });
});

describe('the round table', () => {
  const finished = (index: number, rule: string | null) => ({
    ...round(index, '2026-01-01T00:00:00.000Z', '2026-01-01T00:01:00.000Z'),
    valAccuracy: 0.8,
    rule,
  });
  const columns = (run: RunDetail) =>
    mount(RoundTable, { props: { detail: run } })
      .findAll('th')
      .map((th) => th.text());

  it('says the rule each round chose under the validated rule', () => {
    const table = mount(RoundTable, {
      props: { detail: detail([finished(-1, null), finished(0, 'class-percentile 0.8')]) },
    });
    expect(table.findAll('th').at(-1)?.text()).toBe('rule chosen');
    expect(table.findAll('tbody tr').map((tr) => tr.findAll('td').at(-1)?.text())).toEqual([
      '-',
      'class-percentile 0.8',
    ]);
  });

  it('has no rule column under a fixed rule', () => {
    expect(columns(detail([finished(-1, null), finished(0, null)]))).not.toContain('rule chosen');
  });

  it('shows the test split’s accuracy beside validation’s where the run measured one, and no column where it did not', () => {
    expect(columns(detail([finished(-1, null), finished(0, null)]))).not.toContain('test acc');
    const table = mount(RoundTable, {
      props: {
        detail: detail([
          { ...finished(-1, null), testAccuracy: 0.7125 },
          { ...finished(0, null), testAccuracy: 0.75 },
        ]),
      },
    });
    const heads = table.findAll('th').map((th) => th.text());
    expect(heads.slice(3, 5)).toEqual(['val acc', 'test acc']);
    expect(
      table.findAll('tbody tr').map((tr) =>
        tr
          .findAll('td')
          .map((td) => td.text())
          .slice(3, 5),
      ),
    ).toEqual([
      ['80.0%', '71.3%'],
      ['80.0%', '75.0%'],
    ]);
  });
});

describe('the run comparison', () => {
  const measured = (runId: number, val: number, test: number | null): RunDetail => ({
    ...detail([{ ...round(0, null, null), valAccuracy: val, testAccuracy: test }]),
    runId,
  });
  const table = (a: RunDetail, b: RunDetail) =>
    mount(RunCompare, { props: { a, b } }).find('table[aria-label="Metrics side by side"]');

  it('sets the test accuracies and their difference beside validation’s where either run has them', () => {
    const metrics = table(measured(1, 0.8, 0.7), measured(2, 0.81, 0.725));
    expect(
      metrics
        .findAll('th')
        .map((th) => th.text())
        .slice(1, 7),
    ).toEqual(['val acc #1', 'val acc #2', 'Δ points', 'test acc #1', 'test acc #2', 'Δ test']);
    expect(
      metrics
        .findAll('tbody td')
        .map((td) => td.text())
        .slice(1, 7),
    ).toEqual(['80.0%', '81.0%', '+1.0', '70.0%', '72.5%', '+2.5']);
    expect(table(measured(1, 0.8, null), measured(2, 0.81, null)).text()).not.toContain('test acc');
  });
});
