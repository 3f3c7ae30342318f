// The bench's judge: a Fashion-MNIST classifier (bench/models/judge.onnx, trained on all 60,000
// labelled training images; its test accuracy is in judge.json) that stands in for a human's label
// of a generated image. Its own errors cap every figure read from it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import sharp from 'sharp';

const JUDGE = join(import.meta.dirname, 'models', 'judge.onnx');

export const JUDGE_TEST_ACCURACY = (
  JSON.parse(readFileSync(join(import.meta.dirname, 'models', 'judge.json'), 'utf8')) as { test_accuracy: number }
).test_accuracy;

/** Pixels of a 28×28 greyscale image. */
export const PIXELS = 28 * 28;

/** An image file as the judge and the pixel baselines read it: greyscale 28×28 in [0, 1]. */
export async function readGrey(file: string): Promise<Float32Array> {
  const raw = await sharp(file).greyscale().resize(28, 28, { fit: 'fill' }).raw().toBuffer();
  return Float32Array.from(raw, (v) => v / 255);
}

/** Each image's class index (Fashion-MNIST order) by the judge. */
export async function judgeClasses(files: readonly string[]): Promise<number[]> {
  const session = await ort.InferenceSession.create(JUDGE);
  const input = new Float32Array(files.length * PIXELS);
  for (const [i, f] of files.entries()) input.set(await readGrey(f), i * PIXELS);
  const logits = (await session.run({ image: new ort.Tensor('float32', input, [files.length, 1, 28, 28]) })).logits!
    .data as Float32Array;
  const C = logits.length / files.length;
  await session.release();
  return files.map((_, i) => {
    let best = 0;
    for (let c = 1; c < C; c++) if (logits[i * C + c]! > logits[i * C + best]!) best = c;
    return best;
  });
}
