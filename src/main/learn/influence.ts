import { affineStack, forEachAffineChunk } from './affineProducts.ts';
import { type CrossFittedHead, foldTrainingSet, type HeadFit, indices, logisticProblem, rowsOf } from './headFit.ts';
import { INFLUENCE_DEFAULTS } from './learnDefaults.ts';
import { lossEstimates } from './lossEstimate.ts';
import {
  classBalancedWeights,
  hessianVectorProduct,
  type LogisticProblem,
  probabilities,
} from './logisticObjective.ts';
import type { FeatureSet } from './softmaxHead.ts';
import { forEachStandardizedChunk } from './standardizer.ts';

/**
 * Contribution estimated right (issue #11, 2): the influence of a synthetic instance on the
 * held-out real loss of the cross-fitted linear head.
 *
 * Up-weighting instance i by ε in fold k's training objective J_k moves its optimum by
 * dŴ/dε = −H_k⁻¹·∇ℓ_i (H_k the Hessian of J_k at Ŵ_k), so the held-out real loss L_k (the class-
 * balanced mean loss on fold k, which J_k never saw) changes by dL_k/dε = −∇L_kᵀ·H_k⁻¹·∇ℓ_i. The
 * score is its negation averaged over the folds, so that higher = keep (the instance lowers the
 * real loss):
 *   influence_i = (1/K)·Σ_k u_kᵀ·g_ik,   u_k = (H_k + δI)⁻¹·∇L_k,   g_ik = (p_ik − e_{y_i}) ⊗ [x_i; 1].
 * Each u_k is one conjugate-gradient solve with exact Hessian-vector products, done once; then an
 * instance costs K·2·C·(D+1) multiply-adds, so it scales to hundreds of thousands of instances.
 * ε is in units of the whole real set (J's sample weights sum to 1).
 *
 * The class-conditional variant replaces ∇L_k by the gradient of the held-out loss on the real
 * images of the instance's pseudo-label class only: "does this instance help its own class?".
 */

export interface InfluenceOptions {
  readonly damping?: number;
  readonly cgTolerance?: number;
  readonly cgMaxIterations?: number;
  /** Also solve one system per class for the class-conditional variant (C more solves per fold). */
  readonly classConditional?: boolean;
  /**
   * The solutions of a nearby problem (the loop's previous round, or the other half of its
   * accepted instances), each solve's starting point: the same answer in fewer iterations.
   */
  readonly warmStart?: InfluenceReference;
}

/** The solved directions of every fold: what scoring instances needs. */
export interface InfluenceReference {
  /** u_k, C × (D+1) each. */
  readonly directions: readonly Float64Array[];
  /** u_{k,c}: [fold][class], present when asked for. */
  readonly classDirections?: readonly (readonly Float64Array[])[];
  /** The largest relative CG residual of all solves (≤ cgTolerance unless the cap was hit). */
  readonly residual: number;
}

export function influenceReference(fit: CrossFittedHead, options: InfluenceOptions = {}): InfluenceReference {
  const o = { ...INFLUENCE_DEFAULTS, ...options };
  const { classes: C, dim: D } = fit;
  let residual = 0;
  const warm = o.warmStart?.directions.length === fit.foldHeads.length ? o.warmStart : undefined;
  const directions: Float64Array[] = [];
  const classDirections: Float64Array[][] = [];
  fit.foldHeads.forEach((headFit, k) => {
    const held = indices(fit.folds, (f) => f === k);
    const problem = logisticProblem(foldTrainingSet(fit, k), C, D, headFit.lambda);
    const probs = probabilities(headFit.weights, problem.features, D, C);
    const solve = (b: Float64Array, start: Float64Array | undefined): Float64Array => {
      const { x, relativeResidual } = conjugateGradient(
        problem,
        probs,
        b,
        o.damping,
        o.cgTolerance,
        o.cgMaxIterations,
        start,
      );
      residual = Math.max(residual, relativeResidual);
      return x;
    };
    const { features: heldFeatures, labels: heldLabels } = rowsOf(fit.real, held, D);
    directions.push(
      solve(lossGradient(headFit, heldFeatures, heldLabels, classBalancedWeights(heldLabels, C)), warm?.directions[k]),
    );
    if (o.classConditional) {
      const perClass: Float64Array[] = [];
      for (let c = 0; c < C; c++) {
        const count = heldLabels.filter((y) => y === c).length;
        const w = Float64Array.from(heldLabels, (y) => (y === c ? 1 / count : 0));
        perClass.push(
          count === 0
            ? new Float64Array((D + 1) * C)
            : solve(lossGradient(headFit, heldFeatures, heldLabels, w), warm?.classDirections?.[k]?.[c]),
        );
      }
      classDirections.push(perClass);
    }
  });
  return o.classConditional ? { directions, classDirections, residual } : { directions, residual };
}

/** Influence of each instance of `set` (raw features, pseudo-labels); higher = keep. */
export function influenceScores(
  fit: CrossFittedHead,
  reference: InfluenceReference,
  set: FeatureSet,
): Promise<Float32Array> {
  return foldAveraged(
    fit,
    reference.directions.map((u) => [u]),
    set,
  );
}

/** The class-conditional influence; needs a reference solved with `classConditional: true`. */
export function classConditionalInfluenceScores(
  fit: CrossFittedHead,
  reference: InfluenceReference,
  set: FeatureSet,
): Promise<Float32Array> {
  if (reference.classDirections === undefined)
    throw new Error('The influence reference was solved without classConditional.');
  return foldAveraged(fit, reference.classDirections, set);
}

