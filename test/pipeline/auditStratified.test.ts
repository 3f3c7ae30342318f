import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditSummary, drawAuditSample } from '../../src/main/pipeline/audit.ts';
import { bootstrapAuroc, stratifiedEstimate } from '../../src/main/pipeline/auditStatistics.ts';
import { addClass } from '../../src/main/store/classes.ts';
import { curate, recordVerdict } from '../../src/main/store/curation.ts';
import { recordImage } from '../../src/main/store/images.ts';
import { type InstanceStatus, insertInstance } from '../../src/main/store/instances.ts';
import { initProject } from '../../src/main/store/project.ts';
import { recordScores } from '../../src/main/store/scores.ts';
import { tempDir } from '../helpers/fixtures.ts';

/**
 * A project of unequal classes: 30 accepted coats and 10 accepted bags, and 20 rejected instances
 * of each. Every instance's quality is its number, so a low number ranks low.
 */
function unequalProject() {
  const p = initProject(join(tempDir(), 'p'));
  const coat = addClass(p.db, { name: 'coat' });
  const bag = addClass(p.db, { name: 'bag' });
  let n = 0;
  const make = (labelId: number, status: InstanceStatus, count: number) =>
    Array.from({ length: count }, () => {
      const hash = (n++).toString(16).padStart(64, '0');
      recordImage(p.db, { hash, width: 1, height: 1, channels: 1, bytes: 1 });
      const id = insertInstance(p.db, {
        imageHash: hash,
        classId: labelId,
        labelId,
        source: 'generated',
        sourcePath: null,
        prompt: '',
        negativePrompt: '',
        seed: n,
        epsilon: 0,
        perturbation: null,
        generatorId: 'g',
        genParams: '{}',
        runId: null,
        roundIndex: null,
        status,
      });
      recordScores(p.db, [{ instanceId: id, kind: 'quality', value: n, runId: null, roundIndex: null }]);
      return id;
    });
  return {
    p,
    coat,
    bag,
    coats: make(coat.id, 'accepted', 30),
    bags: make(bag.id, 'accepted', 10),
    rejected: [...make(coat.id, 'rejected', 20), ...make(bag.id, 'rejected', 20)],
  };
}

