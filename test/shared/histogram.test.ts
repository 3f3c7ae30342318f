import { describe, expect, it } from 'vitest';
import { binEdges, countInBins } from '../../src/shared/histogram.ts';

describe('histogram bins from the data', () => {
  it('are n equal bins over [min, max] of the values', () => {
    const edges = binEdges('quality', [-3, -1, 1], 4);
    expect(edges).toEqual([-3, -2, -1, 0, 1]);
    expect(binEdges('quality', [2, -4])).toHaveLength(21);
  });

  it("stay within the kind's range when it has one, and follow the data when it does not", () => {
    // self_confidence lies in [0, 1]: values beyond it (there should be none) do not widen the bins.
    expect(binEdges('self_confidence', [-0.5, 0.2, 1.5], 2)).toEqual([0, 0.5, 1]);
    expect(binEdges('self_confidence', [0.2, 0.6], 2)).toEqual([0.2, 0.4, 0.6]);
    expect(binEdges('realism', [-8, 2], 2)).toEqual([-8, -3, 2]);
  });

  it('give all-equal values a bin around them, inside the range', () => {
    expect(binEdges('quality', [-3, -3], 2)).toEqual([-3.15, -3, -2.85]);
    expect(binEdges('realism', [0], 2)).toEqual([-0.05, 0, 0.05]);
    // label_vote lies in [0, 1]: all 1 gives [0.9, 1], not bins above 1.
    const top = binEdges('label_vote', [1, 1], 2);
    expect(top[0]).toBeCloseTo(0.9, 12);
    expect(top[2]).toBe(1);
    const bottom = binEdges('label_vote', [0], 2);
    expect(bottom[0]).toBe(0);
    expect(bottom[2]).toBeCloseTo(0.1, 12);
  });

  it("without values span the kind's range, or [0, 1]", () => {
    expect(binEdges('contribution', [], 2)).toEqual([-1, 0, 1]);
    expect(binEdges('quality', [], 2)).toEqual([0, 0.5, 1]);
  });

  it('count values into [low, high) bins, the last one closed, strays in the end bins', () => {
    const edges = [-1, -0.5, 0, 0.5, 1];
    expect(countInBins(edges, [-1, -0.5, -0.2, 0, 0.49, 0.5, 1])).toEqual([1, 2, 2, 2]);
    expect(countInBins(edges, [-7, 9])).toEqual([1, 0, 0, 1]);
    // Every value of the data the bins were made from is counted once.
    const values = Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 3);
    const counts = countInBins(binEdges('quality', values), values);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts.at(-1)).toBeGreaterThan(0);
  });
});
