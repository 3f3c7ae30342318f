/**
 * The noise schedulers of a diffusers Stable Diffusion folder (scheduler/scheduler_config.json),
 * ported from diffusers so that a folder samples here as it does in Python: DDIM, Euler, Euler
 * ancestral and LCM, on the config's own noise schedule, timestep spacing and prediction type.
 * Schedules are computed in float64 (diffusers uses float32 tensors); samples stay float32.
 */
import { z } from 'zod';
import { WinnowError } from '../../errors.ts';
import type { SamplingParams } from '../generator.ts';

const notPorted = (field: string) =>
  `${field} is not supported by Winnow's schedulers; set it to false in scheduler_config.json`;

/**
 * diffusers' scheduler config fields, with diffusers' defaults; other keys pass through untouched. The
 * fields whose default differs between diffusers' scheduler classes stay unset here: `resolveSchedulerConfig`
 * fills them for the algorithm that runs, as `<Class>.from_config(config)` does in diffusers.
 */
export const schedulerConfigSchema = z
  .looseObject({
    _class_name: z.string(),
    num_train_timesteps: z.number().int().min(2).default(1000),
    beta_start: z.number().positive().optional(),
    beta_end: z.number().positive().optional(),
    beta_schedule: z.enum(['linear', 'scaled_linear', 'squaredcos_cap_v2']).optional(),
    // Explicit β_t that override beta_schedule; SD 1.x folders write null.
    trained_betas: z.array(z.number().gt(0).lt(1)).nullish(),
    prediction_type: z.enum(['epsilon', 'v_prediction', 'sample']).default('epsilon'),
    timestep_spacing: z.enum(['leading', 'trailing', 'linspace']).optional(),
    steps_offset: z.number().int().nonnegative().default(0),
    set_alpha_to_one: z.boolean().default(true),
    clip_sample: z.boolean().optional(),
    clip_sample_range: z.number().positive().default(1),
    // Not ported: refusing them beats sampling on a different schedule than the model was trained for.
    thresholding: z.literal(false, { error: notPorted('thresholding') }).default(false),
    rescale_betas_zero_snr: z.literal(false, { error: notPorted('rescale_betas_zero_snr') }).default(false),
    /** LCM: the step count of the schedule the consistency model was distilled on. */
    original_inference_steps: z.number().int().positive().default(50),
    /** LCM: scales t in the boundary-condition scalings c_skip and c_out. */
    timestep_scaling: z.number().positive().default(10),
  })
  .refine((c) => c.trained_betas == null || c.trained_betas.length === c.num_train_timesteps, {
    error: 'trained_betas must hold num_train_timesteps values',
    path: ['trained_betas'],
  });

export type SchedulerConfig = z.output<typeof schedulerConfigSchema>;
export type SchedulerKind = 'ddim' | 'euler' | 'euler-ancestral' | 'lcm';
type PredictionType = SchedulerConfig['prediction_type'];
type ClassDefaults = Required<
  Pick<SchedulerConfig, 'beta_start' | 'beta_end' | 'beta_schedule' | 'timestep_spacing' | 'clip_sample'>
>;
/** A config with every field set, for one algorithm. */
export type ResolvedSchedulerConfig = SchedulerConfig & ClassDefaults;

/**
 * The defaults of diffusers' scheduler classes (at the commit in test/fixtures/sd-reference/index.json)
 * where they differ: DDIM clips x0 unless told not to, Euler spaces timesteps 'linspace', LCM assumes
 * SD's scaled_linear schedule. The Euler schedulers have no clip_sample (they never clip).
 */
