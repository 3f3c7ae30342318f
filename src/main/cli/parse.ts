import { InvalidArgumentError } from 'commander';

/** A commander option parser for a whole number or a number, at least `min`. */
export function number(kind: 'int' | 'float', min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || (kind === 'int' && !Number.isInteger(n)) || n < min) {
      throw new InvalidArgumentError(`expected ${kind === 'int' ? 'a whole number' : 'a number'} ≥ ${min}.`);
    }
    return n;
  };
}
