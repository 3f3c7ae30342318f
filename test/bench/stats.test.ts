import { describe, expect, it } from 'vitest';
import {
  decisionShares,
  formatMeanSe,
  formatSignedMeanSe,
  frameStats,
  mean,
  meanSe,
  median,
  quantile,
} from '../../bench/stats.ts';

describe('bench statistics', () => {
  it('gives the mean and the standard error of the mean, and no SE for one value', () => {
    const m = meanSe([1, 2, 3]);
    expect(m.mean).toBe(2);
    expect(m.se).toBeCloseTo(1 / Math.sqrt(3), 12);
    expect(m.n).toBe(3);
    expect(meanSe([0.9]).se).toBeNaN();
    expect(mean([4, 8])).toBe(6);
  });

  it('prints mean ± SE with the digits and scale asked for, and a dash for one seed', () => {
    expect(formatMeanSe(meanSe([0.5, 0.7]), 1, 100)).toBe('60.0 ± 10.0');
    expect(formatMeanSe(meanSe([0.25]))).toBe('0.250 ± –');
    expect(formatSignedMeanSe(meanSe([0.1, 0.3]))).toBe('+0.200 ± 0.100');
    expect(formatSignedMeanSe(meanSe([0, 0]))).toBe('+0.000 ± 0.000');
    expect(formatSignedMeanSe(meanSe([-0.1, -0.3]))).toBe('-0.200 ± 0.100');
  });

  it('takes quantiles by the lower nearest rank of the sorted values, whatever their order', () => {
    const xs = [9, 1, 5, 3, 7];
    expect(median(xs)).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2);
    expect(quantile(xs, 0)).toBe(1);
    expect(quantile(xs, 1)).toBe(9);
    expect(quantile(xs, 0.95)).toBe(7);
    expect(xs).toEqual([9, 1, 5, 3, 7]); // not sorted in place: callers keep their order
    expect(median([])).toBeNaN();
  });

  it('summarises frame times: count, mean, p95 and frames over 50 ms', () => {
    const deltas = [16, 17, 60, 16, 51, 16, 16, 17, 16, 50];
    expect(frameStats(deltas, 2.5)).toEqual({ frames: 10, meanMs: 27.5, p95Ms: 51, over50: 2, seconds: 2.5 });
  });

  it('says what share was accepted, how many of those were wrong, and how many wrong and right were rejected', () => {
    const items = [
      { accepted: true, wrong: false },
      { accepted: true, wrong: false },
      { accepted: true, wrong: true },
      { accepted: false, wrong: true },
      { accepted: false, wrong: true },
      { accepted: false, wrong: false },
    ];
    expect(decisionShares(items)).toEqual({
      accepted: 3 / 6,
      wrongAmongAccepted: 1 / 3,
      wrongRejected: 2 / 3,
      rightRejected: 1 / 3,
    });
  });
});
