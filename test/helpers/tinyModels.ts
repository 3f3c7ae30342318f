import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { constant, encodeGraph, FLOAT, INT64, node, tensorValue } from '../../src/main/learn/onnxGraph.ts';
import { fillGaussian } from '../../src/main/models/random.ts';

const REPO = resolve(import.meta.dirname, '../..');

/**
 * Writes a tiny random-weight image encoder with the embedded backbone's exact interface
 * (image [B,1,28,28] → features [B,dim]): a real ONNX model, small enough for fast tests.
 */
export function writeTinyEncoder(dir: string, dim = 16): void {
  mkdirSync(dir, { recursive: true });
  const weights = Array.from(fillGaussian(new Float32Array(784 * dim), 11), (v) => v / 28);
  const graph = {
    name: 'tiny_encoder',
    input: [tensorValue('image', FLOAT, ['batch', 1, 28, 28])],
    output: [tensorValue('features', FLOAT, ['batch', dim])],
    initializer: [constant('W', [784, dim], weights), constant('flat', [2], [-1, 784], INT64)],
    node: [
      node('Reshape', ['image', 'flat'], ['x']),
      node('MatMul', ['x', 'W'], ['z']),
      node('Tanh', ['z'], ['features']),
    ],
  };
  writeFileSync(join(dir, 'encoder.onnx'), encodeGraph(graph));
  writeFileSync(
    join(dir, 'model_card.json'),
    JSON.stringify({
      name: 'tiny-encoder-fixture',
      onnx: { inputs: { image: { shape: ['batch', 1, 28, 28] } }, outputs: { features: { shape: ['batch', dim] } } },
    }),
  );
}

/**
 * A resources folder like Winnow's own, with the tiny generator and encoder in place of the
 * embedded ones and the real demo data: point WINNOW_RESOURCES at it to run the CLI fast.
 */
export function writeTinyResources(dir: string): string {
  cpSync(join(REPO, 'test/fixtures/tiny-ddpm'), join(dir, 'models/fmnist-ddpm'), { recursive: true });
  writeTinyEncoder(join(dir, 'models/fmnist-backbone'));
  symlinkSync(join(REPO, 'resources/data'), join(dir, 'data'));
  return dir;
}
