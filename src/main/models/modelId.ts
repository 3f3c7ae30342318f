import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { WinnowError } from '../errors.ts';

/** A regular file of a model folder (reached directly or through symbolic links). */
export interface ModelFile {
  /** The path inside the folder, as the folder names it (a link's own name, not its target's). */
  readonly relativePath: string;
  readonly path: string;
  readonly size: number;
}

/**
 * Every regular file of a model folder, following symbolic links: a Hugging Face cache snapshot is a
 * folder of links into its blob store. Anything else is a problem, listed and never opened: a named
 * pipe blocks whoever reads it forever, a socket or device is no model file, and a dangling link or a
 * link loop names nothing.
 */
export async function listModelFiles(dir: string): Promise<{ files: ModelFile[]; problems: string[] }> {
  const files: ModelFile[] = [];
  const problems: string[] = [];
  const walk = async (folder: string, ancestors: ReadonlySet<string>): Promise<void> => {
    for (const name of (await readdir(folder)).sort()) {
      const path = join(folder, name);
      const rel = relative(dir, path);
      let info: Stats;
      try {
        info = await stat(path);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        problems.push(
          code === 'ELOOP'
            ? `${rel} is a symbolic link loop`
            : code === 'ENOENT'
              ? `${rel} is a symbolic link to nothing`
              : `${rel} cannot be read (${code ?? String(error)})`,
        );
        continue;
      }
      if (info.isFile()) {
        files.push({ relativePath: rel, path, size: info.size });
      } else if (info.isDirectory()) {
        const real = await realpath(path);
        if (ancestors.has(real)) problems.push(`${rel} links back to a folder that contains it (a loop)`);
        else await walk(path, new Set([...ancestors, real]));
      } else {
        problems.push(`${rel} is ${kindOfSpecialFile(info)}, not a regular file`);
      }
    }
  };
  await walk(dir, new Set([await realpath(dir)]));
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, problems };
}

function kindOfSpecialFile(info: Stats): string {
  if (info.isFIFO()) return 'a named pipe (FIFO)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'a special file';
}

/** What to do about listModelFiles' problems. */
export const FIX_MODEL_FILES =
  'Remove those entries from the model folder, or replace each link with the file it should point to.';

/**
 * "folder-name@hash": the hash covers every file of a model folder (weights, external weight data,
 * configs, tokenizer; files behind symbolic links by their content), streamed, so it names the exact
 * weights; instances store it as their generator or encoder.
 */
export async function modelId(dir: string): Promise<string> {
  const { files, problems } = await listModelFiles(dir);
  if (problems.length > 0)
    throw new WinnowError(
      `${dir} holds entries that are not model files:\n  - ${problems.join('\n  - ')}`,
      FIX_MODEL_FILES,
    );
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(`${file.relativePath}\0`);
    for await (const chunk of createReadStream(file.path)) hash.update(chunk as Buffer);
  }
  return `${basename(dir)}@${hash.digest('hex').slice(0, 12)}`;
}
