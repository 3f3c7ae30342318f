import type { Dirent, Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import { WinnowError } from '../errors.ts';
import type { Skipped } from './report.ts';

/** Extensions sharp decodes. Anything else in a class folder is reported, not guessed at. */
export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif', '.avif']);

export interface ImageFolderFile {
  /** The class folder's name: the label. */
  readonly label: string;
  readonly path: string;
  /** The path relative to the ImageFolder root, with forward slashes (as in metadata.jsonl). */
  readonly relativePath: string;
}

/** What a walk of an ImageFolder yields: an image file, or an entry that is not one (and why). */
export type ImageFolderEntry = ImageFolderFile | Skipped;

export const isSkipped = (entry: ImageFolderEntry): entry is Skipped => 'reason' in entry;

/**
 * Walks an ImageFolder: one sub-folder per class, images anywhere below it, in name order. Dotfiles
 * are ignored; files that are not images, and folders that cannot be read, are yielded as skipped.
 * Symbolic links are followed (a link loop is skipped); named pipes, sockets and devices are skipped
 * unopened (reading a named pipe would block the import forever).
 * `rootFilesAllowed` names files that may sit at the root (e.g. metadata.jsonl).
 * It holds one folder's listing at a time, never the whole set's (a million files' paths are
 * hundreds of MB): an import walks it once to count and once to read.
 */
export async function* walkImageFolder(
  root: string,
  rootFilesAllowed: readonly string[] = [],
): AsyncGenerator<ImageFolderEntry> {
  let entries: Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    throw new WinnowError(
      `Cannot read the folder ${root} (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
      'Check the path and its permissions.',
    );
  }
  let any = false;
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const path = join(root, entry.name);
    const info = await follow(path);
    if ('reason' in info) {
      any = true;
      yield info;
    } else if (info.isDirectory()) {
      for await (const found of collect(root, path, entry.name, new Set([await realpath(root)]))) {
        any = true;
        yield found;
      }
    } else if (!rootFilesAllowed.includes(entry.name)) {
      any = true;
      yield { path, reason: 'is not inside a class folder (an ImageFolder has one sub-folder per class)' };
    }
  }
  if (!any) {
    throw new WinnowError(
      `${root} holds no class folders.`,
      'Point at a folder with one sub-folder of images per class.',
    );
  }
}

async function* collect(
  root: string,
  dir: string,
  label: string,
  ancestors: ReadonlySet<string>,
): AsyncGenerator<ImageFolderEntry> {
  const real = await realpath(dir);
  if (ancestors.has(real)) {
    yield { path: dir, reason: 'links back to a folder that contains it (a loop)' };
    return;
  }
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    yield { path: dir, reason: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
    return;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    const info = await follow(path);
    if ('reason' in info) {
      yield info;
    } else if (info.isDirectory()) {
      yield* collect(root, path, label, new Set([...ancestors, real]));
    } else if (!info.isFile()) {
      yield { path, reason: `is ${info.isFIFO() ? 'a named pipe (FIFO)' : 'a socket or device'}, not a file` };
    } else if (IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
      yield { label, path, relativePath: relative(root, path).split('\\').join('/') };
    } else {
      yield { path, reason: `is not an image file (Winnow reads ${[...IMAGE_EXTENSIONS].join(' ')})` };
    }
  }
}

/** An entry's kind through symbolic links, or why it cannot be followed (a link leading nowhere). */
async function follow(path: string): Promise<Stats | Skipped> {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      path,
      reason:
        code === 'ENOENT'
          ? 'is a symbolic link to nothing'
          : code === 'ELOOP'
            ? 'is a symbolic link loop'
            : `cannot be read (${code ?? String(error)})`,
    };
  }
}
