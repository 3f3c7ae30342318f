import { describe, expect, it } from 'vitest';
import { decide } from '../../src/main/learn/acceptance.ts';
import { headProbabilities } from '../../src/main/learn/headFit.ts';
import { SCORING_DEFAULTS } from '../../src/main/learn/learnDefaults.ts';
import { STANDARDIZE_CHUNK_ROWS } from '../../src/main/learn/standardizer.ts';
import { COMPUTED_KINDS, rawHead, scoreAll, scoringReference } from '../../src/main/pipeline/scoring.ts';
import { predictProba } from '../../src/main/learn/softmaxHead.ts';
import {
  DEFAULT_SCORE_KIND,
  formatScore,
  HEAD_SCORE_KINDS,
  LOOP_FILTERS,
  MODEL_SCORE_KINDS,
  SCORE_KIND_TABLE,
  SCORE_KINDS,
} from '../../src/shared/scoreKinds.ts';
import { clusters } from '../learn/crossFitFixtures.ts';

const C = 3;
const D = 6;
const real = clusters(90, C, D, 1);
// Synthetic: instances like the real ones, some with a wrong label, and a few far from anything real.
const like = clusters(30, C, D, 2);
const labels = Int32Array.from(like.labels, (y, i) => (i % 5 === 0 ? (y + 1) % C : y));
const far = Float32Array.from(like.features.subarray(0, 6 * D), (x, k) => x * 4 + 40 * ((k % D) + 1));
const features = new Float32Array(like.features.length + far.length);
features.set(like.features);
features.set(far, like.features.length);
const set = { features, labels: Int32Array.from([...labels, ...like.labels.subarray(0, 6)]) };
const settings = { ...SCORING_DEFAULTS, neighbours: 5, realismWeight: 0.7, voteWeight: 1.3 };
const reference = await scoringReference(real, C, settings, { folds: 3, lambdaGrid: [1e-2] });
const scores = await scoreAll(reference, set);

describe('the score-kind registry', () => {
  it('has a row for every kind and a computation for every row that needs no optional model', () => {
    expect(new Set(COMPUTED_KINDS)).toEqual(new Set(HEAD_SCORE_KINDS));
    expect(new Set(Object.keys(scores))).toEqual(new Set(HEAD_SCORE_KINDS));
    // The kinds left without a computation here are exactly those of an optional model.
    for (const row of SCORE_KIND_TABLE)
      if (!(COMPUTED_KINDS as readonly string[]).includes(row.name))
        expect(row.needs, `${row.name} has no computation`).toContain('clip');
    expect([...SCORE_KINDS].sort()).toEqual([...HEAD_SCORE_KINDS, ...MODEL_SCORE_KINDS].sort());
    expect(new Set(SCORE_KINDS).size).toBe(SCORE_KINDS.length);
    expect(LOOP_FILTERS).toEqual(expect.arrayContaining([...SCORE_KINDS, 'all', 'random', 'none']));
    expect(DEFAULT_SCORE_KIND).toBe('quality');
    for (const row of SCORE_KIND_TABLE) {
      expect(row.label.length, row.name).toBeGreaterThan(0);
      expect(row.description.length, row.name).toBeGreaterThan(0);
      expect(Number.isInteger(row.digits), row.name).toBe(true);
    }
  });

  it("formats a value by its kind's digits, and tiny values in significant digits (never -0.000)", () => {
    expect(formatScore('contribution', 0.12345)).toBe('0.123');
    expect(formatScore('contribution', -0.00001234)).toBe('-0.0000123');
    expect(formatScore('label_vote', 0.7)).toBe('0.70');
    expect(formatScore('quality', null)).toBe('—');
    expect(formatScore('contribution_batch', 0.5)).toBe('0.5000');
  });
});

