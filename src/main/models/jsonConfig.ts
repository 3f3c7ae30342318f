import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { WinnowError } from '../errors.ts';

/** Reads and validates a model's JSON file; errors name the file, the field and the fix. */
export function readJsonConfig<T>(path: string, schema: z.ZodType<T>, what: string, fix: string): T {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new WinnowError(`The ${what} ${path} cannot be read: ${(error as Error).message}`, fix);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WinnowError(
      `The ${what} ${path} is malformed at ${issue?.path.join('.') || 'the top'}: ${issue?.message}`,
      fix,
    );
  }
  return parsed.data;
}
