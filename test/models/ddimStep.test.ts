import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { constant, encodeGraph, FLOAT, INT64, node, tensorValue } from '../../src/main/learn/onnxGraph.ts';
import { perturb } from '../../src/main/models/conditioning.ts';
import {
  type DdimStep,
  ddimSample,
  ddimSteps,
  linearSchedule,
  type DdimStepCoefficients,
} from '../../src/main/models/ddim.ts';
import { DDIM_STEP_INPUTS, ddimStepModel, ddimStepper, type DdimStepBatch } from '../../src/main/models/ddimStep.ts';
import { EmbeddedGenerator } from '../../src/main/models/embeddedGenerator.ts';
import { embeddedModelDir } from '../../src/main/models/embeddedModels.ts';
import { fillGaussian } from '../../src/main/models/random.ts';

/** ε for `rows` rows at timesteps t (one per row). */
type Denoise = (x: Float32Array, t: readonly number[], cond: Float32Array, rows: number) => Promise<Float32Array>;

/**
 * The reference: the step as main ran it in JavaScript before the fused graph (src/main/models/ddim.ts
 * at c04941a), verbatim but for the loop around it: [uncond; cond] in one batch of 2B (B at g = 1),
 * the update in float64.
 */
function referenceStep(denoise: Denoise, b: DdimStepBatch, broken: { guidanceSign?: -1; clip?: false } = {}): DdimStep {
  const { batch, guidanceScale: g } = b;
  const guided = g !== 1;
  const condIn = guided ? Float32Array.from([...b.uncond, ...b.cond]) : b.cond;
  return async (x: Float32Array, s: DdimStepCoefficients) => {
    const rows = guided ? 2 * batch : batch;
    const xIn = guided ? Float32Array.from([...x, ...x]) : x;
    const out = await denoise(xIn, new Array<number>(rows).fill(s.timestep), condIn, rows);
    const next = new Float32Array(x.length);
    for (let j = 0; j < x.length; j++) {
      const eps = guided
        ? (out[j] as number) + (broken.guidanceSign ?? 1) * g * ((out[j + x.length] as number) - (out[j] as number))
        : (out[j] as number);
      const xt = x[j] as number;
      const x0Unclipped = (xt - s.sqrtOneMinusAlphaBar * eps) / s.sqrtAlphaBar;
      const x0 = broken.clip === false ? x0Unclipped : Math.min(1, Math.max(-1, x0Unclipped));
      const epsClipped = (xt - s.sqrtAlphaBar * x0) / s.sqrtOneMinusAlphaBar;
      next[j] = s.sqrtAlphaBarPrev * x0 + s.sqrtOneMinusAlphaBarPrev * epsClipped;
    }
    return next;
  };
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((m, v, j) => Math.max(m, Math.abs(v - (b[j] as number))), 0);

const DIR = embeddedModelDir('fmnist-ddpm');
const denoiserBytes = readFileSync(join(DIR, 'denoiser.onnx'));
const schedule = linearSchedule(1000, 1e-4, 0.02);
const IMAGE = [1, 28, 28] as const;
const SIZE = 28 * 28;

let denoiser: ort.InferenceSession;
let guidedStep: ort.InferenceSession;
let unguidedStep: ort.InferenceSession;
let generator: EmbeddedGenerator;
beforeAll(async () => {
  const options = { graphOptimizationLevel: 'all', executionProviders: ['cpu'] } as const;
  [denoiser, guidedStep, unguidedStep, generator] = await Promise.all([
    ort.InferenceSession.create(denoiserBytes, options),
    ort.InferenceSession.create(ddimStepModel(denoiserBytes, true), options),
    ort.InferenceSession.create(ddimStepModel(denoiserBytes, false), options),
    EmbeddedGenerator.load(DIR),
  ]);
});
afterAll(() => Promise.all([denoiser.release(), guidedStep.release(), unguidedStep.release(), generator.dispose()]));

const realDenoise: Denoise = async (x, t, cond, rows) => {
  const out = await denoiser.run({
    x: new ort.Tensor('float32', x, [rows, ...IMAGE]),
    t: new ort.Tensor('float32', Float32Array.from(t), [rows]),
    cond: new ort.Tensor('float32', cond, [rows, cond.length / rows]),
  });
  return out.eps?.data as Float32Array;
};

/** Four images: real noise, class conditionings (one mixed, one perturbed), one with a negative. */
async function realBatch(guidanceScale: number): Promise<{ x: Float32Array; batch: DdimStepBatch }> {
  const enc = async (prompt: string) => (await generator.encodePrompt(prompt)).conditioning;
  const conds = [
    await enc('a coat'),
    await enc('a shirt or a bag'),
    perturb(await enc('a sneaker'), 0.5, 3),
    await enc('a dress'),
  ];
  const nullEmbedding = Float32Array.from(
    (JSON.parse(readFileSync(join(DIR, 'conditioning.json'), 'utf8')) as { null_embedding: number[] }).null_embedding,
  );
  const unconds = [nullEmbedding, nullEmbedding, nullEmbedding, await enc('a coat')];
  const x = new Float32Array(4 * SIZE);
  for (let k = 0; k < 4; k++) x.set(fillGaussian(new Float32Array(SIZE), 100 + k), k * SIZE);
  const flat = (vs: Float32Array[]) => Float32Array.from(vs.flatMap((v) => [...v]));
  return { x, batch: { batch: 4, imageShape: IMAGE, cond: flat(conds), uncond: flat(unconds), guidanceScale } };
}

describe('the fused DDIM step on the embedded denoiser', () => {
  // float32 in the graph against float64 in JavaScript, and the denoiser run on a differently
  // ordered batch ([cond; uncond] against [uncond; cond]): measured at most 4.8e-7 on x (|x| ≲ 4).
  const TOLERANCE = 1e-5;
  // A step with the guidance term's sign flipped, or x0 not clipped, is this much further off.
  const BROKEN = 100 * TOLERANCE;
  const STEPS = 20;
  const CHECKED = [0, 10, 19]; // first, middle, last

  for (const g of [0, 1, 7.5]) {
    it(`equals the JavaScript step at guidance ${g}, first, middle and last of ${STEPS} steps`, async () => {
      const { x: noise, batch } = await realBatch(g);
      const reference = referenceStep(realDenoise, batch);
      const flipped = referenceStep(realDenoise, batch, { guidanceSign: -1 });
      const unclipped = referenceStep(realDenoise, batch, { clip: false });
      const fused = ddimStepper(g === 1 ? unguidedStep : guidedStep, batch);
      const guidedAtOne = ddimStepper(guidedStep, batch);
      let x = noise;
      for (const [i, s] of ddimSteps(schedule, STEPS).entries()) {
        const expected = await reference(x, s);
        if (CHECKED.includes(i)) {
          const got = await fused(x, s);
          expect(maxAbsDiff(got, expected)).toBeLessThan(TOLERANCE);
          // The tolerance tells a broken step apart: the guidance term matters wherever g ∉ {0, 1},
          // the clip at the first step (x0 from pure noise lies far outside [−1, 1]).
          if (g === 7.5) expect(maxAbsDiff(await flipped(x, s), expected)).toBeGreaterThan(BROKEN);
          if (i === 0) expect(maxAbsDiff(await unclipped(x, s), expected)).toBeGreaterThan(BROKEN);
          if (g === 1) expect(maxAbsDiff(await guidedAtOne(x, s), expected)).toBeLessThan(TOLERANCE);
        }
        x = expected;
      }
      expect(
        maxAbsDiff(
          x,
          x.map((v) => Math.min(1, Math.max(-1, v))),
        ),
      ).toBe(0);
    });
  }
});

/** Pixels main's EmbeddedGenerator.generate made before the fused step (c04941a, the JavaScript update, CPU). */
const mainSamples = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/fmnist-ddim/main-samples.json'), 'utf8'),
) as {
  cases: {
    guidanceScale: number;
    steps: number;
    items: { prompt: string; seed: number; negative?: string; epsilon?: number }[];
    pixels: string;
  }[];
};