describe('the scoring function', () => {
  it('gives quality = log self-confidence + w_r·realism + w_v·log((votes + 1)/(k + C)), recomputed here', () => {
    const k = settings.neighbours;
    const expected = Array.from(scores.self_confidence, (p, i) => {
      const votes = Math.round((scores.label_vote[i] as number) * k);
      return (
        Math.log(Math.max(p, 1e-12)) +
        settings.realismWeight * (scores.realism[i] as number) +
        settings.voteWeight * Math.log((votes + 1) / (k + C))
      );
    });
    Array.from(scores.quality).forEach((q, i) => expect(q).toBeCloseTo(expected[i] as number, 4));
    // The terms are not degenerate: realism is far from 0 for the far instances, so its sign matters.
    expect(Math.min(...scores.realism.subarray(30))).toBeLessThan(-1);
  });

  it('ranks instances far from every real image (noise, other domains) below real-looking ones', () => {
    const realistic = Array.from(scores.realism.subarray(0, 30));
    const distant = Array.from(scores.realism.subarray(30));
    expect(Math.max(...distant)).toBeLessThan(Math.min(...realistic));
    // Same labels as six realistic correct instances, yet lower quality: realism counts.
    const correctQuality = Array.from(scores.quality.subarray(0, 30)).filter((_, i) => i % 5 !== 0);
    expect(Math.max(...scores.quality.subarray(30))).toBeLessThan(Math.min(...correctQuality));
  });

  it('takes the label-quality kinds from the full head of the cross-fit', async () => {
    const p = await headProbabilities(reference.fit, set.features);
    Array.from(scores.self_confidence).forEach((s, i) =>
      expect(s).toBeCloseTo(p[i * C + (set.labels[i] as number)] as number, 6),
    );
    Array.from(scores.small_loss).forEach((s, i) =>
      expect(s).toBeCloseTo(Math.log(Math.max(scores.self_confidence[i] as number, 1e-12)), 4),
    );
    // The folded raw-feature head gives the same probabilities as the standardised one.
    const folded = predictProba(rawHead(reference.fit, reference.fit.full.weights), set.features);
    Array.from(p).forEach((v, j) => expect(folded[j]).toBeCloseTo(v, 4));
  });

  it('scores a set larger than one standardised chunk as it scores each instance alone', async () => {
    // Each score is the instance's own (against the real images), so repeating the set repeats them.
    const n = set.labels.length;
    const copies = Math.ceil((STANDARDIZE_CHUNK_ROWS + n) / n);
    const repeated = { features: new Float32Array(copies * n * D), labels: new Int32Array(copies * n) };
    for (let c = 0; c < copies; c++) {
      repeated.features.set(set.features, c * n * D);
      repeated.labels.set(set.labels, c * n);
    }
    const big = await scoreAll(reference, repeated);
    for (const kind of COMPUTED_KINDS)
      for (let i = STANDARDIZE_CHUNK_ROWS - n; i < copies * n; i++)
        expect(big[kind][i], `${kind} of row ${i}`).toBeCloseTo(scores[kind][i % n] as number, 4);
  });

  it('flags wrong labels: quality ranks every mislabelled instance below the correct ones here', () => {
    const like30 = Array.from(scores.quality.subarray(0, 30));
    const wrong = like30.filter((_, i) => i % 5 === 0);
    const right = like30.filter((_, i) => i % 5 !== 0);
    expect(Math.max(...wrong)).toBeLessThan(Math.min(...right));
  });
});

describe('confident learning', () => {
  it("confident_margin is negative exactly where the confident joint puts an instance off its label's row", async () => {
    const p = await headProbabilities(reference.fit, set.features);
    // The thresholds recomputed here: each class's mean out-of-sample probability on its real images.
    const oos = reference.fit.outOfSample;
    const realLabels = Array.from(reference.fit.real.labels);
    const t = Array.from({ length: C }, (_, c) => {
      const own = realLabels.flatMap((y, i) => (y === c ? [oos[i * C + c] as number] : []));
      return own.reduce((a, b) => a + b, 0) / own.length;
    });
    const flagged = Array.from(set.labels, (y, i) => {
      // The class the confident joint counts the instance under: the most probable confident one.
      let counted = -1;
      for (let c = 0; c < C; c++)
        if (
          (p[i * C + c] as number) >= t[c]! &&
          (counted < 0 || (p[i * C + c] as number) > (p[i * C + counted] as number))
        )
          counted = c;
      return counted >= 0 && counted !== y;
    });
    expect(Array.from(scores.confident_margin, (m) => m < 0)).toEqual(flagged);
    // Not degenerate: it flags mislabelled instances far more often than correct ones.
    const wrongFlagged = flagged.filter((f, i) => i < 30 && i % 5 === 0 && f).length;
    const rightFlagged = flagged.filter((f, i) => (i >= 30 || i % 5 !== 0) && f).length;
    expect(wrongFlagged).toBeGreaterThanOrEqual(5); // of 6
    expect(rightFlagged).toBeLessThanOrEqual(2); // of 30
  });
});

describe('acceptance rules at the boundary', () => {
  it('a threshold keeps a score equal to it', () => {
    expect(decide({ kind: 'threshold', threshold: 0.25 }, Float32Array.of(0.25, 0.5, 0), [0, 0, 0]).accepted).toEqual([
      true,
      true,
      false,
    ]);
  });
});
