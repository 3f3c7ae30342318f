import sharp from 'sharp';
import type { RawImage } from '../models/generator.ts';
import type { ImageStore, StoredImage } from '../store/imageStore.ts';

/** Encodes raw pixels as PNG and stores them content-addressed. */
export async function storeRawImage(images: ImageStore, image: RawImage): Promise<StoredImage> {
  const raw = sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: image.channels } });
  // sharp writes sRGB unless told otherwise: keep one-channel images one-channel.
  const png = await (image.channels === 1 ? raw.toColourspace('b-w') : raw).png().toBuffer();
  const hash = await images.put(png);
  return { hash, width: image.width, height: image.height, channels: image.channels, bytes: png.byteLength };
}
