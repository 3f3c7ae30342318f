import type { RawImage } from './generator.ts';
import type { ExecutionProvider } from './onnxSession.ts';

/**
 * Maps images to feature vectors. The embedded backbone and, later, CLIP vision encoders share
 * this shape; the downstream head and "find similar" only see the vectors.
 */
export interface ImageEncoder {
  /** Names the exact weights, e.g. "fmnist-backbone@0a1b2c3d4e5f": stored with every feature set. */
  readonly id: string;
  readonly dim: number;
  readonly provider: ExecutionProvider;
  /** Why it runs there: the GPU adapter, or why not on the GPU (models/providers.ts). */
  readonly providerReason: string;
  /**
   * Encodes images given as encoded files (PNG, JPEG…) of any size or colour; each is resized and
   * converted as the model needs. Returns one flat array, `dim` values per image, in input order.
   */
  encode(images: readonly Uint8Array[], options?: EncodeOptions): Promise<Float32Array>;
  /** The same for images already decoded (fresh from a generator, or from a data set file). */
  encodePixels(images: readonly RawImage[], options?: EncodeOptions): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export interface EncodeOptions {
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
}
