import { fillGaussian } from '../models/random.ts';

/**
 * GALOT's conditioning optimisation for a black-box generator: a zeroth-order random search for
 * perturbations δ with ‖δ‖ ≤ ε that maximise an acquisition value of the images they produce. The
 * generator is only ever run forward, so this works for any ONNX model.
 */
export interface SearchRequest {
  readonly base: Float32Array;
  readonly epsilon: number;
  /** Random starting points on the ε-sphere. */
  readonly candidates: number;
  /** How many to keep (and return). */
  readonly keep: number;
  /** Refinement steps: each kept point is moved by ε/2 in a random direction, projected back into the ball. */
  readonly iterations: number;
  readonly seed: number;
  /** Acquisition value of each conditioning (by generating a probe image and asking the head). */
  readonly evaluate: (conditionings: readonly Float32Array[]) => Promise<readonly number[]>;
}

export interface SearchResult {
  readonly conditionings: readonly Float32Array[];
  readonly values: readonly number[];
  readonly probes: number;
}

function direction(dim: number, seed: number, length: number): Float32Array {
  const u = fillGaussian(new Float32Array(dim), seed);
  let norm = 0;
  for (const v of u) norm += v * v;
  const scale = length / Math.sqrt(norm);
  return u.map((v) => v * scale);
}

/** Clips δ to the ε-ball. */
function project(delta: Float32Array, epsilon: number): Float32Array {
  let norm = 0;
  for (const v of delta) norm += v * v;
  norm = Math.sqrt(norm);
  return norm <= epsilon ? delta : delta.map((v) => (v * epsilon) / norm);
}

export async function searchConditioning(r: SearchRequest): Promise<SearchResult> {
  const dim = r.base.length;
  const add = (delta: Float32Array) => r.base.map((b, i) => b + (delta[i] as number));
  let pool = Array.from({ length: r.candidates }, (_, k) => direction(dim, r.seed + k, r.epsilon));
  let values = await r.evaluate(pool.map(add));
  let probes = pool.length;
  const best = () =>
    pool
      .map((delta, k) => ({ delta, value: values[k] as number }))
      .sort((a, b) => b.value - a.value)
      .slice(0, r.keep);
  for (let step = 0; step < r.iterations; step++) {
    const kept = best();
    const moved = kept.map(({ delta }, k) =>
      project(
        delta.map((v, i) => v + (direction(dim, r.seed + 7919 * (step + 1) + k, r.epsilon / 2)[i] as number)),
        r.epsilon,
      ),
    );
    const movedValues = await r.evaluate(moved.map(add));
    probes += moved.length;
    pool = [...kept.map((k) => k.delta), ...moved];
    values = [...kept.map((k) => k.value), ...movedValues];
  }
  const final = best();
  return { conditionings: final.map((f) => add(f.delta)), values: final.map((f) => f.value), probes };
}
