import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, dispatch } from '../../src/main/service/winnowService.ts';
import { addClass } from '../../src/main/store/classes.ts';
import type { Project } from '../../src/main/store/project.ts';
import { addScoredRun, newProject } from '../helpers/scoredProject.ts';

// A run of two rounds whose instances have a quality and a contribution each: the run screen's
// histograms are of the kind asked for (quality by default), over bins fitted to the run's values.
let project: Project;
let runId: number;

beforeAll(() => {
  project = newProject();
  const shirt = addClass(project.db, { name: 'shirt' });
  runId = addScoredRun(project.db, shirt.id, {
    quality: [
      [-4, -3, -2.5],
      [-1, -1, 0],
    ],
    contribution: [
      [0.2, 0.3, 0.4],
      [0.5, 0.5, 0.6],
    ],
  });
});
afterAll(() => project.close());

const metrics = (request: object) => dispatch(createEngine(project).api, 'runMetrics', { runId, ...request });

describe("a run's histograms", () => {
  it('are of quality by default, 20 bins over the run’s range, each round counted in them', async () => {
    const m = await metrics({});
    expect(m.kind).toBe('quality');
    expect(m.bins).toHaveLength(21);
    expect(m.bins[0]).toBe(-4);
    expect(m.bins.at(-1)).toBe(0);
    const [start, first, second] = m.rounds;
    expect(start?.round).toBe(-1);
    expect(start?.histogram.every((n) => n === 0)).toBe(true);
    // Bins of 0.2: -4 in the first, -3 in the sixth, -2.5 in the eighth; -1 twice in the 16th, 0 in the last.
    const at = (histogram: readonly number[]) => histogram.flatMap((n, bin) => Array.from({ length: n }, () => bin));
    expect(at(first!.histogram)).toEqual([0, 5, 7]);
    expect(at(second!.histogram)).toEqual([15, 15, 19]);
  });

  it('are of the kind asked for, within its range', async () => {
    const m = await metrics({ kind: 'contribution' });
    expect(m.kind).toBe('contribution');
    expect(m.bins[0]).toBeCloseTo(0.2, 12);
    expect(m.bins.at(-1)).toBeCloseTo(0.6, 12);
    expect(m.rounds[1]?.histogram.reduce((a, b) => a + b)).toBe(3);
    expect(m.rounds[2]?.histogram.at(-1)).toBe(1);
    // A kind the run has no scores of: empty histograms over the kind's range.
    const none = await metrics({ kind: 'self_confidence' });
    expect([none.bins[0], none.bins.at(-1)]).toEqual([0, 1]);
    expect(none.rounds.every((r) => r.histogram.every((n) => n === 0))).toBe(true);
  });

  it('refuse a kind the registry does not know', async () => {
    await expect(metrics({ kind: 'contribution_batch' })).rejects.toThrow(/score kind/);
  });
});
