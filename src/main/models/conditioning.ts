import { fillGaussian } from './random.ts';

/**
 * Adds a perturbation of L2 norm `epsilon` in a direction drawn from `directionSeed` (uniform on the
 * sphere): GALOT's ε-ball around a conditioning. ε = 0 returns a copy.
 */
export function perturb(conditioning: Float32Array, epsilon: number, directionSeed: number): Float32Array {
  const out = Float32Array.from(conditioning);
  if (epsilon === 0) return out;
  const direction = fillGaussian(new Float32Array(conditioning.length), directionSeed);
  let norm = 0;
  for (const d of direction) norm += d * d;
  norm = Math.sqrt(norm);
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + (epsilon * (direction[i] as number)) / norm;
  return out;
}

/** The weighted mean of conditioning vectors: how a prompt naming several classes mixes them. */
export function mix(vectors: readonly Float32Array[], weights?: readonly number[]): Float32Array {
  const w = weights ?? vectors.map(() => 1 / vectors.length);
  const out = new Float32Array(vectors[0]?.length ?? 0);
  vectors.forEach((v, k) => {
    for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + (w[k] as number) * (v[i] as number);
  });
  return out;
}
