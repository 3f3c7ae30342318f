// The arithmetic of bench/loop-filters.ts's summary, apart from the script (which runs the loop when
// imported) so that a test pins it: test/bench/loopFiltersLib.test.ts.
import { mean, meanSe } from './stats.ts';

/** Per seed, a value per round (test or validation accuracy, as a share). */
export type SeedRounds = readonly (readonly number[])[];

/** The mean over seeds and rounds. */
export const meanOverRounds = (runs: SeedRounds): number => mean(runs.flat());

/** The mean over seeds at round `r`. */
const meanAt = (runs: SeedRounds, r: number): number => mean(runs.map((run) => run[r]!));

/** The candidate with the best mean validation (over seeds and rounds); a tie goes to the earlier one. */
export function bestOnValidation(candidates: readonly string[], validation: (name: string) => SeedRounds): string {
  if (candidates.length === 0) throw new Error('bestOnValidation needs at least one candidate.');
  return candidates.reduce((best, name) =>
    meanOverRounds(validation(name)) > meanOverRounds(validation(best)) ? name : best,
  );
}

/** Whether `a`'s mean is above `b`'s at every round. */
export function aboveAtEveryRound(a: SeedRounds, b: SeedRounds, rounds: number): boolean {
  return Array.from({ length: rounds }, (_, r) => r).every((r) => meanAt(a, r) > meanAt(b, r));
}

/**
 * The rounds (0-based) whose mean is more than one SE (the round before's) below the round before's:
 * where the loop went back. With one seed there is no SE, and any drop counts.
 */
export function roundsBelowPrevious(runs: SeedRounds, rounds: number): number[] {
  return Array.from({ length: rounds }, (_, r) => r)
    .slice(1)
    .filter((r) => {
      const before = meanSe(runs.map((run) => run[r - 1]!));
      return meanAt(runs, r) < before.mean - (before.se || 0);
    });
}
