import { InvalidArgumentError } from 'commander';

/**
 * A commander option parser for a number (`float`) or a whole number (`int`), at least `min` when
 * one is given: anything else is a usage error (exit 2), never NaN passed on as a value.
 */
export function number(kind: 'int' | 'float', min?: number) {
  return (value: string): number => {
    const n = value.trim() === '' ? NaN : Number(value);
    if (!Number.isFinite(n) || (kind === 'int' && !Number.isInteger(n)) || (min !== undefined && n < min)) {
      const what = kind === 'int' ? 'a whole number' : 'a number';
      throw new InvalidArgumentError(`expected ${what}${min === undefined ? '' : ` ≥ ${min}`}.`);
    }
    return n;
  };
}
