import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import { z } from 'zod';
import { WinnowError } from '../errors.ts';
import { SCORE_KIND } from '../store/scores.ts';
import { NOTE_MAX_LENGTH, tagSchema } from '../../shared/api.ts';

/** The name of the optional provenance file at an ImageFolder's root (Hugging Face imagefolder convention). */
export const METADATA_FILE = 'metadata.jsonl';

const className = z.string().min(1, 'must name a class');

/**
 * One line of metadata.jsonl. `file_name` is relative to the folder; `label` is the instance's
 * label (it must be its folder's name: Hugging Face's loader trusts this column over folders),
 * `pseudo_label` the class it was made for (`class`, the older name, is read too); the rest is
 * provenance, scores, and the curator's tags and note. Columns Winnow does not know are ignored, so files from other tools import
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
  /** A curator's tags and note, as Winnow exports them. */
  tags: z.array(tagSchema).max(1000).optional(),
  note: z.string().max(NOTE_MAX_LENGTH).nullable().optional(),
});
export type SyntheticMetadata = z.infer<typeof syntheticMetadataSchema>;

/**
 * What a line of metadata.jsonl says: a file's good entry, a bad line that names a file (which is then
 * refused: imported without the line's label and provenance, it could not be completed later, since
 * importing it again would be a duplicate), or a bad line naming none.
 */
export type MetadataLine =
  | { readonly kind: 'entry'; readonly where: string; readonly name: string; readonly data: SyntheticMetadata }
  | { readonly kind: 'refused'; readonly where: string; readonly name: string; readonly reason: string }
  | { readonly kind: 'problem'; readonly where: string; readonly reason: string };

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
 * Reads metadata.jsonl line by line, streaming (a million lines are never held), and says what each
 * line is. Bad lines (not UTF-8, not JSON, a field of the wrong type, a file name outside the folder,
 * a file `seen` already) are reported with their line number and the fix, never thrown; a file that
 * cannot be read at all is an error; a missing file has no lines.
 */
export async function* readSyntheticMetadata(
  path: string,
  seen: (name: string) => boolean,
): AsyncGenerator<MetadataLine> {
  const opened = await open(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw unreadable(path, error);
  });
  if (opened === undefined) return;
  let index = 0;
  try {
    let carry: Buffer = Buffer.alloc(0);
    for await (const piece of opened.createReadStream()) {
      const bytes = Buffer.concat([carry, piece as Buffer]);
      // Split as bytes (0x0a never occurs inside a UTF-8 sequence), so one badly encoded line costs only itself.
      let start = 0;
      for (let newline = bytes.indexOf(0x0a); newline !== -1; newline = bytes.indexOf(0x0a, start)) {
        const line = parseLine(bytes.subarray(start, newline), `${path}:${++index}`, seen);
        if (line !== undefined) yield line;
        start = newline + 1;
      }
      carry = Buffer.from(bytes.subarray(start));
    }
    const last = parseLine(carry, `${path}:${++index}`, seen);
    if (last !== undefined) yield last;
  } catch (error) {
    throw (error as NodeJS.ErrnoException).code === undefined ? error : unreadable(path, error);
  } finally {
    await opened.close();
  }
}

const unreadable = (path: string, error: unknown) =>
  new WinnowError(
    `Cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
    'Make it a readable JSON Lines file (one JSON object per line), or move it away to import the images without it.',
  );

/** One line of metadata.jsonl; undefined for a blank line. */
function parseLine(raw: Buffer, where: string, seen: (name: string) => boolean): MetadataLine | undefined {
  const problem = (reason: string) => ({ kind: 'problem' as const, where, reason });
  let line: string;
  try {
    line = utf8.decode(raw);
  } catch {
    return problem(`is not UTF-8 text; save metadata.jsonl as UTF-8 and import again`);
  }
  if (line.trim() === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return problem(`is not valid JSON (${(error as Error).message}); ${FIX_LINE}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return problem(`is not a JSON object (each line must be one object with a file_name); ${FIX_LINE}`);
  }
  const rawName = (json as { file_name?: unknown }).file_name;
  const fileName = typeof rawName === 'string' && rawName !== '' ? metadataFileName(rawName) : undefined;
  if (fileName !== undefined && 'problem' in fileName) {
    return problem(`has a file_name ${JSON.stringify(rawName)} that ${fileName.problem}`);
  }
  const name = fileName?.name;
  if (name !== undefined && seen(name)) return problem(`repeats the entry for ${name}; the first one is used`);
  const parsed = syntheticMetadataSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || '(line)';
    const reason =
      `has a bad field ${field}: ${issue?.message ?? 'invalid'}` +
      (name === undefined ? `; ${FIX_LINE}` : `; ${name} is not imported: ${FIX_LINE}`);
    return name === undefined ? problem(reason) : { kind: 'refused', where, name, reason };
  }
  return name === undefined ? undefined : { kind: 'entry', where, name, data: parsed.data };
}
