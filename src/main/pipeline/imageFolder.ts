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

export interface ImageFolderScan {
  readonly files: readonly ImageFolderFile[];
  readonly skipped: readonly Skipped[];
}

/**
 * Lists an ImageFolder: one sub-folder per class, images anywhere below it. Dotfiles are ignored;
 * files that are not images, and folders that cannot be read, are reported as skipped. Symbolic links
 * are followed (a link loop is skipped); named pipes, sockets and devices are skipped unopened (reading
 * a named pipe would block the import forever).
 * `rootFilesAllowed` names files that may sit at the root (e.g. metadata.jsonl).
 */
export async function scanImageFolder(
  root: string,
  rootFilesAllowed: readonly string[] = [],
): Promise<ImageFolderScan> {
  let entries: Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    throw new WinnowError(
      `Cannot read the folder ${root} (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
      'Check the path and its permissions.',
    );
  }
  const files: ImageFolderFile[] = [];
  const skipped: Skipped[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const path = join(root, entry.name);
    const info = await follow(path, skipped);
    if (info === undefined) continue;
    if (info.isDirectory()) {
      await collect(root, path, entry.name, files, skipped, new Set([await realpath(root)]));
    } else if (!rootFilesAllowed.includes(entry.name)) {
      skipped.push({ path, reason: 'is not inside a class folder (an ImageFolder has one sub-folder per class)' });
    }
  }
  if (files.length === 0 && skipped.length === 0) {
    throw new WinnowError(
      `${root} holds no class folders.`,
      'Point at a folder with one sub-folder of images per class.',
    );
  }
  return { files, skipped };
}

async function collect(
  root: string,
  dir: string,
  label: string,
  files: ImageFolderFile[],
  skipped: Skipped[],
  ancestors: ReadonlySet<string>,
): Promise<void> {
  const real = await realpath(dir);
  if (ancestors.has(real)) {
    skipped.push({ path: dir, reason: 'links back to a folder that contains it (a loop)' });
    return;
  }
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    skipped.push({ path: dir, reason: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})` });
    return;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    const info = await follow(path, skipped);
    if (info === undefined) continue;
    if (info.isDirectory()) {
      await collect(root, path, label, files, skipped, new Set([...ancestors, real]));
    } else if (!info.isFile()) {
      skipped.push({ path, reason: `is ${info.isFIFO() ? 'a named pipe (FIFO)' : 'a socket or device'}, not a file` });
    } else if (IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
      files.push({ label, path, relativePath: relative(root, path).split('\\').join('/') });
    } else {
      skipped.push({ path, reason: `is not an image file (Winnow reads ${[...IMAGE_EXTENSIONS].join(' ')})` });
    }
  }
}

/** An entry's kind through symbolic links, or undefined (and a skip) when the link leads nowhere. */
async function follow(path: string, skipped: Skipped[]): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    skipped.push({
      path,
      reason:
        code === 'ENOENT'
          ? 'is a symbolic link to nothing'
          : code === 'ELOOP'
            ? 'is a symbolic link loop'
            : `cannot be read (${code ?? String(error)})`,
    });
    return undefined;
  }
}
