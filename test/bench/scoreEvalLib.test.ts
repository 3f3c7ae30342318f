import { describe, expect, it } from 'vitest';
import {
  chooseLeaveOneOut,
  type Combo,
  comboFlags,
  comboKey,
  pixelPrototypeScores,
  sweepCombos,
} from '../../bench/score-eval-lib.ts';
import type { TunableSetting } from '../../bench/score-eval-settings.ts';

const eta: TunableSetting = {
  name: 'eta',
  flag: '--lookahead-step',
  candidates: [0.5, 1, 4],
  defaultValue: 1,
  selectedBy: 'lookahead',
};
const damping: TunableSetting = {
  name: 'damping',
  flag: '--damping',
  candidates: [0.01, 0.1],
  defaultValue: 0.1,
  selectedBy: 'influence',
};

describe('score-eval arithmetic', () => {
  it('sweeps each setting one at a time and names combos by their non-default values', () => {
    const combos = sweepCombos([eta, damping]);
    expect(combos).toEqual([{}, { eta: 0.5 }, { eta: 4 }, { damping: 0.01 }]);
    expect(comboKey({ eta: 1, damping: 0.01 }, [eta, damping])).toBe('damping=0.01');
    expect(comboKey({ eta: 1 }, [eta, damping])).toBe('');
    expect(comboFlags({ eta: 4 }, [eta, damping])).toEqual(['--lookahead-step', '4']);
  });

  it('scores raw pixels by cosine to the mean real image of the label', () => {
    // 2 classes, 2 pixels: class 0's real images average to (1, 1), class 1's to (2, 0).
    const real = { pixels: Float32Array.of(1, 0, 1, 2, 2, 0, 2, 0), labels: [0, 0, 1, 1] };
    const pool = { pixels: Float32Array.of(3, 3, 0, 5, 0, 5), labels: [0, 1, 0] };
    const scores = pixelPrototypeScores(real, pool, 2, 2);
    expect(scores[0]).toBeCloseTo(1, 6); // (3,3) is along (1,1)
    expect(scores[1]).toBeCloseTo(0, 6); // (0,5) is orthogonal to (2,0)
    expect(scores[2]).toBeCloseTo(Math.SQRT1_2, 6); // 45° from (1,1)
  });

  it("chooses every setting on the other datasets only, never on the held-out one's own figures", () => {
    // AUROC of the selecting kind per dataset and eta; 'a' alone loves eta = 4.
    const table: Record<string, Record<number, number>> = {
      a: { 0.5: 0.5, 1: 0.6, 4: 0.99 },
      b: { 0.5: 0.9, 1: 0.8, 4: 0.7 },
      c: { 0.5: 0.88, 1: 0.8, 4: 0.75 },
    };
    const aurocs = (dataset: string, combo: Combo, kind: string) =>
      kind === 'lookahead' ? [table[dataset]![combo.eta ?? 1]!] : [];
    const { chosen, evidence } = chooseLeaveOneOut([eta], ['a', 'b', 'c'], aurocs);
    expect(chosen.a!.eta).toBe(0.5); // b and c: 0.89 at 0.5
    // Held out b: a and c give 0.5 → 0.69, 1 → 0.70, 4 → 0.87.
    expect(chosen.b!.eta).toBe(4);
    expect(evidence.b!.eta!['4']).toBeCloseTo((0.99 + 0.75) / 2, 12);
    expect(chosen.c!.eta).toBe(4);
  });

  it('keeps the default on a tie and with nothing to choose on', () => {
    const flat = () => [0.8];
    expect(chooseLeaveOneOut([eta], ['a', 'b'], flat).chosen.a!.eta).toBe(1);
    expect(chooseLeaveOneOut([eta], ['a'], flat).chosen.a!.eta).toBe(1);
  });
});
