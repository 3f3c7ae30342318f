import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import onnxProto from 'onnx-proto';
import { fillGaussian } from '../../src/main/models/random.ts';

const { onnx } = onnxProto;
const REPO = resolve(import.meta.dirname, '../..');

/**
 * Writes a tiny random-weight image encoder with the embedded backbone's exact interface
 * (image [B,1,28,28] → features [B,dim]): a real ONNX model, small enough for fast tests.
 */
export function writeTinyEncoder(dir: string, dim = 16): void {
  mkdirSync(dir, { recursive: true });
  const F = onnx.TensorProto.DataType.FLOAT;
  const I64 = onnx.TensorProto.DataType.INT64;
  const shape = (dims: (number | string)[]) => ({
    dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
  });
  const weights = Array.from(fillGaussian(new Float32Array(784 * dim), 11), (v) => v / 28);
  const graph = {
    name: 'tiny_encoder',
    input: [{ name: 'image', type: { tensorType: { elemType: F, shape: shape(['batch', 1, 28, 28]) } } }],
    output: [{ name: 'features', type: { tensorType: { elemType: F, shape: shape(['batch', dim]) } } }],
    initializer: [
      { name: 'W', dims: [784, dim], dataType: F, floatData: weights },
      { name: 'flat', dims: [2], dataType: I64, int64Data: [-1, 784] },
    ],
    node: [
      { opType: 'Reshape', input: ['image', 'flat'], output: ['x'] },
      { opType: 'MatMul', input: ['x', 'W'], output: ['z'] },
      { opType: 'Tanh', input: ['z'], output: ['features'] },
    ],
  };
  const bytes = onnx.ModelProto.encode({ irVersion: 7, opsetImport: [{ domain: '', version: 13 }], graph }).finish();
  writeFileSync(join(dir, 'encoder.onnx'), bytes);
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
