import { describe, expect, it } from 'vitest';
import { chooseOnValidation, decide } from '../../src/main/learn/acceptance.ts';
import { acquisition } from '../../src/main/learn/acquisition.ts';
import { allocateBudget } from '../../src/main/learn/budget.ts';
import { searchConditioning } from '../../src/main/learn/conditioningSearch.ts';
import { createHead, type SoftmaxHead } from '../../src/main/learn/softmaxHead.ts';
import { confidenceThresholds, confidentMargin } from '../../src/main/learn/labelQuality.ts';
import { decidingKind, defaultRuleFor } from '../../src/shared/runSettings.ts';

const scores = Float32Array.of(0.3, -0.2, -0.04, 0.1, -0.06, 0.5);
const labels = [0, 0, 0, 1, 1, 1];

describe('acceptance rules', () => {
  it('fixed threshold keeps scores at or above it (BSGAL: −0.05)', () => {
    expect(decide({ kind: 'threshold', threshold: -0.05 }, scores, labels).accepted).toEqual([
      true,
      false,
      true,
      true,
      false,
      true,
    ]);
  });

  it('class percentile keeps the top share of each class, so no class goes in or out wholesale', () => {
    // Class 0 scores high, class 1 low: a global rule would take all of 0 and none of 1.
    const s = Float32Array.of(0.9, 0.8, 0.7, 0.6, -0.6, -0.7, -0.8, -0.9);
    const y = [0, 0, 0, 0, 1, 1, 1, 1];
    const { accepted } = decide({ kind: 'class-percentile', keep: 0.5 }, s, y);
    expect(accepted).toEqual([true, true, false, false, true, true, false, false]);
    expect(decide({ kind: 'class-percentile', keep: 0.3 }, s, y).accepted.filter(Boolean)).toHaveLength(4);
  });

  it('dynamic percentile keeps the top share of the last K scores, and carries its window on', () => {
    const first = decide({ kind: 'percentile', keep: 0.5, window: 4 }, scores, labels);
    // The window holds the last 4 scores (−0.04, 0.1, −0.06, 0.5); the top half of them is ≥ 0.1.
    expect(first.window).toEqual(Array.from(scores.slice(2)));
    expect(first.accepted).toEqual([true, false, false, true, false, true]);
    const next = decide({ kind: 'percentile', keep: 0.5, window: 4 }, Float32Array.of(0.2), [0], first.window);
    expect(next.accepted).toEqual([true]);
    expect(next.window).toHaveLength(4);
  });

  it('confident keeps exactly the instances confident learning does not flag, a margin of 0 included', () => {
    // Thresholds: class 0's real images get 0.8 on average, class 1's 0.5, class 2's 0.4.
    const oos = Float32Array.of(0.9, 0.1, 0, 0.7, 0.3, 0, 0.2, 0.5, 0.3, 0.3, 0.5, 0.2, 0.3, 0.3, 0.4, 0.3, 0.3, 0.4);
    const t = confidenceThresholds(oos, [0, 0, 1, 1, 2, 2], 3);
    expect(Array.from(t)).toEqual([expect.closeTo(0.8, 6), expect.closeTo(0.5, 6), expect.closeTo(0.4, 6)]);
    // All of label 0: p rows and what confident learning says of each.
    const p = Float32Array.of(
      ...[0.5, 0.3, 0.2], // nothing confident (0.5 < 0.8, 0.3 < 0.5, 0.2 < 0.4): kept
      ...[0.4, 0.55, 0.05], // class 1 confident, the label not: flagged
      ...[0.85, 0.1, 0.05], // the label confident and most probable: kept
      ...[0.0, 0.3, 0.7], // class 2 confident: flagged
      ...[0.45, 0.1, 0.45], // class 2 confident (0.45 ≥ 0.4), the label not (0.45 < 0.8): flagged
    );
    const margin = confidentMargin(p, [0, 0, 0, 0, 0], t, 3);
    expect(Array.from(margin, (m) => m >= 0)).toEqual([true, false, true, false, false]);
    expect(decide({ kind: 'confident' }, margin, [0, 0, 0, 0, 0]).accepted).toEqual([true, false, true, false, false]);
    // Both confident and equally probable: the label holds (margin exactly 0, kept).
    const tie = confidentMargin(Float32Array.of(0.5, 0.5), [0], Float64Array.of(0.4, 0.4), 2);
    expect(tie[0]).toBe(0);
    expect(decide({ kind: 'confident' }, tie, [0]).accepted).toEqual([true]);
    // The rule reads confident learning's kind whatever the filter; other rules read the filter's.
    expect(decidingKind({ kind: 'confident' }, 'quality')).toBe('confident_margin');
    expect(decidingKind({ kind: 'threshold' }, 'contribution')).toBe('contribution');
    // With no rule given, the default ranking decides by the loop's rule in a run and by the
    // validated rule in one scoring pass; any other kind by its own top share in either.
    expect(defaultRuleFor('quality', 'run')).toEqual({ kind: 'confident' });
    expect(defaultRuleFor('all', 'run')).toEqual({ kind: 'confident' });
    expect(defaultRuleFor('contribution', 'run')).toEqual({ kind: 'class-percentile', keep: 0.7 });
    expect(defaultRuleFor('quality', 'score')).toEqual({ kind: 'validated' });
    expect(defaultRuleFor('contribution', 'score')).toEqual({ kind: 'class-percentile', keep: 0.7 });
  });

  it('rejects an instance whose score is NaN under every rule that reads scores, and ranks the others without it', () => {
    // Class 1's realism could not be computed (fewer than two real images): NaN.
    const s = Float32Array.of(0.9, 0.5, 0.1, NaN, NaN, 0.4, 0.2, NaN);
    const y = [0, 0, 0, 1, 1, 1, 1, 1];
    const kept = (rule: Parameters<typeof decide>[0]) => decide(rule, s, y).accepted;
    expect(kept({ kind: 'class-percentile', keep: 0.5 })).toEqual([
      true,
      true,
      false,
      false,
      false,
      true,
      false,
      false,
    ]);
    expect(kept({ kind: 'top-k', k: 1 })).toEqual([true, false, false, false, false, true, false, false]);
    const percentile = decide({ kind: 'percentile', keep: 0.4, window: 100 }, s, y);
    expect(percentile.accepted).toEqual([true, true, false, false, false, false, false, false]);
    // The window keeps numbers only: a checkpoint (JSON) would turn a NaN into null, then 0.
    expect(percentile.window).toEqual(Array.from(Float32Array.of(0.9, 0.5, 0.1, 0.4, 0.2)));
    expect(kept({ kind: 'threshold', threshold: -1 })).toEqual(Array.from(s, (v) => !Number.isNaN(v)));
  });

  it('a share keeps keep·n rounded up, not one more where the product rounds just past a whole number', () => {
    // 0.55 × 100 = 55.00000000000001 and 0.07 × 100 = 7.000000000000001 in floating point.
    const hundred = Float32Array.from({ length: 100 }, (_, i) => i);
    const one = new Array(100).fill(0);
    for (const [keep, count] of [
      [0.55, 55],
      [0.07, 7],
      [0.7, 70],
      [0.555, 56],
    ] as const) {
      expect(decide({ kind: 'class-percentile', keep }, hundred, one).accepted.filter(Boolean), `${keep}`).toHaveLength(
        count,
      );
      expect(
        decide({ kind: 'percentile', keep, window: 100 }, hundred, one).accepted.filter(Boolean),
        `${keep}`,
      ).toHaveLength(count);
    }
  });

  it('top-k keeps the k best of each class', () => {
    expect(decide({ kind: 'top-k', k: 1 }, scores, labels).accepted).toEqual([true, false, false, false, false, true]);
  });

  it('the baselines: all keeps everything; random keeps a seeded share regardless of score', () => {
    expect(decide({ kind: 'all' }, scores, labels).accepted.every(Boolean)).toBe(true);
    const many = new Float32Array(1000);
    const random = decide({ kind: 'random', keep: 0.3, seed: 1 }, many, new Array(1000).fill(0)).accepted;
    expect(random.filter(Boolean).length).toBeGreaterThan(250);
    expect(random.filter(Boolean).length).toBeLessThan(350);
    expect(decide({ kind: 'random', keep: 0.3, seed: 1 }, many, new Array(1000).fill(0)).accepted).toEqual(random);
  });
});

