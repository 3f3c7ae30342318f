import { describe, expect, it } from 'vitest';
import { WinnowError } from '../../src/main/errors.ts';
import { fillGaussian } from '../../src/main/models/random.ts';
import {
  alphasCumprod,
  createScheduler,
  resolveSchedulerConfig,
  type Scheduler,
  type SchedulerConfig,
  schedulerConfigSchema,
  schedulerKindOf,
} from '../../src/main/models/sd/schedulers.ts';

// SD 1.5's scheduler/scheduler_config.json as shipped (PNDM, which DDIM stands in for).
const SD15 = {
  _class_name: 'PNDMScheduler',
  _diffusers_version: '0.6.0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
  clip_sample: false,
};
const config = (overrides: Record<string, unknown> = {}): SchedulerConfig =>
  schedulerConfigSchema.parse({ ...SD15, ...overrides });
/** The config as DDIM reads it. */
const ddimConfig = (overrides: Record<string, unknown> = {}) => resolveSchedulerConfig(config(overrides), 'ddim');

// ᾱ_t of SD 1.5 from the definition, in float64: β_i = (√β_start + i·(√β_end − √β_start)/(T−1))².
const REF_ALPHA_BAR = (() => {
  const out = new Float64Array(1000);
  let product = 1;
  for (let i = 0; i < 1000; i++) {
    const root = Math.sqrt(0.00085) + (i / 999) * (Math.sqrt(0.012) - Math.sqrt(0.00085));
    product *= 1 - root * root;
    out[i] = product;
  }
  return out;
})();
const refSigma = (t: number) => Math.sqrt((1 - REF_ALPHA_BAR[t]!) / REF_ALPHA_BAR[t]!);
/** σ at a possibly fractional timestep, linearly interpolated in σ as k-diffusion and diffusers do. */
const sigmaAt = (t: number) => {
  const lo = Math.floor(t);
  return lo === t ? refSigma(t) : refSigma(lo) + (t - lo) * (refSigma(lo + 1) - refSigma(lo));
};
const alphaBarAt = (t: number) => 1 / (1 + sigmaAt(t) ** 2);

type Prediction = SchedulerConfig['prediction_type'];

/**
 * A perfect UNet for a known clean sample x0: from its input x_t = √ᾱ·x0 + √(1−ᾱ)·ε at timestep t it
 * recovers ε, and returns ε, v = √ᾱ·ε − √(1−ᾱ)·x0 or x0.
 */
function perfectModel(x0: Float32Array, prediction: Prediction) {
  return (input: Float32Array, t: number): Float32Array => {
    const a = alphaBarAt(t);
    return input.map((x, j) => {
      const eps = (x - Math.sqrt(a) * x0[j]!) / Math.sqrt(1 - a);
      if (prediction === 'epsilon') return eps;
      return prediction === 'sample' ? x0[j]! : Math.sqrt(a) * eps - Math.sqrt(1 - a) * x0[j]!;
    });
  };
}

const N = 4096;
const gaussian = (seed: number) => fillGaussian(new Float32Array(N), seed);
const combine = (a: number, x: Float32Array, b: number, y: Float32Array) => x.map((v, j) => a * v + b * y[j]!);
/** ‖a − b‖ / ‖b‖. */
const relError = (a: Float32Array, b: Float32Array) => {
  let diff = 0;
  let norm = 0;
  b.forEach((v, j) => {
    diff += (a[j]! - v) ** 2;
    norm += v * v;
  });
  return Math.sqrt(diff / norm);
};
/** |a/b − 1|. */
const ratioError = (a: number, b: number) => Math.abs(a / b - 1);
const std = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);

/** Standard normals for the stochastic samplers, from a seed. */
function noiseStream(seed: number): () => number {
  const values = fillGaussian(new Float32Array(16 * N), seed);
  let i = 0;
  return () => {
    if (i === values.length) throw new Error('the test noise stream ran out');
    return values[i++]!;
  };
}
const noNoise = () => {
  throw new Error('a deterministic sampler drew noise');
};

