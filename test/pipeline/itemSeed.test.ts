import { describe, expect, it } from 'vitest';
import { itemSeed } from '../../src/main/pipeline/loop.ts';

describe("a run's per-image noise seeds", () => {
  it('are distinct within a round for any run seed, 2^31 − 1 included', () => {
    for (const runSeed of [0, 7, 680_000, 1_000_000, 2_147_483_647])
      for (const c of [0, 9]) {
        const seeds = Array.from({ length: 500 }, (_, k) => itemSeed(runSeed, 3, c, k));
        expect(new Set(seeds).size, `run seed ${runSeed}`).toBe(500);
        expect(seeds.every((s) => Number.isSafeInteger(s) && s >= 0 && s < 2_147_483_647)).toBe(true);
      }
  });

  it('are what they were for the run seeds whose arithmetic was exact (a run resumed by a newer Winnow makes the same images)', () => {
    const before = (s: number, r: number, c: number, k: number) =>
      (((s * 131 + r) * 1009 + c) * 100_003 + k) % 2_147_483_647;
    for (const [s, r, c, k] of [
      [0, 0, 0, 0],
      [4, 2, 9, 63],
      [123, 7, 3, 99_999],
      [600_000, 999, 1000, 100_002],
    ] as const)
      expect(itemSeed(s, r, c, k)).toBe(before(s, r, c, k));
  });
});