describe('the stratified audit estimate', () => {
  it('weights each class by its size in the exported population, with the hand-computed standard error', () => {
    const { p, coats, bags, rejected } = unequalProject();
    // Coats: 3 of 4 correct; bags: 1 of 4 correct; and 8 rejected instances judged incorrect.
    coats.slice(0, 4).forEach((id, k) => recordVerdict(p.db, id, k < 3 ? 'correct' : 'incorrect'));
    bags.slice(0, 4).forEach((id, k) => recordVerdict(p.db, id, k < 1 ? 'correct' : 'incorrect'));
    rejected.slice(0, 8).forEach((id) => recordVerdict(p.db, id, 'incorrect'));

    const exported = auditSummary(p.db, 'quality', { population: 'exported' });
    // By hand: W = 30/40, 10/40; p = 0.75·0.75 + 0.25·0.25 = 0.625 (pooled: 4 of 8 = 0.5).
    // Var = 0.75²·(1 − 4/30)·(0.75·0.25/3) + 0.25²·(1 − 4/10)·(0.25·0.75/3) = 0.030469 + 0.002344 = 0.0328125.
    expect(exported.population).toBe('exported');
    expect(exported.overall).toMatchObject({ audited: 8, correct: 4, accuracy: 0.5 });
    expect(exported.stratified.size).toBe(40);
    expect(exported.stratified.accuracy).toBeCloseTo(0.625, 12);
    expect(exported.stratified.standardError).toBeCloseTo(Math.sqrt(0.0328125), 12);
    expect(exported.stratified.coveredShare).toBe(1);
    expect(exported.stratified.low!).toBeLessThan(0.625);
    expect(exported.stratified.high!).toBeGreaterThan(0.625);
    expect(exported.classes.map((c) => [c.name, c.size, c.audited, c.correct])).toEqual([
      ['coat', 30, 4, 3],
      ['bag', 10, 4, 1],
    ]);
    // The rejected ones are out of what gets exported; with every instance, they count.
    expect(exported.incorrect).toHaveLength(1 + 3);
    const all = auditSummary(p.db, 'quality', { population: 'all' });
    expect(all.classes.map((c) => [c.name, c.size, c.audited, c.correct])).toEqual([
      ['coat', 50, 12, 3],
      ['bag', 30, 4, 1],
    ]);
    // Coats 50/80 at 3/12, bags 30/80 at 1/4.
    expect(all.stratified.accuracy).toBeCloseTo((50 / 80) * 0.25 + (30 / 80) * 0.25, 12);
    expect(all.incorrect).toHaveLength(4 + 8);
    p.close();
  });

  it('counts a curator’s override into the exported population, and draws its sample from that population only', () => {
    const { p, rejected } = unequalProject();
    const rescued = rejected[0]!;
    curate(p.db, { instanceIds: [rescued], action: 'accept' });
    const sample = drawAuditSample(p.db, 50, 3, 'exported');
    expect(sample).toHaveLength(41);
    expect(sample.map((i) => i.id)).toContain(rescued);
    expect(sample.every((i) => (i.override ?? i.status) === 'accepted')).toBe(true);
    expect(drawAuditSample(p.db, 50, 3, 'all')).toHaveLength(80);
    recordVerdict(p.db, rescued, 'incorrect');
    expect(auditSummary(p.db, 'quality', { population: 'exported' }).incorrect.map((i) => i.id)).toEqual([rescued]);
    p.close();
  });

  it('weights only the judged classes, says what share they cover, and has no interval below two verdicts a class', () => {
    expect(
      stratifiedEstimate([
        { size: 30, audited: 1, correct: 1 },
        { size: 10, audited: 0, correct: 0 },
      ]),
    ).toEqual({ accuracy: 1, standardError: null, low: null, high: null, coveredShare: 0.75 });
    // Every sampled item correct: no variance, so the interval is Wilson's at the whole sample (4).
    const perfect = stratifiedEstimate([
      { size: 30, audited: 2, correct: 2 },
      { size: 10, audited: 2, correct: 2 },
    ]);
    expect(perfect).toMatchObject({ accuracy: 1, standardError: 0, high: 1 });
    expect(perfect.low).toBeCloseTo(0.5101, 3);
    expect(stratifiedEstimate([])).toMatchObject({ accuracy: null, coveredShare: 0 });
  });
});

describe('the agreement AUROC’s bootstrap interval', () => {
  const scores = Array.from({ length: 40 }, (_, k) => k);
  // Mostly low scores are bad, with two exceptions each way: an AUROC below 1.
  const bad = scores.map((s) => (s < 10 ? s !== 3 && s !== 7 : s === 20 || s === 30));

  it('is the same for the same seed, another for another, and brackets the AUROC', () => {
    const one = bootstrapAuroc(scores, bad, 1);
    expect(bootstrapAuroc(scores, bad, 1)).toEqual(one);
    expect(bootstrapAuroc(scores, bad, 2).low).not.toBe(one.low);
    expect(one.auroc).toBeGreaterThan(0.8);
    expect(one.auroc).toBeLessThan(1);
    expect(one.low!).toBeLessThan(one.auroc!);
    expect(one.high!).toBeGreaterThanOrEqual(one.auroc!);
    expect(one.high!).toBeLessThanOrEqual(1);
    expect(one.resamples).toBe(1000);
  });

  it('is [1, 1] for a perfect separation and missing without both kinds of verdict', () => {
    expect(
      bootstrapAuroc(
        scores,
        scores.map((s) => s < 5),
        9,
      ),
    ).toMatchObject({ auroc: 1, low: 1, high: 1 });
    expect(
      bootstrapAuroc(
        scores,
        scores.map(() => false),
        9,
      ),
    ).toMatchObject({ auroc: null, low: null, high: null });
  });

  it('comes with the number of incorrect verdicts it rests on, through the summary', () => {
    const { p, coats } = unequalProject();
    coats.forEach((id, k) => recordVerdict(p.db, id, k < 5 || k === 12 ? 'incorrect' : 'correct'));
    const { agreement } = auditSummary(p.db, 'quality', { population: 'exported', seed: 4 });
    expect(agreement).toMatchObject({ scored: 30, incorrect: 6, seed: 4, resamples: 1000 });
    expect(auditSummary(p.db, 'quality', { population: 'exported', seed: 4 }).agreement).toEqual(agreement);
    expect(agreement.low!).toBeLessThan(agreement.auroc!);
    p.close();
  });
});
