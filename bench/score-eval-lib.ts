// The arithmetic of bench/score-eval.ts, apart from its processes and files so that it is tested
// (test/bench/scoreEvalLib.test.ts): the raw-pixel baseline, and the leave-one-dataset-out
// choice of settings.
import { classPrototypes, prototypeSimilarity } from '../src/main/learn/labelQuality.ts';
import type { TunableSetting } from './score-eval-settings.ts';
import { mean } from './stats.ts';

/** Setting name → value; a setting left out is at Winnow's default. */
export type Combo = Readonly<Record<string, number>>;

/** A stable name for a combo, the key of its runs ('' = every setting at Winnow's default). */
export function comboKey(combo: Combo, settings: readonly TunableSetting[]): string {
  return settings
    .filter((s) => combo[s.name] !== undefined && combo[s.name] !== s.defaultValue)
    .map((s) => `${s.flag.replace(/^--/, '')}=${combo[s.name]}`)
    .join(',');
}

/** The `winnow score` arguments that set a combo. */
export function comboFlags(combo: Combo, settings: readonly TunableSetting[]): string[] {
  return settings.flatMap((s) => (combo[s.name] === undefined ? [] : [s.flag, String(combo[s.name])]));
}

/** The sweep: every setting at default, then each setting's other candidates one at a time. */
export function sweepCombos(settings: readonly TunableSetting[]): Combo[] {
  return [
    {},
    ...settings.flatMap((s) => s.candidates.filter((v) => v !== s.defaultValue).map((v) => ({ [s.name]: v }))),
  ];
}

export interface LeaveOneOutChoice {
  /** Held-out dataset → setting name → the value chosen on the other datasets. */
  readonly chosen: Record<string, Record<string, number>>;
  /** Held-out dataset → setting name → candidate → mean AUROC of `selectedBy` on the other datasets. */
  readonly evidence: Record<string, Record<string, Record<string, number>>>;
}

/**
 * For each dataset, each setting's value is the candidate whose sweep run (that setting at the
 * candidate, the others at default) has the best mean AUROC of the setting's `selectedBy` kind over
 * every run of every OTHER dataset; ties go to the default, then to the smaller value. `aurocs`
 * gives the AUROCs (every noise rate and seed) of a kind on a dataset under a combo. With one
 * dataset there is nothing to choose on: the default stays.
 */
export function chooseLeaveOneOut(
  settings: readonly TunableSetting[],
  datasets: readonly string[],
  aurocs: (dataset: string, combo: Combo, kind: string) => readonly number[],
): LeaveOneOutChoice {
  const chosen: LeaveOneOutChoice['chosen'] = {};
  const evidence: LeaveOneOutChoice['evidence'] = {};
  for (const heldOut of datasets) {
    chosen[heldOut] = {};
    evidence[heldOut] = {};
    const others = datasets.filter((d) => d !== heldOut);
    for (const s of settings) {
      const means = new Map<number, number>();
      for (const v of s.candidates) {
        const values = others.flatMap((d) => aurocs(d, v === s.defaultValue ? {} : { [s.name]: v }, s.selectedBy));
        const finite = values.filter(Number.isFinite);
        if (finite.length > 0) means.set(v, mean(finite));
      }
      evidence[heldOut][s.name] = Object.fromEntries([...means].map(([v, m]) => [String(v), m]));
      let best = s.defaultValue;
      for (const [v, m] of [...means].sort((a, b) => a[0] - b[0])) if (m > (means.get(best) ?? -Infinity)) best = v;
      chosen[heldOut][s.name] = best;
    }
  }
  return { chosen, evidence };
}

/**
 * The no-model baseline: the cosine between an image's raw pixels and the mean raw image of the
 * real images of its label (higher = more like its class). `pixels` are row-major, `dim` values each.
 */
export function pixelPrototypeScores(
  real: { readonly pixels: Float32Array; readonly labels: ArrayLike<number> },
  pool: { readonly pixels: Float32Array; readonly labels: ArrayLike<number> },
  classes: number,
  dim: number,
): Float32Array {
  // Winnow's own prototype score (labelQuality.ts), on raw pixels instead of features.
  const prototypes = classPrototypes({ features: real.pixels, labels: Int32Array.from(real.labels) }, classes, dim);
  return prototypeSimilarity(prototypes, { features: pool.pixels, labels: Int32Array.from(pool.labels) }, dim);
}
