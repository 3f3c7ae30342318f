import { InvalidArgumentError } from 'commander';

/**
 * A commander option parser for a number (`float`) or a whole number (`int`), at least `min` when
 * one is given (more than `min` when `exclusive`: a damping or a step size of 0 is no setting):
 * anything else is a usage error (exit 2), never NaN passed on as a value.
 */
export function number(kind: 'int' | 'float', min?: number, bound: 'inclusive' | 'exclusive' = 'inclusive') {
  return (value: string): number => {
    const n = value.trim() === '' ? NaN : Number(value);
    const below = min !== undefined && (bound === 'exclusive' ? n <= min : n < min);
    if (!Number.isFinite(n) || (kind === 'int' && !Number.isInteger(n)) || below) {
      const what = kind === 'int' ? 'a whole number' : 'a number';
      const limit = min === undefined ? '' : ` ${bound === 'exclusive' ? '>' : '≥'} ${min}`;
      throw new InvalidArgumentError(`expected ${what}${limit}.`);
    }
    return n;
  };
}

/** The help of every command's --queue (run, generate, serve). */
export const QUEUE_OPTION =
  'generate through the workers (`winnow worker`) of a queue on Redis: redis://[user:password@]host:port, or rediss:// for TLS';