describe('budget', () => {
  it('gives weaker classes more images, honours weights, and adds up exactly', () => {
    const counts = allocateBudget(100, [0.9, 0.5, 0.5], [1, 1, 0]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(100);
    expect(counts[1]).toBeGreaterThan(counts[0] as number);
    expect(counts[2]).toBe(0);
    const even = allocateBudget(20, new Array(10).fill(0.5), new Array(10).fill(1));
    expect(even).toEqual(new Array(10).fill(2));
    expect(
      allocateBudget(37, [0.1, 0.3, 0.5, 0.7, 0.9, 0.2, 0.4], new Array(7).fill(1)).reduce((a, b) => a + b, 0),
    ).toBe(37);
  });
});

describe('acquisition and conditioning search', () => {
  it('entropy, margin and least confidence are highest where the head is least sure', () => {
    const head = createHead(2, 1);
    head.weights.set([4, 0, -4, 0]); // class 0 for h > 0
    const features = Float32Array.of(2, 0.01, -2);
    for (const kind of ['entropy', 'margin', 'least-confidence'] as const) {
      const values = acquisition(kind, head, features, () => 0);
      expect(values[1]).toBeGreaterThan(values[0] as number);
      expect(values[1]).toBeGreaterThan(values[2] as number);
    }
  });

  it('finds perturbations inside the ε-ball that raise the acquisition value', async () => {
    const base = new Float32Array(8);
    const target = Float32Array.of(1, 0, 0, 0, 0, 0, 0, 0);
    const evaluate = async (conds: readonly Float32Array[]) =>
      conds.map((c) => c.reduce((s, v, i) => s + v * (target[i] as number), 0));
    const result = await searchConditioning({
      base,
      epsilon: 0.5,
      candidates: 8,
      keep: 2,
      iterations: 4,
      seed: 3,
      evaluate,
    });
    expect(result.probes).toBe(8 + 4 * 2);
    for (const c of result.conditionings) expect(Math.hypot(...c)).toBeLessThanOrEqual(0.5 + 1e-6);
    const start = await evaluate(result.conditionings.slice(0, 1));
    expect(start[0]).toBeGreaterThan(0.25); // well along the direction that pays
  });
});

describe('the validated rule’s choice', () => {
  // Ten validation images, one-hot features, so a head can be made to predict any class per image.
  const n = 10;
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  const validation = {
    features: Float32Array.from({ length: n * n }, (_, k) => (Math.floor(k / n) === k % n ? 1 : 0)),
    labels,
  };
  /** A head right on every image but those listed. */
  const headWrongOn = (...wrong: number[]): SoftmaxHead => {
    const weights = new Float32Array(2 * (n + 1));
    labels.forEach((y, i) => (weights[(wrong.includes(i) ? 1 - y : y) * (n + 1) + i] = 1));
    return { classes: 2, dim: n, weights };
  };
  const trial = (keep: number, head: SoftmaxHead) => ({
    rule: { kind: 'class-percentile' as const, keep },
    accepted: [],
    head,
  });

  it('says each trial’s accuracy and keeps the best when it is ahead by more than one SE', () => {
    // The best is right where the first is wrong on 2 images and never the other way:
    // difference 0.2, its SE √(0.178 / 10) = 0.13.
    const { chosen, accuracies } = chooseOnValidation(
      [trial(0.9, headWrongOn(0, 1, 2)), trial(0.8, headWrongOn(0)), trial(0.7, headWrongOn(0, 5))],
      validation,
    );
    expect(accuracies).toEqual([0.7, 0.9, 0.8]);
    expect(chosen.rule.keep).toBe(0.8);
  });

  it('keeps the earliest trial within one SE of the best (the default comes first)', () => {
    // The best is right on 2 images the first misses and wrong on 1 it gets: difference 0.1, SE 0.18.
    const { chosen } = chooseOnValidation(
      [trial(0.9, headWrongOn(0, 1)), trial(0.8, headWrongOn(0, 1, 2, 3)), trial(0.7, headWrongOn(2))],
      validation,
    );
    expect(chosen.rule.keep).toBe(0.9);
  });

  it('gives an exact tie to the earlier trial', () => {
    const { chosen } = chooseOnValidation([trial(0.9, headWrongOn(3)), trial(0.8, headWrongOn(4))], validation);
    expect(chosen.rule.keep).toBe(0.9);
  });

  it('holds the run’s last choice while it is within one SE of the best, and leaves it when it is not', () => {
    // As above: the first (0.9) is within one SE of the best (0.7); the held third is the best.
    const close = [trial(0.9, headWrongOn(0, 1)), trial(0.8, headWrongOn(0, 1, 2, 3)), trial(0.7, headWrongOn(2))];
    expect(chooseOnValidation(close, validation, 2).chosen.rule.keep).toBe(0.7);
    const held = [trial(0.9, headWrongOn(2)), trial(0.8, headWrongOn(0, 1, 2, 3)), trial(0.7, headWrongOn(0, 1))];
    expect(chooseOnValidation(held, validation, 2).chosen.rule.keep).toBe(0.7);
    // More than one SE behind the best (as in the first test): the earliest within one SE instead.
    const far = [trial(0.9, headWrongOn(0, 1, 2)), trial(0.8, headWrongOn(0)), trial(0.7, headWrongOn(0, 5))];
    expect(chooseOnValidation(far, validation, 0).chosen.rule.keep).toBe(0.8);
  });
});
