import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { z } from 'zod';
import { WinnowError } from '../errors.ts';
import type { RawImage } from './generator.ts';
import type { EncodeOptions, ImageEncoder } from './imageEncoder.ts';
import { expectSignature, type ExecutionProvider, type ModelSession, openSession } from './onnxSession.ts';

const cardSchema = z.object({
  name: z.string(),
  onnx: z.object({
    inputs: z.object({ image: z.object({ shape: z.tuple([z.string(), z.number(), z.number(), z.number()]) }) }),
    outputs: z.object({ features: z.object({ shape: z.tuple([z.string(), z.number()]) }) }),
  }),
});

const FIX =
  'Reinstall Winnow, or rebuild the backbone with tools/models/train_backbone.py (see tools/models/README.md).';

/** The embedded backbone: greyscale 28×28 in [0, 1] → a feature vector, trained without labels. */
export class EmbeddedEncoder implements ImageEncoder {
  readonly id: string;
  readonly dim: number;
  private readonly session: ModelSession;
  private readonly size: number;

  private constructor(session: ModelSession, id: string, dim: number, size: number) {
    this.session = session;
    this.id = id;
    this.dim = dim;
    this.size = size;
  }

  get provider(): ExecutionProvider {
    return this.session.provider;
  }
  get providerReason(): string {
    return this.session.providerReason;
  }

  static async load(dir: string): Promise<EmbeddedEncoder> {
    const path = join(dir, 'encoder.onnx');
    const opened = await openSession(path, 'image encoder', FIX);
    expectSignature(opened, path, ['image'], ['features'], FIX);
    let card: z.infer<typeof cardSchema>;
    try {
      card = cardSchema.parse(JSON.parse(readFileSync(join(dir, 'model_card.json'), 'utf8')));
    } catch (error) {
      throw new WinnowError(
        `The image encoder's model card ${join(dir, 'model_card.json')} is missing or malformed: ${(error as Error).message.split('\n')[0]}`,
        FIX,
      );
    }
    const [, , height] = card.onnx.inputs.image.shape;
    const digest = createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 12);
    return new EmbeddedEncoder(opened, `${card.name}@${digest}`, card.onnx.outputs.features.shape[1], height);
  }

  /** Greyscale size × size pixels in [0, 1], from an encoded file or raw pixels of any size and colour. */
  private async input(image: Uint8Array | RawImage): Promise<Float32Array> {
    const area = this.size * this.size;
    const raw =
      image instanceof Uint8Array
        ? sharp(image)
        : image.channels === 1 && image.width === this.size && image.height === this.size
          ? image.pixels
          : sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: image.channels } });
    const pixels =
      raw instanceof Uint8Array
        ? raw
        : await raw.greyscale().resize(this.size, this.size, { fit: 'fill' }).raw().toBuffer();
    const out = new Float32Array(area);
    for (let i = 0; i < area; i++) out[i] = (pixels[i] as number) / 255;
    return out;
  }

  encode(images: readonly Uint8Array[], options: EncodeOptions = {}): Promise<Float32Array> {
    return this.run(images, options);
  }

  encodePixels(images: readonly RawImage[], options: EncodeOptions = {}): Promise<Float32Array> {
    return this.run(images, options);
  }

  private async run(images: readonly (Uint8Array | RawImage)[], options: EncodeOptions): Promise<Float32Array> {
    const batchSize = options.batchSize ?? 256;
    const area = this.size * this.size;
    const features = new Float32Array(images.length * this.dim);
    for (let start = 0; start < images.length; start += batchSize) {
      options.signal?.throwIfAborted();
      const chunk = images.slice(start, start + batchSize);
      const input = new Float32Array(chunk.length * area);
      const decoded = await Promise.all(chunk.map((img) => this.input(img)));
      decoded.forEach((p, k) => input.set(p, k * area));
      const result = await this.session.run({
        image: new ort.Tensor('float32', input, [chunk.length, 1, this.size, this.size]),
      });
      features.set((result.features as ort.Tensor).data as Float32Array, start * this.dim);
    }
    return features;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
