import sharp from 'sharp';
import type { RawImage } from '../models/generator.ts';
import type { ImageStore, StoredImage } from '../store/imageStore.ts';

/** Encodes raw pixels as PNG (a queue worker sends these bytes; the project stores them). */
export async function encodePng(image: RawImage): Promise<Buffer> {
  const raw = sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: image.channels } });
  // sharp writes sRGB unless told otherwise: keep one-channel images one-channel.
  return (image.channels === 1 ? raw.toColourspace('b-w') : raw).png().toBuffer();
}

/** Encodes raw pixels as PNG and stores them content-addressed. */
export async function storeRawImage(images: ImageStore, image: RawImage): Promise<StoredImage> {
  const png = await encodePng(image);
  const hash = await images.put(png);
  return { hash, width: image.width, height: image.height, channels: image.channels, bytes: png.byteLength };
}
