import ort from 'onnxruntime-node';
import { WinnowError } from '../errors.ts';

/** The float precisions Winnow runs models in; fp16 exports keep fp16 inputs and outputs. */
export type FloatType = 'float32' | 'float16';

interface Float16ArrayConstructor {
  from(values: ArrayLike<number>): ArrayLike<number>;
}

// Node 24 and Electron's V8 have Float16Array; lib es2024's types do not yet.
const Float16 = (globalThis as { Float16Array?: Float16ArrayConstructor }).Float16Array;

/** A float tensor in the precision a model input declares. */
export function floatTensor(type: FloatType, data: Float32Array, dims: readonly number[]): ort.Tensor {
  if (type === 'float32') return new ort.Tensor('float32', data, dims);
  if (!Float16)
    throw new WinnowError(
      'This runtime has no Float16Array, which fp16 models need.',
      'Run Winnow on Node 24 or later, or use an fp32 export of the model.',
    );
  const bits = new Uint16Array((Float16.from(data) as unknown as Uint16Array).buffer);
  const tensor = new ort.Tensor('float16', bits, dims);
  // onnxruntime-common stores float16 data as a Float16Array wherever one exists, and
  // onnxruntime-node 1.30's binding reads a Float16Array input as 0 bytes ("not enough space",
  // microsoft/onnxruntime#32323, not yet released): hand the binding the same bits as a Uint16Array.
  (tensor as unknown as { cpuData: Uint16Array }).cpuData = bits;
  return tensor;
}

/** A float output as float32, whatever precision the model produced. */
export function float32Of(tensor: ort.Tensor): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16' && Float16) return Float32Array.from(tensor.data as unknown as ArrayLike<number>);
  throw new WinnowError(`A model output has type ${tensor.type}; Winnow reads float32 and float16 outputs.`);
}

/** Whether a declared type is a float precision Winnow runs. */
export function isFloatType(type: string | undefined): type is FloatType {
  return type === 'float32' || type === 'float16';
}
