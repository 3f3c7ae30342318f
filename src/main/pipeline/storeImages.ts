import sharp from 'sharp';
import type { RawImage } from '../models/generator.ts';
import type { ImageStore, StoredImage } from '../store/imageStore.ts';

/** Encodes raw pixels as PNG and stores them content-addressed. */
export async function storeRawImage(images: ImageStore, image: RawImage): Promise<StoredImage> {
  const png = await sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .png()
    .toBuffer();
  const hash = await images.put(png);
  return { hash, width: image.width, height: image.height, channels: image.channels, bytes: png.byteLength };
}
