/**
 * DDIM sampling (Song et al. 2021, η = 0: deterministic) with classifier-free guidance. The model
 * card of each generator fixes the noise schedule; this module turns it into each step's timestep
 * and coefficients and runs the loop. A step itself (guidance, x0 clipped, ε re-derived, the update)
 * is one call of an onnxruntime graph built around the denoiser (ddimStep.ts).
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

/** One step's timestep τ and the square roots of ᾱ at τ and at the next step (ᾱ_prev = 1 after the last), in float64. */
export interface DdimStepCoefficients {
  readonly timestep: number;
  readonly sqrtAlphaBar: number;
  readonly sqrtOneMinusAlphaBar: number;
  readonly sqrtAlphaBarPrev: number;
  readonly sqrtOneMinusAlphaBarPrev: number;
}

/** The `steps` steps of a schedule, first (pure noise) to last. */
export function ddimSteps(schedule: NoiseSchedule, steps: number): DdimStepCoefficients[] {
  const taus = ddimTimesteps(steps, schedule.T);
  return taus.map((tau, i) => {
    const a = schedule.alphaBar[tau] as number;
    const next = taus[i + 1];
    const aPrev = next === undefined ? 1 : (schedule.alphaBar[next] as number);
    return {
      timestep: tau,
      sqrtAlphaBar: Math.sqrt(a),
      sqrtOneMinusAlphaBar: Math.sqrt(1 - a),
      sqrtAlphaBarPrev: Math.sqrt(aPrev),
      sqrtOneMinusAlphaBarPrev: Math.sqrt(1 - aPrev),
    };
  });
}

/** One guided step for a batch: x_t → x_{t−1}, flat [batch × …]; returns a new array. */
export type DdimStep = (x: Float32Array, step: DdimStepCoefficients) => Promise<Float32Array>;

export interface DdimRequest {
  readonly step: DdimStep;
  readonly schedule: NoiseSchedule;
  /** Initial noise x_T, flat [batch × imageSize]. */
  readonly x: Float32Array;
  readonly steps: number;
  readonly signal?: AbortSignal;
  readonly onStep?: () => void;
}

/**
 * Runs the sampler; returns x_0 in [−1, 1]: the last step's ᾱ_prev is 1, so its x_{t−1} is its
 * clipped x0 estimate.
 */
export async function ddimSample(r: DdimRequest): Promise<Float32Array> {
  let x = r.x;
  for (const step of ddimSteps(r.schedule, r.steps)) {
    r.signal?.throwIfAborted();
    x = await r.step(x, step);
    r.onStep?.();
  }
  return x;
}
