import { InvalidArgumentError } from 'commander';
import type { WinnowError } from '../errors.ts';
import { checkQueueUrl } from '../queue/redisConnection.ts';

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

/** A TCP port: 0 (any free port) to 65535. */
export function port(value: string): number {
  const n = number('int', 0)(value);
  if (n > 65_535) throw new InvalidArgumentError('expected a port, 0 to 65535.');
  return n;
}

/** A --queue value, checked as a Redis URL when parsed: a wrong one is bad usage (exit 2). */
export function queueUrl(value: string): string {
  try {
    return checkQueueUrl(value);
  } catch (error) {
    const e = error as WinnowError;
    throw new InvalidArgumentError(`${e.message} ${e.fix ?? ''}`.trim());
  }
}

/** The help of every command's --queue (run, generate, serve). */
export const QUEUE_OPTION =
  'generate through the workers (`winnow worker`) of a queue on Redis: redis://[user:password@]host:port, or rediss:// for TLS';
