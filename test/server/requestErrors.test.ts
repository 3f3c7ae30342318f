import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { requestSchemas, type WinnowApi } from '../../src/shared/api.ts';
import type { Method } from '../../src/shared/methods.ts';
import { WinnowError } from '../../src/main/errors.ts';
import { describeRequestIssues } from '../../src/main/service/requestErrors.ts';
import { dispatch } from '../../src/main/service/winnowService.ts';

// What people read when the API refuses a request: sentences that name the field in words, what it
// must be, what it was, and what to give instead; never zod's "Invalid input" or "rule.keep Too big".
const called: string[] = [];
const service = new Proxy({} as WinnowApi, {
  get: (_, method: string) => async () => called.push(method),
});

async function refusal(method: Method, request: unknown): Promise<string> {
  const error = await dispatch(service, method, request).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(WinnowError);
  return (error as WinnowError).message;
}

const start = {
  rounds: 2,
  perRound: 30,
  seed: 0,
  filter: 'contribution',
  acquisition: 'random',
  scoring: 'online',
  epsilon: 0.25,
};

describe('API validation errors as sentences', () => {
  it("runStart's rule: a share to keep given as a percentage", async () => {
    for (const rule of [
      { kind: 'class-percentile', keep: 70 },
      { kind: 'percentile', keep: 70, window: 500 },
    ])
      expect(await refusal('runStart', { ...start, rule })).toBe(
        "The acceptance rule's share to keep must be at most 1 (got 70): give a share such as 0.7.",
      );
    expect(await refusal('runStart', { ...start, rule: { kind: 'class-percentile', keep: 0 } })).toBe(
      "The acceptance rule's share to keep must be more than 0 (got 0): give a share such as 0.7.",
    );
    expect(await refusal('runStart', { ...start, rule: { kind: 'top', keep: 0.7 } })).toBe(
      'The acceptance rule\'s kind must be one of "threshold", "percentile", "class-percentile", "confident", "validated" (got "top").',
    );
  });

  it('wrong types name the type wanted and the value sent', async () => {
    expect(await refusal('runStart', { ...start, rounds: '3', epsilon: 'big' })).toBe(
      'The number of rounds must be a number (got "3"). ' +
        'The perturbation size (epsilon) must be a number (got "big"): give a size such as 0.25.',
    );
    expect(await refusal('classExtremes', { classId: 1.5, n: 10 })).toBe(
      'The class id must be a whole number (got 1.5).',
    );
    expect(await refusal('curate', [1, 2])).toBe('The curate request must be an object ({…}) (got a list of 2).');
    expect(await refusal('updateClass', { id: 1, negativePrompt: { $gt: '' } })).toBe(
      'The negative prompt must be text (got an object).',
    );
  });

  it('missing fields, bounds on lengths and lists, and list items by their place', async () => {
    expect(await refusal('curate', {})).toBe(
      'The instance ids must be given, as a list. ' +
        'The action must be given, as one of "accept", "reject", "relabel", "clear".',
    );
    expect(await refusal('classExtremes', { classId: 1, n: 0 })).toBe(
      'The number of instances to show must be at least 1 (got 0).',
    );
    expect(await refusal('curate', { ids: [], action: 'reject' })).toBe(
      'The instance ids must have at least 1 item (got 0 items).',
    );
    expect(
      await refusal('updateClass', {
        id: 1,
        promptTemplates: ['a {label}', 'a photo'],
        negativePrompt: 'x'.repeat(501),
      }),
    ).toBe(
      'The prompt templates (item 2) must contain {label} (got "a photo"). ' +
        'The negative prompt must be at most 500 characters long (got 501 characters).',
    );
    expect(await refusal('runStart', { resume: false })).toBe(
      'The resume flag must be true (got false): send {"resume": true} to resume the latest unfinished run, or the settings of a new run.',
    );
    // Many problems: the first three, and how many more.
    expect(await refusal('classPage', { labelId: 0, order: 'up', offset: -1, limit: 0 })).toMatch(
      /^The label id must be more than 0 \(got 0\)\. .*\. .*\. \(And 1 more problem\.\)$/,
    );
  });

  it('unknown keys, and formats and refinements with their own words', async () => {
    expect(await refusal('projectStatus', { sql: 'DROP TABLE instances' })).toBe(
      'The projectStatus request does not take "sql": remove it.',
    );
    expect(await refusal('runStart', { ...start, turbo: true, fast: 1 })).toBe(
      'The runStart request does not take "turbo", "fast": remove them.',
    );
    expect(
      await refusal('promptSuggestions', {
        classId: 1,
        endpoint: { url: 'http://localhost:8000/v1', model: 'm', key: 'k' },
      }),
    ).toBe('The prompt endpoint does not take "key": remove it.');
    expect(await refusal('modelAdd', { folder: 'models/clip' })).toBe(
      'The model folder must be an absolute path (got "models/clip").',
    );
    expect(await refusal('exportDataset', { name: '../x', status: 'all', formats: ['csv'] })).toBe(
      'The export folder name must be a plain folder name (letters, digits, . _ -) (got "../x").',
    );
    // A huge value is quoted short.
    expect(await refusal('modelAdd', { folder: 'x'.repeat(5000) })).toMatch(/\(got "x{40}"…\)\.$/);
    expect(called).toEqual([]);
  });

  it('has a human name for every field of every request', () => {
    const fields = (schema: z.ZodType, prefix: string[]): string[][] => {
      if (schema instanceof z.ZodOptional) return fields(schema.unwrap() as z.ZodType, prefix);
      if (schema instanceof z.ZodUnion) return schema.options.flatMap((o) => fields(o as z.ZodType, prefix));
      if (schema instanceof z.ZodObject)
        return Object.entries(schema.shape).flatMap(([key, inner]) => [
          [...prefix, key],
          ...fields(inner as z.ZodType, [...prefix, key]),
        ]);
      return [];
    };
    const unnamed = Object.entries(requestSchemas).flatMap(([method, schema]) =>
      fields(schema, [])
        .map((path) =>
          describeRequestIssues(method as Method, [{ code: 'custom', path, message: 'must be x', input: 1 }], {}),
        )
        .filter((sentence) => sentence.includes('the field')),
    );
    expect(unnamed).toEqual([]);
  });
});