const DDPM_BETAS = { beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' } as const;
const EULER_DEFAULTS: ClassDefaults = { ...DDPM_BETAS, timestep_spacing: 'linspace', clip_sample: false };
const CLASS_DEFAULTS: Readonly<Record<SchedulerKind, ClassDefaults>> = {
  ddim: { ...DDPM_BETAS, timestep_spacing: 'leading', clip_sample: true },
  euler: EULER_DEFAULTS,
  'euler-ancestral': EULER_DEFAULTS,
  lcm: {
    beta_start: 0.00085,
    beta_end: 0.012,
    beta_schedule: 'scaled_linear',
    timestep_spacing: 'leading',
    clip_sample: false,
  },
};

/** The config as `kind`'s diffusers class reads it: the fields the file leaves out take that class's defaults. */
export function resolveSchedulerConfig(config: SchedulerConfig, kind: SchedulerKind): ResolvedSchedulerConfig {
  const defaults = CLASS_DEFAULTS[kind];
  return {
    ...config,
    beta_start: config.beta_start ?? defaults.beta_start,
    beta_end: config.beta_end ?? defaults.beta_end,
    beta_schedule: config.beta_schedule ?? defaults.beta_schedule,
    timestep_spacing: config.timestep_spacing ?? defaults.timestep_spacing,
    clip_sample: config.clip_sample ?? defaults.clip_sample,
  };
}

/**
 * What provenance records about a run's sampler: the algorithm and every setting that shapes its
 * trajectory beyond the model's own noise schedule (eta only for DDIM, the LCM constants only for LCM).
 */
export type SamplerParams = SamplingParams & { readonly sampler: SchedulerKind };

export interface Scheduler {
  readonly kind: SchedulerKind;
  /** The algorithm and its settings, for provenance. */
  readonly params: SamplerParams;
  /** UNet timesteps for this run, in the order they are used (diffusers' `scheduler.timesteps`; floats allowed for Euler 'linspace'). */
  readonly timesteps: readonly number[];
  /** Multiplies the initial Gaussian latents (σ_max-ish for Euler, 1 for DDIM/LCM). */
  readonly initNoiseSigma: number;
  /** The UNet input for step `index` (Euler divides by sqrt(σ²+1); others return the same array). */
  scaleModelInput(sample: Float32Array, index: number): Float32Array;
  /** One step from `sample` at timesteps[index] given the (guided) model output; `noise` yields standard normals for the stochastic samplers (Euler ancestral, LCM between steps, DDIM with eta > 0). Returns a new array. */
  step(modelOutput: Float32Array, index: number, sample: Float32Array, noise: () => number): Float32Array<ArrayBuffer>;
}

const NATIVE = new Map<string, SchedulerKind>([
  ['DDIMScheduler', 'ddim'],
  ['EulerDiscreteScheduler', 'euler'],
  ['EulerAncestralDiscreteScheduler', 'euler-ancestral'],
  ['LCMScheduler', 'lcm'],
]);

/**
 * Schedulers of diffusers' interchangeable family (any of them loads from another's config) that are
 * not ported: DDIM runs on their noise schedule instead. SD 1.x folders ship PNDM.
 */
const SUBSTITUTED = new Set([
  'PNDMScheduler',
  'LMSDiscreteScheduler',
  'DPMSolverMultistepScheduler',
  'DPMSolverSinglestepScheduler',
  'UniPCMultistepScheduler',
  'HeunDiscreteScheduler',
  'DDPMScheduler',
  'DEISMultistepScheduler',
  'KDPM2DiscreteScheduler',
  'KDPM2AncestralDiscreteScheduler',
]);

/** Which algorithm a config's _class_name maps to; `substituted` when DDIM stands in for an unported one. */
export function schedulerKindOf(config: SchedulerConfig): { kind: SchedulerKind; substituted: boolean } {
  const name = config._class_name;
  const kind = NATIVE.get(name);
  if (kind) return { kind, substituted: false };
  if (SUBSTITUTED.has(name)) return { kind: 'ddim', substituted: true };
  throw new WinnowError(
    `The scheduler ${name} in scheduler_config.json is not supported.`,
    `Set _class_name to one of ${[...NATIVE.keys(), ...SUBSTITUTED].join(', ')}, or choose a scheduler (ddim, euler, euler-ancestral, lcm) explicitly.`,
  );
}

/** ᾱ_t = Π_{s≤t} (1 − β_s), t = 0..T−1, from trained_betas or beta_schedule. */
export function alphasCumprod(config: ResolvedSchedulerConfig): Float64Array {
  const betas = config.trained_betas ?? betaSchedule(config);
  const out = new Float64Array(config.num_train_timesteps);
  let product = 1;
  betas.forEach((beta, t) => {
    product *= 1 - beta;
    out[t] = product;
  });
  return out;
}

function betaSchedule(config: ResolvedSchedulerConfig): number[] {
  const { num_train_timesteps: T, beta_start: start, beta_end: end } = config;
  switch (config.beta_schedule) {
    case 'linear':
      return linspace(start, end, T);
    case 'scaled_linear':
      return linspace(Math.sqrt(start), Math.sqrt(end), T).map((b) => b * b);
    case 'squaredcos_cap_v2': {
      // Nichol & Dhariwal's cosine ᾱ(s), as betas capped at 0.999 so that the last step keeps some signal.
      const alphaBar = (s: number) => Math.cos((((s + 0.008) / 1.008) * Math.PI) / 2) ** 2;
      return Array.from({ length: T }, (_, i) => Math.min(1 - alphaBar((i + 1) / T) / alphaBar(i / T), 0.999));
    }
  }
}

/** `steps` inference steps; `kind` overrides the config's own (a user may pick e.g. 'lcm'); eta for DDIM (default 0; the others ignore it). */
export function createScheduler(
  fileConfig: SchedulerConfig,
  steps: number,
  options: { kind?: SchedulerKind; eta?: number } = {},
): Scheduler {
  const T = fileConfig.num_train_timesteps;
  if (!Number.isInteger(steps) || steps < 1 || steps > T)
    throw new WinnowError(
      `${steps} inference steps were asked for; the scheduler takes a whole number from 1 to ${T} (num_train_timesteps).`,
      'Choose another number of steps.',
    );
  const kind = options.kind ?? schedulerKindOf(fileConfig).kind;
  const config = resolveSchedulerConfig(fileConfig, kind);
  const alphas = alphasCumprod(config);
  switch (kind) {
    case 'ddim':
      return ddim(config, alphas, steps, options.eta ?? 0);
    case 'euler':
    case 'euler-ancestral':
      return euler(kind, config, alphas, steps);
    case 'lcm':
      return lcm(config, alphas, steps);
  }
}

function ddim(config: ResolvedSchedulerConfig, alphas: Float64Array, steps: number, eta: number): Scheduler {
  if (!(eta >= 0 && eta <= 1))
    throw new WinnowError(`DDIM's eta must lie in [0, 1] (0: deterministic, 1: DDPM-like), not ${eta}.`);
  const timesteps = spacedTimesteps(config, steps).map(roundHalfEven);
  // diffusers steps back by T // steps whatever the spacing, not always onto the next timestep.
  const stride = Math.floor(config.num_train_timesteps / steps);
  const finalAlpha = config.set_alpha_to_one ? 1 : (alphas[0] as number);
  const clip = clipper(config);
  return {
    kind: 'ddim',
    params: { ...commonParams('ddim', config), eta, clipSample: config.clip_sample },
    timesteps,
    initNoiseSigma: 1,
    scaleModelInput: (sample) => sample,
    step(modelOutput, index, sample, noise) {
      const t = at(timesteps, index);
      const a = alphas[t] as number;
      const aPrev = t - stride >= 0 ? (alphas[t - stride] as number) : finalAlpha;
      const std = eta * Math.sqrt(((1 - aPrev) / (1 - a)) * (1 - a / aPrev));
      const { x0, eps } = ddpmPrediction(config.prediction_type, a);
      const sqrtAPrev = Math.sqrt(aPrev);
      const direction = Math.sqrt(1 - aPrev - std * std);
      return elementwise(sample, modelOutput, (x, m) => {
        const out = sqrtAPrev * clip(x0.x * x + x0.m * m) + direction * (eps.x * x + eps.m * m);
        return std > 0 ? out + std * noise() : out;
      });
    },
  };
}

function euler(
  kind: 'euler' | 'euler-ancestral',
  config: ResolvedSchedulerConfig,
  alphas: Float64Array,
  steps: number,
): Scheduler {
  // diffusers hands the UNet float32 timesteps and interpolates σ at those.
  const timesteps = spacedTimesteps(config, steps).map(Math.fround);
  const table = alphas.map((a) => Math.sqrt((1 - a) / a));
  const stepSigmas = timesteps.map((t) => interpolate(table, t));
  const sigmaMax = Math.max(...stepSigmas);
  return {
    kind,
    params: commonParams(kind, config),
    timesteps,
    // diffusers' init_noise_sigma: σ_max for 'linspace' and 'trailing', √(σ_max² + 1) for 'leading'.
    initNoiseSigma: config.timestep_spacing === 'leading' ? Math.sqrt(sigmaMax ** 2 + 1) : sigmaMax,
    scaleModelInput(sample, index) {
      const scale = 1 / Math.sqrt(at(stepSigmas, index) ** 2 + 1);
      return sample.map((x) => x * scale);
    },
    step(modelOutput, index, sample, noise) {
      const sigma = at(stepSigmas, index);
      // The last step goes to σ = 0: the clean sample.
      const next = stepSigmas[index + 1] ?? 0;
      const x0 = sigmaPrediction(config.prediction_type, sigma);
      if (kind === 'euler') {
        const dt = (next - sigma) / sigma;
        return elementwise(sample, modelOutput, (x, m) => x + (x - (x0.x * x + x0.m * m)) * dt);
      }
      // Ancestral: step deterministically down to σ_down, then add fresh noise of σ_up, so the total is σ_next.
      const up = Math.sqrt((next ** 2 * (sigma ** 2 - next ** 2)) / sigma ** 2);
      const dt = (Math.sqrt(next ** 2 - up ** 2) - sigma) / sigma;
      return elementwise(sample, modelOutput, (x, m) => {
        const out = x + (x - (x0.x * x + x0.m * m)) * dt;
        return up > 0 ? out + up * noise() : out;
      });
    },
  };
}

function lcm(config: ResolvedSchedulerConfig, alphas: Float64Array, steps: number): Scheduler {
  const { num_train_timesteps: T, original_inference_steps: original } = config;
  if (original > T || steps > original)
    throw new WinnowError(
      `LCM takes at most original_inference_steps (${original}) steps, itself at most num_train_timesteps (${T}); ${steps} were asked for.`,
      'Choose fewer steps (LCM models sample in 2 to 8).',
    );
  // The schedule the model was distilled on (k−1, 2k−1, …, noisiest first), of which `steps` evenly spaced.
  const k = Math.floor(T / original);
  const origin = Array.from({ length: original }, (_, i) => (original - i) * k - 1);
  const timesteps = Array.from({ length: steps }, (_, i) => origin[Math.floor(i * (original / steps))] as number);
  const clip = clipper(config);
  const sigmaData = 0.5;
  return {
    kind: 'lcm',
    params: {
      ...commonParams('lcm', config),
      clipSample: config.clip_sample,
      originalInferenceSteps: original,
      timestepScaling: config.timestep_scaling,
    },
    timesteps,
    initNoiseSigma: 1,
    scaleModelInput: (sample) => sample,
    step(modelOutput, index, sample, noise) {
      const t = at(timesteps, index);
      const a = alphas[t] as number;
      const { x0 } = ddpmPrediction(config.prediction_type, a);
      // The consistency boundary condition: the output is the sample itself at t = 0 and x0 away from it.
      const scaled = t * config.timestep_scaling;
      const cSkip = sigmaData ** 2 / (scaled ** 2 + sigmaData ** 2);
      const cOut = scaled / Math.sqrt(scaled ** 2 + sigmaData ** 2);
      const next = timesteps[index + 1];
      // Between steps the denoised estimate is noised again to the next timestep; the last one is the result.
      const aNext = next === undefined ? 1 : (alphas[next] as number);
      const sqrtANext = Math.sqrt(aNext);
      const sqrt1mANext = Math.sqrt(1 - aNext);
      return elementwise(sample, modelOutput, (x, m) => {
        const denoised = cOut * clip(x0.x * x + x0.m * m) + cSkip * x;
        return next === undefined ? denoised : sqrtANext * denoised + sqrt1mANext * noise();
      });
    },
  };
}

/** The settings every algorithm here depends on (LCM ignores the spacing: its own schedule sets the timesteps). */
function commonParams(kind: SchedulerKind, config: ResolvedSchedulerConfig): SamplerParams {
  return {
    sampler: kind,
    predictionType: config.prediction_type,
    ...(kind === 'lcm'
      ? {}
      : {
          timestepSpacing: config.timestep_spacing,
          ...(config.timestep_spacing === 'leading' ? { stepsOffset: config.steps_offset } : {}),
        }),
  };
}

/** diffusers' set_timesteps spacings, as training timesteps, noisiest first ('linspace' unrounded). */
function spacedTimesteps(config: ResolvedSchedulerConfig, steps: number): number[] {
  const { num_train_timesteps: T, steps_offset: offset } = config;
  switch (config.timestep_spacing) {
    case 'linspace':
      return linspace(0, T - 1, steps).reverse();
    case 'trailing':
      return Array.from({ length: steps }, (_, i) => roundHalfEven(T - (i * T) / steps) - 1);
    case 'leading': {
      const ratio = Math.floor(T / steps);
      const first = (steps - 1) * ratio + offset;
      if (first > T - 1)
        throw new WinnowError(
          `With steps_offset ${offset}, ${steps} 'leading' steps start at timestep ${first}, past the last (${T - 1}).`,
          'Choose fewer steps.',
        );
      return Array.from({ length: steps }, (_, i) => first - i * ratio);
    }
  }
}

/** x0 and ε as linear combinations x·sample + m·modelOutput at ᾱ = a (the DDPM parameterization). */
function ddpmPrediction(prediction: PredictionType, a: number): { x0: Linear; eps: Linear } {
  const sa = Math.sqrt(a);
  const s1a = Math.sqrt(1 - a);
  switch (prediction) {
    case 'epsilon':
      return { x0: { x: 1 / sa, m: -s1a / sa }, eps: { x: 0, m: 1 } };
    case 'sample':
      return { x0: { x: 0, m: 1 }, eps: { x: 1 / s1a, m: -sa / s1a } };
    case 'v_prediction':
      return { x0: { x: sa, m: -s1a }, eps: { x: s1a, m: sa } };
  }
}

/** x0 as x·sample + m·modelOutput at noise level σ, where sample = x0 + σε (Karras' parameterization). */
function sigmaPrediction(prediction: PredictionType, sigma: number): Linear {
  switch (prediction) {
    case 'epsilon':
      return { x: 1, m: -sigma };
    case 'sample':
      return { x: 0, m: 1 };
    case 'v_prediction':
      return { x: 1 / (sigma ** 2 + 1), m: -sigma / Math.sqrt(sigma ** 2 + 1) };
  }
}

interface Linear {
  readonly x: number;
  readonly m: number;
}

function clipper(config: ResolvedSchedulerConfig): (v: number) => number {
  const r = config.clip_sample_range;
  return config.clip_sample ? (v) => Math.min(r, Math.max(-r, v)) : (v) => v;
}

/** out[j] = f(sample[j], modelOutput[j]), as a new array. */
function elementwise(
  sample: Float32Array,
  modelOutput: Float32Array,
  f: (x: number, m: number) => number,
): Float32Array<ArrayBuffer> {
  if (modelOutput.length !== sample.length)
    throw new RangeError(`The model output has ${modelOutput.length} values but the sample ${sample.length}.`);
  const out = new Float32Array(sample.length);
  for (let j = 0; j < out.length; j++) out[j] = f(sample[j] as number, modelOutput[j] as number);
  return out;
}

function at(values: readonly number[], index: number): number {
  const v = values[index];
  if (v === undefined) throw new RangeError(`Step ${index} is outside the ${values.length} steps of this run.`);
  return v;
}

/** numpy's linspace (endpoint included): start + i·step, the last exactly `stop` (a single value is `start`). */
function linspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : start + i * step));
}

/** numpy's round: halves go to the even neighbour (62.5 → 62), for the non-negative timesteps here. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** np.interp over integer abscissae 0..n−1, clamped at both ends. */
function interpolate(table: Float64Array, t: number): number {
  const last = table.length - 1;
  const lo = Math.min(last, Math.max(0, Math.floor(t)));
  const hi = Math.min(last, lo + 1);
  const w = Math.min(1, Math.max(0, t - lo));
  return (table[lo] as number) * (1 - w) + (table[hi] as number) * w;
}
