import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
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
 * files that are not images, and folders that cannot be read, are reported as skipped.
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
    if (entry.isDirectory()) {
      await collect(root, path, entry.name, files, skipped);
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
): Promise<void> {
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
    if (entry.isDirectory()) {
      await collect(root, path, label, files, skipped);
    } else if (IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
      files.push({ label, path, relativePath: relative(root, path).split('\\').join('/') });
    } else {
      skipped.push({ path, reason: `is not an image file (Winnow reads ${[...IMAGE_EXTENSIONS].join(' ')})` });
    }
  }
}
