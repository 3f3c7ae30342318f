import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { constant, FLOAT, INT64, node, tensorValue } from '../learn/onnxGraph.ts';
import type { DdimStep, DdimStepCoefficients } from './ddim.ts';
import { declaredType } from './onnxSession.ts';

const { onnx } = onnxProto;
type Graph = onnxProto.onnx.IGraphProto;
type ValueInfo = onnxProto.onnx.IValueInfoProto;

/**
 * One DDIM step as one onnxruntime graph built around an ε-prediction denoiser (inputs x, t, cond;
 * output eps), so that a GPU provider keeps the whole step on the device and only x crosses to the
 * host between steps:
 *
 *   ε = ε_u + g·(ε_c − ε_u)                        (ε_c, ε_u: the denoiser on [x, x], [cond, uncond], one batch of 2B)
 *   x0 = clip((x − √(1−ᾱ)·ε) / √ᾱ, −1, 1)
 *   ε' = (x − √ᾱ·x0) / √(1−ᾱ)                      (ε re-derived from the clipped x0)
 *   x_prev = √ᾱ_prev·x0 + √(1−ᾱ_prev)·ε'
 *
 * The timestep, g and the four square roots are scalar inputs, so one graph serves every step. The
 * unguided variant (g = 1) runs the denoiser on [x] and [cond] only.
 */
export const DDIM_STEP_INPUTS = {
  x: 'x_t',
  t: 't',
  cond: 'cond',
  uncond: 'uncond',
  guidanceScale: 'guidance_scale',
  sqrtAlphaBar: 'sqrt_alpha_bar',
  sqrtOneMinusAlphaBar: 'sqrt_one_minus_alpha_bar',
  sqrtAlphaBarPrev: 'sqrt_alpha_bar_prev',
  sqrtOneMinusAlphaBarPrev: 'sqrt_one_minus_alpha_bar_prev',
} as const;
export const DDIM_STEP_OUTPUT = 'x_prev';

/** Every name of the denoiser's graph gets this prefix, so none can clash with the step's own. */
const SCOPE = 'denoiser/';

/** Prefixes every value, initialiser and node name of a graph and of its subgraphs. */
function scope(graph: Graph): void {
  const rename = (name: string | null | undefined) => (name ? SCOPE + name : '');
  for (const n of graph.node ?? []) {
    n.input = (n.input ?? []).map(rename);
    n.output = (n.output ?? []).map(rename);
    if (n.name) n.name = rename(n.name);
    for (const a of n.attribute ?? []) for (const g of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) scope(g);
  }
  for (const t of graph.initializer ?? []) t.name = rename(t.name);
  for (const s of graph.sparseInitializer ?? []) for (const t of [s.values, s.indices]) if (t) t.name = rename(t.name);
  for (const v of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])])
    v.name = rename(v.name);
  for (const q of graph.quantizationAnnotation ?? []) q.tensorName = rename(q.tensorName);
}

const elemType = (v: ValueInfo) => v.type?.tensorType?.elemType;
const rank = (v: ValueInfo) => v.type?.tensorType?.shape?.dim?.length;

/**
 * The fused step model for a denoiser's ONNX bytes: the denoiser's nodes and initialisers unchanged
 * (renamed into their own scope), with the guidance and the update around them, in the denoiser's
 * opset. Throws an Error saying what the denoiser lacks when it is not one Winnow can wrap.
 */
