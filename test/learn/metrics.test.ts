import { describe, expect, it } from 'vitest';
import { auroc, precisionAtK, wilsonInterval } from '../../src/main/learn/metrics.ts';

describe('evaluation metrics', () => {
  it('AUROC is 1 when every bad item scores below every good one, 0.5 for ties, 0 when reversed', () => {
    expect(auroc([0.1, 0.2, 0.8, 0.9], [true, true, false, false])).toBe(1);
    expect(auroc([0.5, 0.5, 0.5, 0.5], [true, false, true, false])).toBe(0.5);
    expect(auroc([0.9, 0.1], [true, false])).toBe(0);
    expect(auroc([0.3, 0.1, 0.2], [false, true, false])).toBe(1);
    expect(auroc([1, 2], [false, false])).toBeNaN();
  });

  it('precision at k counts the bad among the k lowest', () => {
    expect(precisionAtK([0.1, 0.2, 0.3, 0.4], [true, false, true, false])).toBe(0.5);
  });

  it('the Wilson interval contains the estimate and narrows with n', () => {
    const small = wilsonInterval(8, 10);
    const large = wilsonInterval(800, 1000);
    expect(small.low).toBeLessThan(0.8);
    expect(small.high).toBeGreaterThan(0.8);
    expect(large.high - large.low).toBeLessThan(small.high - small.low);
    expect(wilsonInterval(10, 10).high).toBe(1);
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
    // A textbook value: 8 of 10 → [0.490, 0.943].
    expect(small.low).toBeCloseTo(0.49, 2);
    expect(small.high).toBeCloseTo(0.943, 2);
  });
});
