import { describe, expect, it } from 'vitest';
import {
  aboveAtEveryRound,
  bestOnValidation,
  meanOverRounds,
  roundsBelowPrevious,
} from '../../bench/loop-filters-lib.ts';

describe("loop-filters' summary arithmetic", () => {
  it('chooses the best mean validation over seeds and rounds, a tie to the earlier candidate', () => {
    const validation: Record<string, number[][]> = {
      confident: [
        [0.8, 0.8],
        [0.8, 0.8],
      ],
      'share 0.9': [
        [0.7, 0.9],
        [0.9, 0.84],
      ],
      'share 0.6': [
        [0.8, 0.8],
        [0.8, 0.8],
      ],
    };
    expect(meanOverRounds(validation['share 0.9']!)).toBeCloseTo(0.835, 12);
    expect(bestOnValidation(Object.keys(validation), (name) => validation[name]!)).toBe('share 0.9');
    expect(bestOnValidation(['confident', 'share 0.6'], (name) => validation[name]!)).toBe('confident');
  });

  it('is above another only if its mean is above at every round', () => {
    const a = [
      [0.8, 0.81],
      [0.8, 0.79],
    ];
    expect(aboveAtEveryRound(a, [[0.79, 0.79]], 2)).toBe(true);
    expect(aboveAtEveryRound(a, [[0.79, 0.8]], 2)).toBe(false); // level at round 2
  });

  it('counts a round as a drop only past one SE of the round before (any drop with one seed)', () => {
    // Round 1: 0.80 and 0.82, mean 0.81, SE 0.01. Round 2 at 0.805 is within it; round 3 at 0.79 is not.
    const runs = [
      [0.8, 0.805, 0.79],
      [0.82, 0.805, 0.79],
    ];
    expect(roundsBelowPrevious(runs, 3)).toEqual([2]);
    expect(roundsBelowPrevious([[0.8, 0.799]], 2)).toEqual([1]);
  });
});
