import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { WinnowError } from '../errors.ts';

/** The IDX format of (Fashion-)MNIST: a magic number giving the element type and rank, the dimensions, then the data. */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

export function readIdx(path: string): IdxArray {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
    if (path.endsWith('.gz')) bytes = gunzipSync(bytes);
  } catch (error) {
    throw new WinnowError(
      `Cannot read the IDX file ${path}: ${(error as Error).message}`,
      'Reinstall Winnow to restore its demo data.',
    );
  }
  // Bytes 0-1 are zero, byte 2 is the type (0x08: unsigned byte), byte 3 the number of dimensions.
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08) {
    throw new WinnowError(`${path} is not an unsigned-byte IDX file.`, 'Reinstall Winnow to restore its demo data.');
  }
  const rank = bytes[3] as number;
  const dims = Array.from({ length: rank }, (_, i) => bytes.readUInt32BE(4 + 4 * i));
  const offset = 4 + 4 * rank;
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== offset + size) {
    throw new WinnowError(
      `${path} is truncated: ${bytes.length - offset} data bytes for dimensions ${dims.join('×')}.`,
      'Reinstall Winnow to restore its demo data.',
    );
  }
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + offset, size) };
}

/** Images [n, h, w] and labels [n] of an IDX pair, checked to agree. */
export function readIdxImages(imagesPath: string, labelsPath: string): { images: IdxArray; labels: Uint8Array } {
  const images = readIdx(imagesPath);
  const labels = readIdx(labelsPath);
  if (images.dims.length !== 3 || labels.dims.length !== 1 || images.dims[0] !== labels.dims[0]) {
    throw new WinnowError(
      `${imagesPath} (${images.dims.join('×')}) and ${labelsPath} (${labels.dims.join('×')}) do not match.`,
    );
  }
  return { images, labels: labels.data };
}