export function ddimStepModel(denoiser: Uint8Array, guided: boolean): Uint8Array {
  const model = onnx.ModelProto.decode(denoiser);
  const graph = model.graph;
  if (!graph) throw new Error('it holds no graph');
  const opset = Number(model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0);
  if (opset < 11) throw new Error(`its opset is ${opset}; the DDIM step needs 11 or later`);
  const [nodes, initializer, outputs] = [graph.node ?? [], graph.initializer ?? [], graph.output ?? []];
  const initialisers = new Set(initializer.map((t) => t.name));
  const inputs = (graph.input ?? []).filter((v) => !initialisers.has(v.name));
  const describe = `it has inputs ${inputs.map((v) => v.name).join(', ')}; outputs ${outputs.map((v) => v.name).join(', ')}`;
  const find = (list: ValueInfo[], name: string, what: string) => {
    const found = list.find((v) => v.name === name);
    if (!found) throw new Error(`it lacks ${what} "${name}" (${describe})`);
    return found;
  };
  const [x, t, cond] = ['x', 't', 'cond'].map((n) => find(inputs, n, 'input')) as [ValueInfo, ValueInfo, ValueInfo];
  const eps = find(outputs, 'eps', 'output');
  if (inputs.length !== 3) throw new Error(`it takes inputs other than x, t and cond (${describe})`);
  if ([x, cond, eps].some((v) => elemType(v) !== FLOAT)) throw new Error('its x, cond and eps are not all float32');
  if (elemType(t) !== FLOAT && elemType(t) !== INT64) throw new Error('its timestep t is neither float32 nor int64');
  if (rank(t) !== 0 && rank(t) !== 1) throw new Error(`its timestep t has rank ${rank(t)}, not 0 or 1 ([batch])`);

  scope(graph);
  const I = DDIM_STEP_INPUTS;
  const d = (name: string) => SCOPE + name;
  const scalar = (name: string, type = FLOAT) => tensorValue(name, type, []);
  const guidance = guided
    ? [
        // The conditional half first; ε_c and ε_u are the two halves of the denoiser's batch.
        node('Shape', [I.x], ['x_shape']),
        node('Slice', ['x_shape', 'zero', 'one'], ['batch']),
        node('Slice', [d('eps'), 'zero', 'batch', 'zero'], ['eps_cond']),
        node('Slice', [d('eps'), 'batch', 'rows', 'zero'], ['eps_uncond']),
        node('Sub', ['eps_cond', 'eps_uncond'], ['eps_difference']),
        node('Mul', [I.guidanceScale, 'eps_difference'], ['eps_guidance']),
        node('Add', ['eps_uncond', 'eps_guidance'], ['eps']),
      ]
    : [node('Identity', [d('eps')], ['eps'])];
  graph.node = [
    guided ? node('Concat', [I.x, I.x], [d('x')], { axis: 0 }) : node('Identity', [I.x], [d('x')]),
    guided ? node('Concat', [I.cond, I.uncond], [d('cond')], { axis: 0 }) : node('Identity', [I.cond], [d('cond')]),
    node('Shape', [d('x')], ['rows_shape']),
    node('Slice', ['rows_shape', 'zero', 'one'], ['rows']),
    rank(t) === 1 ? node('Expand', [I.t, 'rows'], [d('t')]) : node('Identity', [I.t], [d('t')]),
    ...nodes,
    ...guidance,
    // x0 = clip((x − √(1−ᾱ)·ε) / √ᾱ, −1, 1)
    node('Mul', [I.sqrtOneMinusAlphaBar, 'eps'], ['eps_scaled']),
    node('Sub', [I.x, 'eps_scaled'], ['x0_scaled']),
    node('Div', ['x0_scaled', I.sqrtAlphaBar], ['x0_unclipped']),
    node('Clip', ['x0_unclipped', 'minus_one', 'plus_one'], ['x0']),
    // ε' = (x − √ᾱ·x0) / √(1−ᾱ)
    node('Mul', [I.sqrtAlphaBar, 'x0'], ['x0_scaled_back']),
    node('Sub', [I.x, 'x0_scaled_back'], ['eps_clipped_scaled']),
    node('Div', ['eps_clipped_scaled', I.sqrtOneMinusAlphaBar], ['eps_clipped']),
    // x_prev = √ᾱ_prev·x0 + √(1−ᾱ_prev)·ε'
    node('Mul', [I.sqrtAlphaBarPrev, 'x0'], ['x_prev_signal']),
    node('Mul', [I.sqrtOneMinusAlphaBarPrev, 'eps_clipped'], ['x_prev_noise']),
    node('Add', ['x_prev_signal', 'x_prev_noise'], [DDIM_STEP_OUTPUT]),
  ];
  graph.initializer = [
    ...initializer,
    constant('zero', [1], [0], INT64),
    constant('one', [1], [1], INT64),
    constant('minus_one', [], [-1]),
    constant('plus_one', [], [1]),
  ] as typeof graph.initializer;
  graph.input = [
    { name: I.x, type: x.type },
    scalar(I.t, elemType(t) ?? FLOAT),
    { name: I.cond, type: cond.type },
    ...(guided ? [{ name: I.uncond, type: cond.type }, scalar(I.guidanceScale)] : []),
    scalar(I.sqrtAlphaBar),
    scalar(I.sqrtOneMinusAlphaBar),
    scalar(I.sqrtAlphaBarPrev),
    scalar(I.sqrtOneMinusAlphaBarPrev),
  ];
  graph.output = [{ name: DDIM_STEP_OUTPUT, type: x.type }];
  graph.name = guided ? 'ddim-step-guided' : 'ddim-step';
  return onnx.ModelProto.encode(model).finish();
}

/** What a step session needs to offer: onnxruntime's session, or anything that runs like one. */
export type StepSession = Parameters<typeof declaredType>[0] & {
  run(feeds: ort.InferenceSession.FeedsType): Promise<ort.InferenceSession.ReturnType>;
};

export interface DdimStepBatch {
  readonly batch: number;
  /** One image's shape, e.g. [1, 28, 28]. */
  readonly imageShape: readonly number[];
  /** Conditional and unconditional (or negative) conditionings, flat [batch × dim]. */
  readonly cond: Float32Array;
  readonly uncond: Float32Array;
  readonly guidanceScale: number;
}

/** A batch's step through a session of ddimStepModel (guided or not, as the session was built): one run per step. */
export function ddimStepper(session: StepSession, b: DdimStepBatch): DdimStep {
  const I = DDIM_STEP_INPUTS;
  const scalar = (v: number) => new ort.Tensor('float32', Float32Array.of(v), []);
  const timestep =
    declaredType(session, I.t) === 'int64'
      ? (tau: number) => new ort.Tensor('int64', BigInt64Array.of(BigInt(tau)), [])
      : scalar;
  const conditioning = (c: Float32Array) => new ort.Tensor('float32', c, [b.batch, c.length / b.batch]);
  const fixed: ort.InferenceSession.FeedsType = session.inputNames.includes(I.uncond)
    ? { [I.cond]: conditioning(b.cond), [I.uncond]: conditioning(b.uncond), [I.guidanceScale]: scalar(b.guidanceScale) }
    : { [I.cond]: conditioning(b.cond) };
  return async (x: Float32Array, s: DdimStepCoefficients) => {
    const out = await session.run({
      ...fixed,
      [I.x]: new ort.Tensor('float32', x, [b.batch, ...b.imageShape]),
      [I.t]: timestep(s.timestep),
      [I.sqrtAlphaBar]: scalar(s.sqrtAlphaBar),
      [I.sqrtOneMinusAlphaBar]: scalar(s.sqrtOneMinusAlphaBar),
      [I.sqrtAlphaBarPrev]: scalar(s.sqrtAlphaBarPrev),
      [I.sqrtOneMinusAlphaBarPrev]: scalar(s.sqrtOneMinusAlphaBarPrev),
    });
    return (out[DDIM_STEP_OUTPUT] as ort.Tensor).data as Float32Array;
  };
}