describe('whole generations through the fused step', () => {
  for (const c of mainSamples.cases) {
    it(`match main's images at guidance ${c.guidanceScale}, ${c.steps} steps (${c.items.length} seeds)`, async () => {
      const enc = async (prompt: string) => (await generator.encodePrompt(prompt)).conditioning;
      const items = await Promise.all(
        c.items.map(async (it) => ({
          conditioning: it.epsilon ? perturb(await enc(it.prompt), it.epsilon, it.seed) : await enc(it.prompt),
          seed: it.seed,
          ...(it.negative ? { negative: await enc(it.negative) } : {}),
        })),
      );
      const images = await generator.generate(items, { guidanceScale: c.guidanceScale, steps: c.steps });
      const got = Uint8Array.from(images.flatMap((im) => [...im.pixels]));
      const expected = Buffer.from(c.pixels, 'base64');
      const differing = got.filter((v, j) => v !== expected[j]).length;
      // Identical on the machine that recorded them; elsewhere onnxruntime's CPU kernels may round differently.
      expect(got.length).toBe(expected.length);
      expect(maxAbsDiff(got, expected)).toBeLessThanOrEqual(1);
      expect(differing).toBeLessThanOrEqual(0.005 * got.length);
    });
  }
});

/**
 * A stand-in denoiser whose internal names are the step graph's own (x_t, x0, eps_cond, zero, …) and
 * whose timestep is int64: ε = x · (t/1000 + Σ cond).
 */
