// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import RoundTable from '../../src/renderer/src/views/run/RoundTable.vue';
import type { RunDetail } from '../../src/shared/api.ts';
import { accuracyAxisMax, accuracyAxisMin } from '../../src/renderer/src/views/run/chartAxis.ts';
import { roundSeconds, wholeRunEta } from '../../src/renderer/src/views/run/runEta.ts';

const round = (index: number, startedAt: string | null, finishedAt: string | null) => ({
  round: index,
  generated: null,
  acceptedNew: null,
  valAccuracy: null,
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
});
