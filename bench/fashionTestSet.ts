// The 10,000 Fashion-MNIST test images the demo's loop never sees, encoded by a backbone: what the
// loop benches read a head's test accuracy on.
import { join } from 'node:path';
import type { FeatureSet } from '../src/main/learn/softmaxHead.ts';
import type { ImageEncoder } from '../src/main/models/imageEncoder.ts';
import { resourcesDir } from '../src/main/models/embeddedModels.ts';
import { readIdxImages } from '../src/main/pipeline/idx.ts';

export async function fashionTestSet(encoder: ImageEncoder): Promise<FeatureSet> {
  const data = join(resourcesDir(), 'data', 'fashion-mnist');
  const test = readIdxImages(join(data, 'test-images-idx3-ubyte.gz'), join(data, 'test-labels-idx1-ubyte.gz'));
  const n = test.images.dims[0] as number;
  return {
    features: await encoder.encodePixels(
      Array.from({ length: n }, (_, i) => ({
        width: 28,
        height: 28,
        channels: 1 as const,
        pixels: test.images.data.subarray(i * 784, (i + 1) * 784),
      })),
    ),
    labels: Int32Array.from(test.labels),
  };
}