function clashingDenoiser(): Uint8Array {
  return encodeGraph({
    name: 'clashing',
    input: [
      tensorValue('x', FLOAT, ['batch', 1, 2, 2]),
      tensorValue('t', INT64, ['batch']),
      tensorValue('cond', FLOAT, ['batch', 3]),
    ],
    output: [tensorValue('eps', FLOAT, ['batch', 1, 2, 2])],
    initializer: [
      constant('zero', [4], [-1, 1, 1, 1], INT64),
      constant('one', [1], [1], INT64),
      constant('minus_one', [], [0.001]),
    ],
    node: [
      node('Cast', ['t'], ['x_t'], { to: FLOAT }),
      node('Reshape', ['x_t', 'zero'], ['x0']),
      node('ReduceSum', ['cond', 'one'], ['eps_cond'], { keepdims: 1 }),
      node('Reshape', ['eps_cond', 'zero'], ['eps_uncond']),
      node('Mul', ['x0', 'minus_one'], ['rows']),
      node('Add', ['rows', 'eps_uncond'], ['batch']),
      node('Mul', ['x', 'batch'], ['eps']),
    ],
  });
}

describe('the step graph around a denoiser', () => {
  it("declares its own inputs, with the denoiser's timestep type as a scalar and its x and cond shapes", () => {
    const I = DDIM_STEP_INPUTS;
    expect(guidedStep.inputNames).toEqual([
      I.x,
      I.t,
      I.cond,
      I.uncond,
      I.guidanceScale,
      I.sqrtAlphaBar,
      I.sqrtOneMinusAlphaBar,
      I.sqrtAlphaBarPrev,
      I.sqrtOneMinusAlphaBarPrev,
    ]);
    expect(unguidedStep.inputNames).not.toContain(I.uncond);
    expect(unguidedStep.inputNames).not.toContain(I.guidanceScale);
    expect(guidedStep.outputNames).toEqual(['x_prev']);
    const meta = (name: string) => guidedStep.inputMetadata.find((m) => m.name === name);
    expect(meta(I.t)).toMatchObject({ type: 'float32', shape: [] });
    expect(meta(I.x)).toMatchObject({ type: 'float32', shape: ['batch', 1, 28, 28] });
    expect(meta(I.uncond)).toMatchObject({ type: 'float32', shape: ['batch', 64] });
  });

  it('keeps a denoiser whose names clash with its own apart, and feeds an int64 timestep', async () => {
    const bytes = clashingDenoiser();
    const [plain, step] = await Promise.all([
      ort.InferenceSession.create(bytes),
      ort.InferenceSession.create(ddimStepModel(bytes, true)),
    ]);
    const model = onnxProto.onnx.ModelProto.decode(ddimStepModel(bytes, true));
    expect(model.graph?.initializer?.map((t) => t.name)).toEqual(
      expect.arrayContaining(['denoiser/zero', 'denoiser/minus_one', 'zero', 'minus_one']),
    );
    const denoise: Denoise = async (x, t, cond, rows) => {
      const out = await plain.run({
        x: new ort.Tensor('float32', x, [rows, 1, 2, 2]),
        t: new ort.Tensor('int64', BigInt64Array.from(t, BigInt), [rows]),
        cond: new ort.Tensor('float32', cond, [rows, 3]),
      });
      return out.eps?.data as Float32Array;
    };
    const batch: DdimStepBatch = {
      batch: 2,
      imageShape: [1, 2, 2],
      cond: Float32Array.of(0.5, -0.2, 0.1, 0.3, 0.3, -0.9),
      uncond: Float32Array.of(0, 0.1, 0, -0.1, 0, 0.2),
      guidanceScale: 3,
    };
    const x = Float32Array.from({ length: 8 }, (_, j) => Math.sin(j + 1) * 1.3);
    const [fused, reference] = await Promise.all([
      ddimSample({ step: ddimStepper(step, batch), schedule, x, steps: 5 }),
      ddimSample({ step: referenceStep(denoise, batch), schedule, x, steps: 5 }),
    ]);
    expect(maxAbsDiff(fused, reference)).toBeLessThan(1e-5);
    await Promise.all([plain.release(), step.release()]);
  });

  it('says what a denoiser lacks', () => {
    const model = onnxProto.onnx.ModelProto.decode(clashingDenoiser());
    model.graph!.output![0]!.name = 'noise';
    const renamed = onnxProto.onnx.ModelProto.encode(model).finish();
    expect(() => ddimStepModel(renamed, true)).toThrow(
      /lacks output "eps" \(it has inputs x, t, cond; outputs noise\)/,
    );
  });
});