/** Runs the sampler from x with the model; `after` sees the sample after each step. */
function run(
  s: Scheduler,
  model: (input: Float32Array, t: number) => Float32Array,
  x: Float32Array,
  noise: () => number = noNoise,
  after?: (i: number, x: Float32Array) => void,
): Float32Array {
  for (let i = 0; i < s.timesteps.length; i++) {
    x = s.step(model(s.scaleModelInput(x, i), s.timesteps[i]!), i, x, noise);
    after?.(i, x);
  }
  return x;
}

const x0 = gaussian(1);
const eps = gaussian(2);

describe('noise schedules', () => {
  it("gives SD 1.5's ᾱ (scaled_linear), decreasing, with k-diffusion's σ range", () => {
    const alphas = alphasCumprod(ddimConfig());
    for (const t of [0, 1, 250, 500, 999]) expect(ratioError(alphas[t]!, REF_ALPHA_BAR[t]!)).toBeLessThan(1e-12);
    expect(alphas[0]).toBeCloseTo(1 - 0.00085, 15);
    for (let t = 1; t < 1000; t++) expect(alphas[t]!).toBeLessThan(alphas[t - 1]!);
    // The σ range k-diffusion prints for SD 1.x: 0.0292 .. 14.6146.
    expect(Math.sqrt((1 - alphas[999]!) / alphas[999]!)).toBeCloseTo(14.6146, 4);
    expect(Math.sqrt((1 - alphas[0]!) / alphas[0]!)).toBeCloseTo(0.0292, 4);
  });

  it("gives DDPM's linear schedule by default (ᾱ_T ≈ 4.04e-5)", () => {
    const alphas = alphasCumprod(
      resolveSchedulerConfig(schedulerConfigSchema.parse({ _class_name: 'DDIMScheduler' }), 'ddim'),
    );
    let product = 1;
    for (let i = 0; i < 1000; i++) product *= 1 - (0.0001 + (i / 999) * (0.02 - 0.0001));
    expect(ratioError(alphas[999]!, product)).toBeLessThan(1e-12);
    expect(alphas[999]!).toBeCloseTo(4.036e-5, 7);
  });

  it('gives the cosine schedule for squaredcos_cap_v2: ᾱ_t = f((t+1)/T)/f(0), the last β capped at 0.999', () => {
    const alphas = alphasCumprod(ddimConfig({ beta_schedule: 'squaredcos_cap_v2' }));
    const f = (s: number) => Math.cos(((s + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (const t of [0, 100, 500, 998]) expect(ratioError(alphas[t]!, f((t + 1) / 1000) / f(0))).toBeLessThan(1e-9);
    expect(alphas[999]! / alphas[998]!).toBeCloseTo(0.001, 12);
  });

  it('takes trained_betas over beta_schedule, and wants one per training timestep', () => {
    const betas = Array.from({ length: 10 }, (_, i) => 0.01 * (i + 1));
    const alphas = alphasCumprod(ddimConfig({ num_train_timesteps: 10, trained_betas: betas }));
    expect(alphas[1]).toBeCloseTo(0.99 * 0.98, 15);
    expect(alphas[9]).toBeCloseTo(
      betas.reduce((p, b) => p * (1 - b), 1),
      15,
    );
    const wrong = schedulerConfigSchema.safeParse({ ...SD15, trained_betas: betas });
    expect(wrong.error?.issues[0]?.path).toEqual(['trained_betas']);
  });
});

describe('timesteps', () => {
  it("space DDIM's 50 'leading' steps of SD 1.5 (steps_offset 1) as 981, 961, …, 1", () => {
    const { timesteps } = createScheduler(config(), 50);
    expect(timesteps).toEqual(Array.from({ length: 50 }, (_, i) => 981 - 20 * i));
  });

  it("space 'trailing' steps from T − 1, rounding halves to even as numpy does", () => {
    expect(createScheduler(config({ timestep_spacing: 'trailing' }), 4).timesteps).toEqual([999, 749, 499, 249]);
    // np.round(np.arange(1000, 0, -62.5)) − 1: 937.5 → 938, 812.5 → 812, 62.5 → 62.
    expect(createScheduler(config({ timestep_spacing: 'trailing' }), 16).timesteps).toEqual([
      999, 937, 874, 811, 749, 687, 624, 561, 499, 437, 374, 311, 249, 187, 124, 61,
    ]);
  });

  it("space 'linspace' steps from 999 to 0, rounded for DDIM and fractional for Euler", () => {
    const c = config({ timestep_spacing: 'linspace' });
    expect(createScheduler(c, 10).timesteps).toEqual([999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
    expect(createScheduler(c, 7).timesteps).toEqual([999, 832, 666, 500, 333, 166, 0]);
    const euler = createScheduler(c, 10, { kind: 'euler' }).timesteps;
    expect([euler[0], euler.at(-1)]).toEqual([999, 0]);
    expect(createScheduler(c, 7, { kind: 'euler' }).timesteps).toEqual([999, 832.5, 666, 499.5, 333, 166.5, 0]);
  });

  it("take LCM's steps evenly from its 50-step distillation schedule", () => {
    expect(createScheduler(config(), 4, { kind: 'lcm' }).timesteps).toEqual([999, 759, 499, 259]);
    expect(createScheduler(config(), 8, { kind: 'lcm' }).timesteps).toEqual([999, 879, 759, 639, 499, 379, 259, 139]);
  });

  it('refuse step counts the schedule cannot hold', () => {
    for (const steps of [0, 2.5, 1001]) expect(() => createScheduler(config(), steps)).toThrow(WinnowError);
    expect(() => createScheduler(config(), 1000)).toThrow(/steps_offset 1/);
    expect(() => createScheduler(config(), 51, { kind: 'lcm' })).toThrow(/original_inference_steps \(50\)/);
  });
});

describe('DDIM', () => {
  const ddpmStart = (t: number, noise = eps) =>
    combine(Math.sqrt(REF_ALPHA_BAR[t]!), x0, Math.sqrt(1 - REF_ALPHA_BAR[t]!), noise);

  it('(η = 0) stays on the trajectory of the true ε and reaches x0 with a perfect ε-model', () => {
    const s = createScheduler(config({ set_alpha_to_one: true }), 50);
    const result = run(s, perfectModel(x0, 'epsilon'), ddpmStart(981), noNoise, (i, x) => {
      const next = s.timesteps[i + 1];
      if (next !== undefined) expect(relError(x, ddpmStart(next))).toBeLessThan(1e-4);
    });
    expect(relError(result, x0)).toBeLessThan(1e-4);
    expect(s.initNoiseSigma).toBe(1);
  });

  it('ends at ᾱ_0, not 1, when set_alpha_to_one is false (SD 1.5 as shipped)', () => {
    const s = createScheduler(config(), 50);
    const result = run(s, perfectModel(x0, 'epsilon'), ddpmStart(981));
    expect(relError(result, ddpmStart(0))).toBeLessThan(1e-4);
  });

  it.each(['v_prediction', 'sample'] as const)(
    'follows the same trajectory and reaches x0 with a perfect %s model on trailing steps',
    (prediction) => {
      const s = createScheduler(
        config({ prediction_type: prediction, set_alpha_to_one: true, timestep_spacing: 'trailing' }),
        4,
      );
      const result = run(s, perfectModel(x0, prediction), ddpmStart(999), noNoise, (i, x) => {
        const next = s.timesteps[i + 1];
        if (next !== undefined) expect(relError(x, ddpmStart(next))).toBeLessThan(1e-4);
      });
      expect(relError(result, x0)).toBeLessThan(1e-4);
    },
  );

  it('(η = 1) adds noise of variance (1−ᾱ′)/(1−ᾱ)·(1−ᾱ/ᾱ′) and keeps the rest deterministic', () => {
    const s = createScheduler(config(), 50, { eta: 1 });
    const x = ddpmStart(981);
    const z = noiseStream(7);
    const out = s.step(perfectModel(x0, 'epsilon')(x, 981), 0, x, z);
    const [a, aPrev] = [REF_ALPHA_BAR[981]!, REF_ALPHA_BAR[961]!];
    const variance = ((1 - aPrev) / (1 - a)) * (1 - a / aPrev);
    const zs = fillGaussian(new Float32Array(N), 7);
    const expected = x0.map(
      (v, j) => Math.sqrt(aPrev) * v + Math.sqrt(1 - aPrev - variance) * eps[j]! + Math.sqrt(variance) * zs[j]!,
    );
    expect(relError(out, expected)).toBeLessThan(1e-4);
    // The marginal stays that of timestep 961: x0 plus noise of variance 1 − ᾱ′.
    expect(std(combine(1, out, -Math.sqrt(aPrev), x0)) / Math.sqrt(1 - aPrev)).toBeCloseTo(1, 1);
  });

  it('is deterministic with η = 0 and follows the noise seed with η > 0', () => {
    const model = perfectModel(x0, 'epsilon');
    const start = ddpmStart(981, gaussian(3));
    const deterministic = createScheduler(config(), 10);
    expect(run(deterministic, model, start)).toEqual(run(deterministic, model, start));
    const stochastic = createScheduler(config(), 10, { eta: 0.5 });
    expect(run(stochastic, model, start, noiseStream(4))).toEqual(run(stochastic, model, start, noiseStream(4)));
    expect(run(stochastic, model, start, noiseStream(4))).not.toEqual(run(stochastic, model, start, noiseStream(5)));
  });

  it('clips the predicted x0 to clip_sample_range when clip_sample is set', () => {
    const s = createScheduler(config({ clip_sample: true, prediction_type: 'sample', set_alpha_to_one: true }), 1, {
      kind: 'ddim',
    });
    const sample = Float32Array.from([0.1, 0.2, 0.3]);
    expect(Array.from(s.step(Float32Array.from([3, -3, 0.5]), 0, sample, noNoise))).toEqual([1, -1, 0.5]);
  });

  it('refuses an η outside [0, 1]', () => {
    expect(() => createScheduler(config(), 10, { eta: 1.5 })).toThrow(/eta/);
  });
});

describe('Euler', () => {
  /** The Euler sample at σ: x0 + σ·ε (the DDPM x_t times √(1 + σ²)). */
  const sigmaStart = (sigma: number) => combine(1, x0, sigma, eps);

  it("starts the latents at diffusers' init_noise_sigma for each spacing", () => {
    const sigmaMax = createScheduler(config({ timestep_spacing: 'linspace' }), 10, { kind: 'euler' }).initNoiseSigma;
    expect(ratioError(sigmaMax, refSigma(999))).toBeLessThan(1e-12);
    const trailing = createScheduler(config({ timestep_spacing: 'trailing' }), 10, { kind: 'euler-ancestral' });
    expect(ratioError(trailing.initNoiseSigma, refSigma(999))).toBeLessThan(1e-12);
    const leading = createScheduler(config({ timestep_spacing: 'leading' }), 50, { kind: 'euler' }).initNoiseSigma;
    expect(ratioError(leading, Math.sqrt(refSigma(981) ** 2 + 1))).toBeLessThan(1e-12);
  });

  it('scales the UNet input by 1/√(σ² + 1) at fractional timesteps too', () => {
    const s = createScheduler(config({ timestep_spacing: 'linspace' }), 7, { kind: 'euler' });
    const x = Float32Array.from([1, -2]);
    const scale = 1 / Math.sqrt(sigmaAt(832.5) ** 2 + 1);
    expect(Array.from(s.scaleModelInput(x, 1))).toEqual([Math.fround(scale), Math.fround(-2 * scale)]);
  });

  it('stays at x0 + σ_i·ε and reaches x0 with a perfect ε-model on fractional linspace timesteps', () => {
    const s = createScheduler(config({ timestep_spacing: 'linspace' }), 7, { kind: 'euler' });
    const result = run(s, perfectModel(x0, 'epsilon'), sigmaStart(sigmaAt(999)), noNoise, (i, x) => {
      const next = s.timesteps[i + 1];
      if (next !== undefined) expect(relError(x, sigmaStart(sigmaAt(next)))).toBeLessThan(1e-5);
    });
    expect(relError(result, x0)).toBeLessThan(1e-5);
  });

  it.each(['v_prediction', 'sample'] as const)('reaches x0 with a perfect %s model', (prediction) => {
    const s = createScheduler(config({ prediction_type: prediction }), 25, { kind: 'euler' });
    expect(relError(run(s, perfectModel(x0, prediction), sigmaStart(refSigma(961))), x0)).toBeLessThan(1e-5);
  });
});

describe('Euler ancestral', () => {
  const sigmaStart = (sigma: number) => combine(1, x0, sigma, eps);

  it('steps to σ_down and adds fresh noise of σ_up, so that the noise left is σ_next', () => {
    const s = createScheduler(config({ timestep_spacing: 'trailing' }), 10, { kind: 'euler-ancestral' });
    const [from, to] = [refSigma(999), refSigma(899)];
    const out = s.step(
      perfectModel(x0, 'epsilon')(s.scaleModelInput(sigmaStart(from), 0), 999),
      0,
      sigmaStart(from),
      noiseStream(9),
    );
    const up = Math.sqrt((to ** 2 * (from ** 2 - to ** 2)) / from ** 2);
    const down = Math.sqrt(to ** 2 - up ** 2);
    const zs = fillGaussian(new Float32Array(N), 9);
    expect(
      relError(
        out,
        x0.map((v, j) => v + down * eps[j]! + up * zs[j]!),
      ),
    ).toBeLessThan(1e-5);
    expect(std(combine(1, out, -1, x0)) / to).toBeCloseTo(1, 1);
  });

  it.each(['epsilon', 'v_prediction', 'sample'] as const)('ends at x0 with a perfect %s model', (prediction) => {
    // Exact predictions make every step's x0 estimate exact, and the last step (σ_next = 0) adds no noise,
    // so only float32 rounding separates the result from x0.
    const s = createScheduler(config({ prediction_type: prediction, timestep_spacing: 'trailing' }), 10, {
      kind: 'euler-ancestral',
    });
    const result = run(s, perfectModel(x0, prediction), sigmaStart(refSigma(999)), noiseStream(10));
    expect(relError(result, x0)).toBeLessThan(1e-5);
  });

  it('follows the noise seed: the same seed repeats a run, another changes it', () => {
    const s = createScheduler(config(), 10, { kind: 'euler-ancestral' });
    const model = (input: Float32Array) => input.map((v) => 0.5 * v);
    const start = gaussian(11).map((v) => v * s.initNoiseSigma);
    expect(run(s, model, start, noiseStream(12))).toEqual(run(s, model, start, noiseStream(12)));
    expect(run(s, model, start, noiseStream(12))).not.toEqual(run(s, model, start, noiseStream(13)));
  });
});

describe('LCM', () => {
  const ddpmStart = (t: number) => combine(Math.sqrt(REF_ALPHA_BAR[t]!), x0, Math.sqrt(1 - REF_ALPHA_BAR[t]!), eps);

  it.each(['sample', 'epsilon'] as const)('returns x0 after its last step with a perfect %s model', (prediction) => {
    const s = createScheduler(config({ prediction_type: prediction }), 4, { kind: 'lcm' });
    expect(s.initNoiseSigma).toBe(1);
    expect(relError(run(s, perfectModel(x0, prediction), ddpmStart(999), noiseStream(14)), x0)).toBeLessThan(1e-4);
  });

  it('between steps, noises c_out·x0 + c_skip·x to the next timestep', () => {
    // A tiny timestep_scaling keeps c_skip far from 0, so that its formula shows.
    const s = createScheduler(config({ prediction_type: 'sample', timestep_scaling: 0.001 }), 4, { kind: 'lcm' });
    const x = ddpmStart(759);
    const out = s.step(x0, 1, x, noiseStream(15));
    // Boundary-condition scalings with σ_data = 0.5 and t scaled by timestep_scaling.
    const scaled = 0.759;
    const cSkip = 0.25 / (scaled ** 2 + 0.25);
    const cOut = scaled / Math.sqrt(scaled ** 2 + 0.25);
    const a = REF_ALPHA_BAR[499]!;
    const zs = fillGaussian(new Float32Array(N), 15);
    const expected = x0.map((v, j) => Math.sqrt(a) * (cOut * v + cSkip * x[j]!) + Math.sqrt(1 - a) * zs[j]!);
    expect(relError(out, expected)).toBeLessThan(1e-6);
  });

  it('follows the noise seed between steps but draws none on the last', () => {
    const s = createScheduler(config(), 4, { kind: 'lcm' });
    const model = (input: Float32Array) => input.map((v) => 0.5 * v);
    const start = gaussian(16);
    expect(run(s, model, start, noiseStream(17))).toEqual(run(s, model, start, noiseStream(17)));
    expect(run(s, model, start, noiseStream(17))).not.toEqual(run(s, model, start, noiseStream(18)));
    expect(() => s.step(start, 3, start, noNoise)).not.toThrow();
  });
});

describe('scheduler configs', () => {
  it('read SD 1.5 as shipped, with DDIM standing in for PNDM', () => {
    const c = config();
    const asRead = resolveSchedulerConfig(c, 'ddim');
    expect([asRead.prediction_type, asRead.timestep_spacing, asRead.clip_sample]).toEqual([
      'epsilon',
      'leading',
      false,
    ]);
    expect(schedulerKindOf(c)).toEqual({ kind: 'ddim', substituted: true });
    expect(createScheduler(c, 25).kind).toBe('ddim');
  });

  it("fill the fields a file leaves out with the defaults of the class that runs, as diffusers' from_config does", () => {
    const bare = schedulerConfigSchema.parse({ _class_name: 'DDIMScheduler' });
    const fields = (kind: Parameters<typeof resolveSchedulerConfig>[1]) => {
      const c = resolveSchedulerConfig(bare, kind);
      return [c.clip_sample, c.timestep_spacing, c.beta_schedule, c.beta_start, c.beta_end];
    };
    expect(fields('ddim')).toEqual([true, 'leading', 'linear', 0.0001, 0.02]);
    expect(fields('euler')).toEqual([false, 'linspace', 'linear', 0.0001, 0.02]);
    expect(fields('euler-ancestral')).toEqual([false, 'linspace', 'linear', 0.0001, 0.02]);
    expect(fields('lcm')).toEqual([false, 'leading', 'scaled_linear', 0.00085, 0.012]);
    // What the file says wins.
    expect(resolveSchedulerConfig(config({ clip_sample: true }), 'lcm').clip_sample).toBe(true);
    expect(createScheduler(bare, 10, { kind: 'euler' }).timesteps[1]).toBeCloseTo(888, 3);
  });

  it('describe the sampler that runs and its settings, for provenance', () => {
    expect(createScheduler(config(), 25).params).toEqual({
      sampler: 'ddim',
      predictionType: 'epsilon',
      timestepSpacing: 'leading',
      stepsOffset: 1,
      eta: 0,
      clipSample: false,
    });
    expect(createScheduler(config(), 25, { eta: 0.5 }).params.eta).toBe(0.5);
    expect(createScheduler(config({ timestep_spacing: 'linspace' }), 20, { kind: 'euler' }).params).toEqual({
      sampler: 'euler',
      predictionType: 'epsilon',
      timestepSpacing: 'linspace',
    });
    expect(createScheduler(config(), 4, { kind: 'lcm' }).params).toEqual({
      sampler: 'lcm',
      predictionType: 'epsilon',
      clipSample: false,
      originalInferenceSteps: 50,
      timestepScaling: 10,
    });
  });

  it.each([
    ['DDIMScheduler', 'ddim'],
    ['EulerDiscreteScheduler', 'euler'],
    ['EulerAncestralDiscreteScheduler', 'euler-ancestral'],
    ['LCMScheduler', 'lcm'],
  ])('map %s to %s', (name, kind) => {
    expect(schedulerKindOf(config({ _class_name: name }))).toEqual({ kind, substituted: false });
  });

  it('refuse an unknown scheduler class, naming it and the supported ones', () => {
    for (const name of ['FlowMatchEulerDiscreteScheduler', 'constructor']) {
      const error = (() => {
        try {
          schedulerKindOf(config({ _class_name: name }));
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(WinnowError);
      expect((error as WinnowError).message).toContain(name);
      expect((error as WinnowError).fix).toContain('EulerDiscreteScheduler');
    }
    // An explicit kind needs no mapping.
    expect(createScheduler(config({ _class_name: 'Mystery' }), 4, { kind: 'lcm' }).kind).toBe('lcm');
  });

  it('report an invalid field by its path and the values allowed', () => {
    const bad = schedulerConfigSchema.safeParse({ ...SD15, beta_schedule: 'foo' });
    expect(bad.error?.issues[0]?.path).toEqual(['beta_schedule']);
    expect(bad.error?.issues[0]?.message).toContain('scaled_linear');
    const thresholding = schedulerConfigSchema.safeParse({ ...SD15, thresholding: true });
    expect(thresholding.error?.issues[0]?.message).toMatch(/^thresholding is not supported/);
  });
});
