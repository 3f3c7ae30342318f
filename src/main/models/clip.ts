import { existsSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { z } from 'zod';
import { WinnowError } from '../errors.ts';
import { ClipTokenizer } from './clipTokenizer.ts';
import type { RawImage } from './generator.ts';
import type { EncodeOptions, ImageEncoder } from './imageEncoder.ts';
import { readJsonConfig } from './jsonConfig.ts';
import { modelId } from './modelId.ts';
import {
  declaredShape,
  declaredType,
  expectSignature,
  type ExecutionProvider,
  type ModelSession,
  openSession,
  combinedProvider,
} from './onnxSession.ts';
import { float32Of, floatTensor, isFloatType, type FloatType } from './tensorPrecision.ts';

/** Where the text and vision models may sit (transformers.js keeps them under onnx/). */
export const CLIP_FILES = {
  text: ['text_model.onnx', 'onnx/text_model.onnx'],
  vision: ['vision_model.onnx', 'onnx/vision_model.onnx'],
  preprocessor: 'preprocessor_config.json',
} as const;

export const CLIP_SIGNATURES = {
  text: { inputs: ['input_ids'], outputs: ['text_embeds'] },
  vision: { inputs: ['pixel_values'], outputs: ['image_embeds'] },
} as const;

const size = z.union([
  z.number().int().positive(),
  z.looseObject({ height: z.number().int().positive(), width: z.number().int().positive() }),
  z.looseObject({ shortest_edge: z.number().int().positive() }),
]);
const preprocessorSchema = z.looseObject({
  image_mean: z.array(z.number()).length(3).default([0.48145466, 0.4578275, 0.40821073]),
  image_std: z.array(z.number()).length(3).default([0.26862954, 0.26130258, 0.27577711]),
  crop_size: size.optional(),
  size: size.optional(),
});

const FIX =
  'Export CLIP again with text_model.onnx, vision_model.onnx, its tokenizer files and preprocessor_config.json (transformers.js / Optimum layout).';

function side(value: z.infer<typeof size> | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value.height === 'number') return value.height;
  return typeof value.shortest_edge === 'number' ? value.shortest_edge : undefined;
}

/** Rows scaled to unit length: CLIP compares embeddings by cosine. */
function normalizeRows(data: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < data.length / dim; r++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += (data[r * dim + d] as number) ** 2;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let d = 0; d < dim; d++) out[r * dim + d] = (data[r * dim + d] as number) * scale;
  }
  return out;
}

/**
 * A CLIP model: unit-length image and text embeddings in one space. As an ImageEncoder its image
 * embeddings are the downstream head's features (the realistic backbone for photographs); its
 * image-text cosine is the "clip" score and the +CLIP filter baseline.
 */
export class ClipModel implements ImageEncoder {
  readonly id: string;
  /** Set from the first text embedding at load: the projection size is not always declared. */
  private embeddingDim = 0;
  private readonly text: ModelSession;
  private readonly vision: ModelSession;
  private readonly tokenizer: ClipTokenizer;
  private readonly imageSide: number;
  private readonly mean: readonly number[];
  private readonly std: readonly number[];
  private readonly visionType: FloatType;
  private readonly idsType: 'int32' | 'int64';

  private constructor(fields: {
    id: string;
    text: ModelSession;
    vision: ModelSession;
    tokenizer: ClipTokenizer;
    imageSide: number;
    mean: readonly number[];
    std: readonly number[];
    visionType: FloatType;
    idsType: 'int32' | 'int64';
  }) {
    this.id = fields.id;
    this.text = fields.text;
    this.vision = fields.vision;
    this.tokenizer = fields.tokenizer;
    this.imageSide = fields.imageSide;
    this.mean = fields.mean;
    this.std = fields.std;
    this.visionType = fields.visionType;
    this.idsType = fields.idsType;
  }

  /** Where the model runs: the GPU provider when every part runs there, else the CPU. */
  get provider(): ExecutionProvider {
    return combinedProvider([this.vision, this.text]).provider;
  }
  get providerReason(): string {
    return combinedProvider([this.vision, this.text]).reason;
  }

  static async load(dir: string, options: { id?: string } = {}): Promise<ClipModel> {
    const textFile = CLIP_FILES.text.find((f) => existsSync(join(dir, f)));
    const visionFile = CLIP_FILES.vision.find((f) => existsSync(join(dir, f)));
    if (!textFile || !visionFile)
      throw new WinnowError(`${dir} lacks ${!textFile ? 'text_model.onnx' : 'vision_model.onnx'}.`, FIX);
    const preprocessor = readJsonConfig(
      join(dir, CLIP_FILES.preprocessor),
      preprocessorSchema,
      'CLIP preprocessor config',
      FIX,
    );
    const tokenizer = ClipTokenizer.load(dir);
    const [text, vision] = await Promise.all([
      openSession(join(dir, textFile), 'CLIP text', FIX),
      openSession(join(dir, visionFile), 'CLIP vision', FIX),
    ]);
    expectSignature(text, join(dir, textFile), CLIP_SIGNATURES.text.inputs, CLIP_SIGNATURES.text.outputs, FIX);
    expectSignature(vision, join(dir, visionFile), CLIP_SIGNATURES.vision.inputs, CLIP_SIGNATURES.vision.outputs, FIX);
    const visionType = declaredType(vision, 'pixel_values');
    const idsType = declaredType(text, 'input_ids');
    if (!isFloatType(visionType) || (idsType !== 'int32' && idsType !== 'int64'))
      throw new WinnowError(`${dir}: pixel_values must be float32 or float16 and input_ids int32 or int64.`, FIX);
    const pixelShape = declaredShape(vision, 'pixel_values');
    const declaredSide = typeof pixelShape?.[2] === 'number' ? pixelShape[2] : undefined;
    const imageSide = side(preprocessor.crop_size) ?? side(preprocessor.size) ?? declaredSide ?? 224;
    const model = new ClipModel({
      id: options.id ?? (await modelId(dir)),
      text,
      vision,
      tokenizer,
      imageSide,
      mean: preprocessor.image_mean,
      std: preprocessor.image_std,
      visionType,
      idsType,
    });
    model.embeddingDim = (await model.encodeText(['a'])).length;
    return model;
  }

