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

/** The thumbnail sizes (boxes) the UI asks for; no other size is ever made. 84: the review tile's image box. */
export const THUMBNAIL_SIZES: ReadonlySet<number> = new Set([64, 84, 128, 256]);

/**
 * The size of an image's thumbnail in a `box`-pixel square: an image that fits is enlarged by the
 * largest whole factor that still fits, so every source pixel becomes a block of equal screen pixels
 * (28 px in 84 px: 3×, not 84/28 of uneven 2- and 4-px blocks); a larger one is shrunk to fit.
 */
export function thumbnailSize(width: number, height: number, box: number): { width: number; height: number } {
  const side = Math.max(width, height);
  const scale = side <= box ? Math.floor(box / side) : box / side;
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

export function isImageHash(text: string): boolean {
  return HASH.test(text);
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The most pixels an image may have. sharp's own limit (16383 × 16383 = 268 MP) lets a single file
 * take over 1 GB once decoded (8 concurrent imports of them took 5 GB); training images are far
 * smaller, so 8192 × 8192 (67 MP, 268 MB as RGBA) is refused above, before decoding.
 */
export const MAX_INPUT_PIXELS = 8192 * 8192;

/**
 * Decoded pixels that all concurrent decodes of this process may hold at once (imports decode several
 * files in parallel, and a server may run two imports): 1 GiB, so two of the largest allowed RGBA
 * images at once (see decodedBytes), or eight ordinary ones. An image larger than the budget is decoded alone.
 */
export const DECODE_MEMORY_BUDGET = 1 << 30;

/** A counting semaphore over bytes, first come first served. */
export class MemoryBudget {
  readonly limit: number;
  private used = 0;
  private readonly waiting: { bytes: number; go: () => void }[] = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Waits until `bytes` (at most the whole budget) fit, takes them, and returns their release. */
  async acquire(bytes: number): Promise<() => void> {
    const need = Math.min(bytes, this.limit);
    if (this.waiting.length === 0 && this.used + need <= this.limit) this.used += need;
    else await new Promise<void>((go) => this.waiting.push({ bytes: need, go }));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= need;
      for (let next = this.waiting[0]; next && this.used + next.bytes <= this.limit; next = this.waiting[0]) {
        this.waiting.shift();
        this.used += next.bytes;
        next.go();
      }
    };
  }

  /** Bytes taken now. */
  get inUse(): number {
    return this.used;
  }
}

const TOO_MANY_PIXELS = `more than Winnow's limit of ${Math.sqrt(MAX_INPUT_PIXELS)} × ${Math.sqrt(MAX_INPUT_PIXELS)}`;

const decodeBudget = new MemoryBudget(DECODE_MEMORY_BUDGET);

const BYTES_PER_SAMPLE: Record<string, number> = { uchar: 1, char: 1, ushort: 2, short: 2, uint: 4, int: 4, float: 4 };

/**
 * What decoding an image costs in memory, from its header: the raw pixels, and as much again for
 * libvips' buffers and the re-encoded PNG.
 */
export function decodedBytes(meta: { width?: number; height?: number; channels?: number; depth?: string }): number {
  return 2 * (meta.width ?? 0) * (meta.height ?? 0) * (meta.channels ?? 4) * (BYTES_PER_SAMPLE[meta.depth ?? ''] ?? 8);
}

/**
 * Decodes any image sharp reads, fully (so truncated files fail here, not later), and returns it as
 * PNG bytes. PNG input is kept byte for byte, so its hash is the hash of the file the user has.
 * Images over MAX_INPUT_PIXELS are refused from their header; decodes wait for DECODE_MEMORY_BUDGET.
 */
export async function toPng(
  input: Uint8Array,
  name: string,
): Promise<{ png: Uint8Array; width: number; height: number; channels: number }> {
  let release = () => {};
  try {
    // The header alone (sharp's own limit would hide the size behind its generic message).
    const meta = await sharp(input, { limitInputPixels: false }).metadata();
    const pixels = (meta.width ?? 0) * (meta.height ?? 0);
    if (pixels > MAX_INPUT_PIXELS) throw new Error(`it has ${meta.width} × ${meta.height} pixels, ${TOO_MANY_PIXELS}`);
    release = await decodeBudget.acquire(decodedBytes(meta));
    const image = sharp(input, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS });
    const { info } = await image.clone().raw().toBuffer({ resolveWithObject: true });
    const png = meta.format === 'png' ? input : new Uint8Array(await image.clone().png().toBuffer());
    return { png, width: info.width, height: info.height, channels: meta.channels ?? info.channels };
  } catch (error) {
    const detail = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    // sharp's own words, for an image whose header hides its size until decoding.
    throw new UnreadableImageError(name, /exceeds pixel limit/i.test(detail) ? `it has ${TOO_MANY_PIXELS}` : detail);
  } finally {
    release();
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
    // `whole/`: thumbnails made before whole-factor enlargement (fractional nearest-neighbour) live beside it, unused.
    return join(this.root, 'thumbs', 'whole', String(size), hash.slice(0, 2), `${hash}.png`);
  }

  /** Stores PNG bytes under their hash; storing the same bytes twice writes once. */
  async put(png: Uint8Array): Promise<string> {
    const hash = sha256(png);
    const path = this.pathOf(hash);
    if (!(await exists(path))) await this.write(path, png);
    return hash;
  }

  /** Writes a file of the store; a failure names the store (never the file an image came from). */
  private async write(path: string, bytes: Uint8Array): Promise<void> {
    try {
      await writeFileAtomic(path, bytes);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new WinnowError(
        `Cannot write to the project's image store ${this.root} (${code}).`,
        code === 'ENOSPC' || code === 'EDQUOT'
          ? 'The disk is full: free some space and try again.'
          : code === 'EROFS' || code === 'EACCES' || code === 'EPERM'
            ? 'The project is read-only here: check the permissions of its folder (or its mount), or work on a copy.'
            : `Check ${this.root}: it and its sub-folders must be writable folders.`,
      );
    }
  }

  /** The thumbnail of an image, made on first request and cached on disk. */
  async thumbnail(hash: string, size: number): Promise<string> {
    const path = this.thumbnailPathOf(hash, size);
    if (await exists(path)) return path;
    const image = sharp(this.pathOf(hash), { limitInputPixels: MAX_INPUT_PIXELS });
    const meta = await image.metadata();
    const fit = thumbnailSize(meta.width ?? size, meta.height ?? size, size);
    const enlarging = fit.width >= (meta.width ?? 0);
    // Enlarging copies pixels (nearest); shrinking averages them (sharp's default lanczos3).
    const png = await image
      .resize(fit.width, fit.height, { fit: 'fill', ...(enlarging ? { kernel: 'nearest' } : {}) })
      .png()
      .toBuffer();
    await this.write(path, png);
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
