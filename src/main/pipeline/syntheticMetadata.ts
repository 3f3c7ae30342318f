import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { z } from 'zod';
import { WinnowError } from '../errors.ts';
import { SCORE_KIND } from '../store/scores.ts';
import type { Skipped } from './report.ts';

/** The name of the optional provenance file at an ImageFolder's root (Hugging Face imagefolder convention). */
export const METADATA_FILE = 'metadata.jsonl';

const className = z.string().min(1, 'must name a class');

/**
 * One line of metadata.jsonl. `file_name` is relative to the folder; `label` is the instance's
 * label (it must be its folder's name: Hugging Face's loader trusts this column over folders),
 * `pseudo_label` the class it was made for (`class`, the older name, is read too); the rest is
 * provenance and scores. Columns Winnow does not know are ignored, so files from other tools import
 * as they are.
 */
export const syntheticMetadataSchema = z.object({
  file_name: z.string().min(1),
  label: className.optional(),
  pseudo_label: className.optional(),
  class: className.optional(),
  prompt: z.string().optional(),
  negative_prompt: z.string().optional(),
  seed: z.number().int().nullable().optional(),
  generator: z.string().optional(),
  gen_params: z.record(z.string(), z.unknown()).optional(),
  epsilon: z.number().nonnegative().optional(),
  status: z.enum(['pending', 'accepted', 'rejected']).optional(),
  override: z.enum(['accepted', 'rejected']).nullable().optional(),
  /** The default ranking's value (`quality`) when exported; the same value is in `scores`. */
  score: z.number().nullable().optional(),
  scores: z.record(z.string().regex(SCORE_KIND, 'score kinds are lowercase words'), z.number()).optional(),
});
export type SyntheticMetadata = z.infer<typeof syntheticMetadataSchema>;

/** A good line of metadata.jsonl, with where it is (`path:line`) for reports. */
export interface MetadataEntry {
  readonly where: string;
  readonly data: SyntheticMetadata;
}

export interface SyntheticMetadataFile {
  /** Good lines by normalised file name. */
  readonly entries: ReadonlyMap<string, MetadataEntry>;
  /**
   * Files named by a bad line. They are not imported: imported without the line's label and
   * provenance, they could not be completed later (importing them again would be a duplicate).
   */
  readonly refused: ReadonlySet<string>;
  readonly skipped: readonly Skipped[];
}

const FIX_LINE = 'fix the line and import again';

/**
 * `file_name` as the folder scan names files (forward slashes, no `./`), or why it cannot name a
 * file inside the folder: metadata never points outside it.
 */
export function metadataFileName(raw: string): { name: string } | { problem: string } {
  if (raw.includes('\0')) return { problem: 'contains a NUL character' };
  const slashed = raw.replaceAll('\\', '/');
  if (slashed.startsWith('/') || /^[A-Za-z]:/.test(slashed))
    return { problem: 'is an absolute path; it must be relative to the folder holding metadata.jsonl' };
  if (slashed.split('/').includes('..'))
    return { problem: 'contains a ".." segment; it must name a file inside the folder holding metadata.jsonl' };
  const name = posix.normalize(slashed);
  if (name === '.' || name.endsWith('/')) return { problem: 'names a folder, not a file' };
  return { name };
}

/** Strict UTF-8; it drops a leading byte-order mark (which Windows editors write), which is not part of line 1. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Reads metadata.jsonl into file name → entry. Bad lines (not UTF-8, not JSON, a field of the wrong
 * type, a file name outside the folder, a repeated file) are reported with their line number and
 * the fix, never thrown; a file that cannot be read at all is an error.
 */
export async function readSyntheticMetadata(path: string): Promise<SyntheticMetadataFile> {
  const entries = new Map<string, MetadataEntry>();
  const refused = new Set<string>();
  const skipped: Skipped[] = [];
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { entries, refused, skipped };
    throw new WinnowError(
      `Cannot read ${path} (${code ?? String(error)}).`,
      'Make it a readable JSON Lines file (one JSON object per line), or move it away to import the images without it.',
    );
  }
  // Split as bytes (0x0a never occurs inside a UTF-8 sequence), so one badly encoded line costs only itself.
  let start = 0;
  for (let index = 0; start <= bytes.length; index++) {
    const newline = bytes.indexOf(0x0a, start);
    const end = newline === -1 ? bytes.length : newline;
    const raw = bytes.subarray(start, end);
    start = end + 1;
    const where = `${path}:${index + 1}`;
    const problem = (reason: string) => skipped.push({ path: where, reason });
    let line: string;
    try {
      line = utf8.decode(raw);
    } catch {
      problem(`is not UTF-8 text; save metadata.jsonl as UTF-8 and import again`);
      continue;
    }
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      problem(`is not valid JSON (${(error as Error).message}); ${FIX_LINE}`);
      continue;
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      problem(`is not a JSON object (each line must be one object with a file_name); ${FIX_LINE}`);
      continue;
    }
    const rawName = (json as { file_name?: unknown }).file_name;
    const fileName = typeof rawName === 'string' && rawName !== '' ? metadataFileName(rawName) : undefined;
    if (fileName !== undefined && 'problem' in fileName) {
      problem(`has a file_name ${JSON.stringify(rawName)} that ${fileName.problem}`);
      continue;
    }
    const name = fileName?.name;
    if (name !== undefined && (entries.has(name) || refused.has(name))) {
      problem(`repeats the entry for ${name}; the first one is used`);
      continue;
    }
    const parsed = syntheticMetadataSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') || '(line)';
      problem(
        `has a bad field ${field}: ${issue?.message ?? 'invalid'}` +
          (name === undefined ? `; ${FIX_LINE}` : `; ${name} is not imported: ${FIX_LINE}`),
      );
      if (name !== undefined) refused.add(name);
      continue;
    }
    if (name !== undefined) entries.set(name, { where, data: parsed.data });
  }
  return { entries, refused, skipped };
}
