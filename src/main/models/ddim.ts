/**
 * DDIM sampling (Song et al. 2021, η = 0: deterministic) with classifier-free guidance, for any
 * ε-prediction denoiser given as a batched function. The model card of each generator fixes the
 * noise schedule; this module only does the arithmetic.
 */

import type { SamplingParams } from './generator.ts';

/** What provenance records about this sampler: η = 0, 'trailing' steps, x0 clipped and ε re-derived from it. */
export const DDIM_SAMPLING = {
  sampler: 'ddim',
  eta: 0,
  timestepSpacing: 'trailing',
  predictionType: 'epsilon',
  clipSample: true,
  clippedModelOutput: true,
} as const satisfies SamplingParams;

export interface NoiseSchedule {
  readonly T: number;
  /** ᾱ_t = Π_{i≤t} (1 − β_i), t = 0..T−1, in float64. */
  readonly alphaBar: Float64Array;
}

export function linearSchedule(T: number, betaStart: number, betaEnd: number): NoiseSchedule {
  const alphaBar = new Float64Array(T);
  let product = 1;
  for (let i = 0; i < T; i++) {
    product *= 1 - (betaStart + ((betaEnd - betaStart) * i) / (T - 1));
    alphaBar[i] = product;
  }
  return { T, alphaBar };
}

/** "Trailing" spacing: τ_i = round(T − i·T/S) − 1, i = 0..S−1, so the first step starts at pure noise. */
export function ddimTimesteps(steps: number, T: number): number[] {
  return Array.from({ length: steps }, (_, i) => Math.round(T - (i * T) / steps) - 1);
}

/** ε = denoise(x_t, t, cond) for a batch; shapes are flat [batch × …]. */
export type Denoise = (x: Float32Array, t: Float32Array, cond: Float32Array, batch: number) => Promise<Float32Array>;

export interface DdimRequest {
  readonly denoise: Denoise;
  readonly schedule: NoiseSchedule;
  /** Initial noise x_T, flat [batch × imageSize]; overwritten with the sample. */
  readonly x: Float32Array;
  /** Conditional and unconditional (or negative) conditionings, flat [batch × condDim]. */
  readonly cond: Float32Array;
  readonly uncond: Float32Array;
  readonly batch: number;
  readonly guidanceScale: number;
  readonly steps: number;
  readonly signal?: AbortSignal;
  readonly onStep?: () => void;
}

/** Runs the sampler; returns x_0 in [−1, 1] (the `x` buffer). */
export async function ddimSample(r: DdimRequest): Promise<Float32Array> {
  const { x, batch, guidanceScale: g } = r;
  const taus = ddimTimesteps(r.steps, r.schedule.T);
  const guided = g !== 1;
  // With guidance, the unconditional and conditional halves run as one batch of 2B.
  const condIn = guided ? concat(r.uncond, r.cond) : r.cond;
  const xIn = guided ? new Float32Array(2 * x.length) : x;
  const tIn = new Float32Array(guided ? 2 * batch : batch);
  for (let i = 0; i < taus.length; i++) {
    r.signal?.throwIfAborted();
    const tau = taus[i] as number;
    const a = r.schedule.alphaBar[tau] as number;
    const next = taus[i + 1];
    const aPrev = next === undefined ? 1 : (r.schedule.alphaBar[next] as number);
    tIn.fill(tau);
    if (guided) {
      xIn.set(x, 0);
      xIn.set(x, x.length);
    }
    const out = await r.denoise(xIn, tIn, condIn, guided ? 2 * batch : batch);
    const sqrtA = Math.sqrt(a);
    const sqrt1mA = Math.sqrt(1 - a);
    const sqrtAPrev = Math.sqrt(aPrev);
    const sqrt1mAPrev = Math.sqrt(1 - aPrev);
    for (let j = 0; j < x.length; j++) {
      const eps = guided
        ? (out[j] as number) + g * ((out[j + x.length] as number) - (out[j] as number))
        : (out[j] as number);
      const xt = x[j] as number;
      const x0 = Math.min(1, Math.max(-1, (xt - sqrt1mA * eps) / sqrtA));
      const epsClipped = (xt - sqrtA * x0) / sqrt1mA;
      x[j] = sqrtAPrev * x0 + sqrt1mAPrev * epsClipped;
    }
    r.onStep?.();
  }
  for (let j = 0; j < x.length; j++) x[j] = Math.min(1, Math.max(-1, x[j] as number));
  return x;
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
