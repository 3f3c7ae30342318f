/**
 * Seeded randomness for reproducible generation: the same seed gives the same noise on every
 * machine and every run. SplitMix64 over BigInt would be slow; this is mulberry32 (32-bit state,
 * full period 2^32), ample for noise images and perturbation directions.
 */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Standard normal samples (Box–Muller) from a seeded stream, one at a time: each uniform pair gives
 * r·cos then r·sin.
 */
export function gaussianStream(seed: number): () => number {
  const uniform = seededUniform(seed);
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const v = spare;
      spare = undefined;
      return v;
    }
    const r = Math.sqrt(-2 * Math.log(1 - uniform())); // 1 − u ∈ (0, 1]: log is finite
    const angle = 2 * Math.PI * uniform();
    spare = r * Math.sin(angle);
    return r * Math.cos(angle);
  };
}

/** Fills `out` with the first `out.length` samples of `gaussianStream(seed)`. */
export function fillGaussian(out: Float32Array, seed: number): Float32Array {
  const next = gaussianStream(seed);
  for (let i = 0; i < out.length; i++) out[i] = next();
  return out;
}
