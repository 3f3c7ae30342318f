import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { SCORE_KIND } from '../store/scores.ts';
import type { Skipped } from './report.ts';

/** The name of the optional provenance file at an ImageFolder's root (Hugging Face imagefolder convention). */
export const METADATA_FILE = 'metadata.jsonl';

/**
 * One line of metadata.jsonl. `file_name` is relative to the folder; the rest is provenance and
 * scores. Columns Winnow does not know are ignored, so files from other tools import as they are.
 */
export const syntheticMetadataSchema = z.object({
  file_name: z.string().min(1),
  prompt: z.string().optional(),
  negative_prompt: z.string().optional(),
  seed: z.number().int().nullable().optional(),
  generator: z.string().optional(),
  gen_params: z.record(z.string(), z.unknown()).optional(),
  epsilon: z.number().nonnegative().optional(),
  class: z.string().optional(),
  status: z.enum(['pending', 'accepted', 'rejected']).optional(),
  override: z.enum(['accepted', 'rejected']).nullable().optional(),
  scores: z.record(z.string().regex(SCORE_KIND, 'score kinds are lowercase words'), z.number()).optional(),
});
export type SyntheticMetadata = z.infer<typeof syntheticMetadataSchema>;

/** Reads metadata.jsonl into file name → entry; malformed lines are reported with their number. */
export async function readSyntheticMetadata(
  path: string,
): Promise<{ entries: Map<string, SyntheticMetadata>; skipped: Skipped[] }> {
  const entries = new Map<string, SyntheticMetadata>();
  const skipped: Skipped[] = [];
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries, skipped };
    throw error;
  }
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${path}:${index + 1}`;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      skipped.push({ path: where, reason: `is not valid JSON (${(error as Error).message})` });
      return;
    }
    const parsed = syntheticMetadataSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      skipped.push({
        path: where,
        reason: `has a bad field ${issue?.path.join('.') || '(line)'}: ${issue?.message ?? 'invalid'}`,
      });
      return;
    }
    const name = parsed.data.file_name.replaceAll('\\', '/').replace(/^\.\//, '');
    if (entries.has(name))
      skipped.push({ path: where, reason: `repeats the entry for ${name}; the first one is used` });
    else entries.set(name, parsed.data);
  });
  return { entries, skipped };
}
