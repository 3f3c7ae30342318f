import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { WinnowError } from '../errors.ts';
import { writeFileAtomic } from './atomicFile.ts';

/** A decoded, validated image ready to be stored: PNG bytes and what is known about them. */
export interface StoredImage {
  readonly hash: string;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly bytes: number;
}

const HASH = /^[0-9a-f]{64}$/;

/** The thumbnail sizes the UI asks for; no other size is ever made. */
export const THUMBNAIL_SIZES: ReadonlySet<number> = new Set([64, 128, 256]);

export function isImageHash(text: string): boolean {
  return HASH.test(text);
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Decodes any image sharp reads, fully (so truncated files fail here, not later), and returns it as
 * PNG bytes. PNG input is kept byte for byte, so its hash is the hash of the file the user has.
 */
export async function toPng(
  input: Uint8Array,
  name: string,
): Promise<{ png: Uint8Array; width: number; height: number; channels: number }> {
  try {
    const image = sharp(input, { failOn: 'error' });
    const meta = await image.metadata();
    const { info } = await image.clone().raw().toBuffer({ resolveWithObject: true });
    const png = meta.format === 'png' ? input : new Uint8Array(await image.clone().png().toBuffer());
    return { png, width: info.width, height: info.height, channels: meta.channels ?? info.channels };
  } catch (error) {
    throw new UnreadableImageError(name, error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error));
  }
}

export class UnreadableImageError extends WinnowError {
  /** What the decoder said. */
  readonly detail: string;

  constructor(name: string, detail: string) {
    super(`${name} is not a readable image (${detail}).`, 'Remove or replace the file.');
    this.detail = detail;
  }
}

/** Content-addressed PNG files and their cached thumbnails under a project's `images/` folder. */
export class ImageStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  pathOf(hash: string): string {
    if (!HASH.test(hash)) throw new WinnowError(`"${hash}" is not an image hash.`);
    return join(this.root, hash.slice(0, 2), `${hash}.png`);
  }

  thumbnailPathOf(hash: string, size: number): string {
    if (!HASH.test(hash)) throw new WinnowError(`"${hash}" is not an image hash.`);
    return join(this.root, 'thumbs', String(size), hash.slice(0, 2), `${hash}.png`);
  }

  /** Stores PNG bytes under their hash; storing the same bytes twice writes once. */
  async put(png: Uint8Array): Promise<string> {
    const hash = sha256(png);
    const path = this.pathOf(hash);
    if (!(await exists(path))) await writeFileAtomic(path, png);
    return hash;
  }

  /** The thumbnail of an image, made on first request and cached on disk. */
  async thumbnail(hash: string, size: number): Promise<string> {
    const path = this.thumbnailPathOf(hash, size);
    if (await exists(path)) return path;
    const png = await sharp(this.pathOf(hash))
      .resize(size, size, { fit: 'inside', kernel: 'nearest', withoutEnlargement: false })
      .png()
      .toBuffer();
    await writeFileAtomic(path, png);
    return path;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
