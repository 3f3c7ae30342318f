// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import type { InstanceDetail } from '../../src/shared/api.ts';
import ScoreHistory from '../../src/renderer/src/views/review/ScoreHistory.vue';

// The detail's score history chart: the kind the review is ordered by, over the instance's
// scorings named by round from 1, with the other kinds of its family hidden until picked.
type Scores = InstanceDetail['scores'];
const at = (n: number) => `2026-01-01T00:00:0${n}.000Z`;
const score = (kind: string, value: number, roundIndex: number | null, when: number) => ({
  kind,
  value,
  roundIndex,
  at: at(when),
});
const scores: Scores = [
  score('contribution', 0.1, 0, 1),
  score('contribution_inner', 0.001, 0, 1),
  score('self_confidence', 0.8, 0, 1),
  score('quality', -2, 0, 1),
  score('contribution', 0.3, 1, 2),
  score('contribution_inner', 0.003, 1, 2),
  score('quality', -1, 1, 2),
  // Scored again outside a run (`winnow score`), by quality only.
  score('quality', -0.5, null, 3),
];

type Option = {
  legend: { selected: Record<string, boolean> };
  xAxis: { data: string[] };
  yAxis: { axisLabel: { formatter: (v: number) => string } };
  series: { name: string; data: (number | null)[]; tooltip: { valueFormatter: (v: number) => string } }[];
};
const chart = (props: { scores: Scores; kind: string }) =>
  mount(ScoreHistory, { props, global: { stubs: { Echarts: true } } }).findComponent({ name: 'Echarts' });
const optionOf = (props: { scores: Scores; kind: string }) => chart(props).props('option') as Option;

describe('the score history chart', () => {
  it('shows the kind the review is ordered by, whenever the instance has a score of it', () => {
    expect(chart({ scores, kind: 'quality' }).exists()).toBe(true);
    expect(chart({ scores, kind: 'realism' }).exists()).toBe(false);
    expect(chart({ scores: scores.filter((s) => s.kind === 'quality'), kind: 'quality' }).exists()).toBe(true);
    const option = optionOf({ scores, kind: 'quality' });
    expect(option.series.map((s) => s.name)).toEqual(['Quality (default ranking)']);
    expect(option.xAxis.data).toEqual(['round 1', 'round 2', 'scored']);
    expect(option.series[0]?.data).toEqual([-2, -1, -0.5]);
    expect(option.yAxis.axisLabel.formatter(-0.25)).toBe('-0.250');
  });

  it('offers the other kinds of its family, hidden, each in its own format', () => {
    const option = optionOf({ scores, kind: 'contribution' });
    expect(option.series.map((s) => s.name)).toEqual(['Contribution (cosine, BSGAL)', 'Contribution (inner product)']);
    expect(option.legend.selected).toEqual({
      'Contribution (cosine, BSGAL)': true,
      'Contribution (inner product)': false,
    });
    expect(option.xAxis.data).toEqual(['round 1', 'round 2']);
    expect(option.series.map((s) => s.data)).toEqual([
      [0.1, 0.3],
      [0.001, 0.003],
    ]);
    expect(option.series[1]?.tooltip.valueFormatter(0.00123)).toBe('0.0012');
  });

  it('tells apart scorings of the same round in different runs, and leaves gaps where a kind was not scored', () => {
    const again = [...scores, score('contribution', 0.2, 0, 4)];
    const option = optionOf({ scores: again, kind: 'contribution' });
    expect(option.xAxis.data).toEqual(['round 1', 'round 2', 'round 1 (2)']);
    expect(option.series.map((s) => s.data)).toEqual([
      [0.1, 0.3, 0.2],
      [0.001, 0.003, null],
    ]);
  });
});