/**
 * BSGAL's look-ahead (lossEstimate.ts) on the cross-fitted head: fold k's head takes the step on
 * the instance and is measured on fold k's held-out real images (standardised features), averaged
 * over the folds by their size, i.e. the mean over all real images of their own fold's change.
 * It costs O(real images) per instance, unlike the influence.
 */
export async function crossFittedLookahead(fit: CrossFittedHead, set: FeatureSet, eta?: number): Promise<Float32Array> {
  const { dim: D } = fit;
  const out = new Float32Array(set.labels.length);
  const total = fit.real.labels.length;
  const heldOut = fit.foldHeads.map((_, k) =>
    rowsOf(
      fit.real,
      indices(fit.folds, (f) => f === k),
      D,
    ),
  );
  await forEachStandardizedChunk(fit.standardizer, set, async (start, chunk) => {
    for (const [k, real] of heldOut.entries()) {
      const gain = await lossEstimates(fit.foldHeads[k]!.head, real, chunk, eta);
      const weight = real.labels.length / total;
      gain.forEach((g, i) => (out[start + i]! += g * weight));
    }
  });
  return out;
}

/**
 * (1/K)·Σ_k (p_ik − e_{y_i})ᵀ·U·[x_i; 1], p_ik from fold k's head, U = directions[k][0] or, when
 * a fold has one direction per class, directions[k][y_i]. The logits and U·[x_i; 1] of every fold
 * come from one Gemm over the stack [W_1, U_1…, W_2, U_2…, …]; the rest is K·C per instance.
 */
async function foldAveraged(
  fit: CrossFittedHead,
  directions: readonly (readonly Float64Array[])[],
  set: FeatureSet,
): Promise<Float32Array> {
  const { classes: C } = fit;
  const K = fit.foldHeads.length;
  const perFold = directions[0]!.length;
  const block = C * (1 + perFold);
  const stack = affineStack(
    fit.standardizer,
    fit.foldHeads.flatMap((f, k) => [f.weights, ...directions[k]!]),
  );
  const out = new Float32Array(set.labels.length);
  const z = new Float64Array(C);
  await forEachAffineChunk(set.features, stack, (start, rows, Y) => {
    const M = stack.columns;
    for (let r = 0; r < rows; r++) {
      const i = start + r;
      const y = set.labels[i] as number;
      let total = 0;
      for (let k = 0; k < K; k++) {
        const o = r * M + k * block;
        const u = o + C * (1 + (perFold === 1 ? 0 : y));
        let max = -Infinity;
        for (let c = 0; c < C; c++) if ((Y[o + c] as number) > max) max = Y[o + c] as number;
        let sum = 0;
        for (let c = 0; c < C; c++) sum += z[c] = Math.exp((Y[o + c] as number) - max);
        let score = 0;
        for (let c = 0; c < C; c++) score += ((z[c] as number) / sum - (c === y ? 1 : 0)) * (Y[u + c] as number);
        total += score;
      }
      out[i] = total / K;
    }
  });
  return out;
}

/** Σ_v w_v (p_v − e_{y_v}) ⊗ [x_v; 1] under the fit's weights (standardised features). */
function lossGradient(fit: HeadFit, features: Float32Array, labels: Int32Array, weights: Float64Array): Float64Array {
  const { classes: C, dim: D } = fit.head;
  const D1 = D + 1;
  const p = probabilities(fit.weights, features, D, C);
  const g = new Float64Array(C * D1);
  for (let v = 0; v < labels.length; v++) {
    const s = weights[v] as number;
    if (s === 0) continue;
    for (let c = 0; c < C; c++) {
      const r = s * ((p[v * C + c] as number) - (c === labels[v] ? 1 : 0));
      for (let d = 0; d < D; d++) g[c * D1 + d]! += r * (features[v * D + d] as number);
      g[c * D1 + D]! += r;
    }
  }
  return g;
}

/** Solves (H + δI)·x = b by conjugate gradients (H positive semi-definite, so H + δI is definite). */
export function conjugateGradient(
  problem: LogisticProblem,
  probs: Float64Array,
  b: Float64Array,
  damping: number,
  tolerance: number,
  maxIterations: number,
  start?: Float64Array,
): { x: Float64Array; iterations: number; relativeResidual: number } {
  const size = b.length;
  const Ap = new Float64Array(size);
  const bNorm = Math.sqrt(dot(b, b));
  if (bNorm === 0) return { x: new Float64Array(size), iterations: 0, relativeResidual: 0 };
  // From x₀ (a warm start) the residual is r₀ = b − A·x₀.
  const x = start?.length === size ? Float64Array.from(start) : new Float64Array(size);
  const r = Float64Array.from(b);
  if (start?.length === size) {
    hessianVectorProduct(problem, probs, x, Ap, damping);
    for (let k = 0; k < size; k++) r[k]! -= Ap[k] as number;
  }
  const p = Float64Array.from(r);
  let rr = dot(r, r);
  let iterations = 0;
  while (Math.sqrt(rr) > tolerance * bNorm && iterations < maxIterations) {
    hessianVectorProduct(problem, probs, p, Ap, damping);
    const alpha = rr / dot(p, Ap);
    for (let k = 0; k < size; k++) {
      x[k]! += alpha * (p[k] as number);
      r[k]! -= alpha * (Ap[k] as number);
    }
    const next = dot(r, r);
    const beta = next / rr;
    rr = next;
    for (let k = 0; k < size; k++) p[k] = (r[k] as number) + beta * (p[k] as number);
    iterations++;
  }
  return { x, iterations, relativeResidual: Math.sqrt(rr) / bNorm };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (a[k] as number) * (b[k] as number);
  return s;
}