  get dim(): number {
    return this.embeddingDim;
  }

  /** Unit-length text embeddings, `dim` values per text. */
  async encodeText(texts: readonly string[]): Promise<Float32Array> {
    const n = this.tokenizer.maxLength;
    const out: Float32Array[] = [];
    for (const text of texts) {
      const { ids, attentionMask } = this.tokenizer.tokenize(text);
      const feeds: Record<string, ort.Tensor> = {
        input_ids:
          this.idsType === 'int64'
            ? new ort.Tensor(
                'int64',
                BigInt64Array.from(ids, (v) => BigInt(v)),
                [1, n],
              )
            : new ort.Tensor('int32', ids, [1, n]),
      };
      if (this.text.inputNames.includes('attention_mask'))
        feeds.attention_mask = new ort.Tensor(
          'int64',
          BigInt64Array.from(attentionMask, (v) => BigInt(v)),
          [1, n],
        );
      const result = await this.text.run(feeds);
      out.push(float32Of(result.text_embeds as ort.Tensor));
    }
    const dim = out[0]?.length ?? 0;
    const flat = new Float32Array(out.length * dim);
    out.forEach((e, k) => flat.set(e, k * dim));
    return normalizeRows(flat, dim);
  }

  /** CLIP's preprocessing: shortest side to the crop size, centre crop, RGB, normalised by mean and std. */
  private async pixelValues(image: Uint8Array | RawImage): Promise<Float32Array> {
    const s = this.imageSide;
    const source =
      image instanceof Uint8Array
        ? sharp(image)
        : sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: image.channels } });
    const rgb = await source
      .removeAlpha()
      .toColourspace('srgb')
      .resize(s, s, { fit: 'cover', position: 'centre', kernel: 'cubic' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const area = s * s;
    const out = new Float32Array(3 * area);
    const channels = rgb.info.channels;
    for (let p = 0; p < area; p++)
      for (let c = 0; c < 3; c++) {
        const v = (rgb.data[p * channels + Math.min(c, channels - 1)] as number) / 255;
        out[c * area + p] = (v - (this.mean[c] as number)) / (this.std[c] as number);
      }
    return out;
  }

  encode(images: readonly Uint8Array[], options: EncodeOptions = {}): Promise<Float32Array> {
    return this.encodeImages(images, options);
  }

  encodePixels(images: readonly RawImage[], options: EncodeOptions = {}): Promise<Float32Array> {
    return this.encodeImages(images, options);
  }

  private async encodeImages(
    images: readonly (Uint8Array | RawImage)[],
    options: EncodeOptions,
  ): Promise<Float32Array> {
    const batchSize = options.batchSize ?? 32;
    const s = this.imageSide;
    const features = new Float32Array(images.length * this.dim);
    for (let start = 0; start < images.length; start += batchSize) {
      options.signal?.throwIfAborted();
      const chunk = images.slice(start, start + batchSize);
      const input = new Float32Array(chunk.length * 3 * s * s);
      (await Promise.all(chunk.map((img) => this.pixelValues(img)))).forEach((p, k) => input.set(p, k * 3 * s * s));
      const result = await this.vision.run({
        pixel_values: floatTensor(this.visionType, input, [chunk.length, 3, s, s]),
      });
      features.set(normalizeRows(float32Of(result.image_embeds as ort.Tensor), this.dim), start * this.dim);
    }
    return features;
  }

  async dispose(): Promise<void> {
    await Promise.all([this.text.release(), this.vision.release()]);
  }
}

/** Cosine of each image embedding with the text embedding of its row's class (both unit length). */
export function clipScores(
  imageEmbeddings: Float32Array,
  textEmbeddings: Float32Array,
  textOf: ArrayLike<number>,
  dim: number,
): Float32Array {
  const out = new Float32Array(textOf.length);
  for (let i = 0; i < textOf.length; i++) {
    const t = (textOf[i] as number) * dim;
    let dot = 0;
    for (let d = 0; d < dim; d++) dot += (imageEmbeddings[i * dim + d] as number) * (textEmbeddings[t + d] as number);
    out[i] = dot;
  }
  return out;
}
