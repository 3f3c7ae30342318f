import type { RunMetrics } from '../../shared/api.ts';
import type { Db } from '../store/database.ts';
import { listRounds, metricsOf } from '../store/runs.ts';
import { decisionsPerClass, roundContributions } from '../store/runReport.ts';

const BINS = Array.from({ length: 21 }, (_, k) => -1 + k / 10);

/**
 * What the run screen charts: validation accuracy and counts per round, the contribution
 * histogram of each round (BSGAL's Figure 2), and the run's instances per class and decision.
 */
export function runMetrics(db: Db, runId: number): RunMetrics {
  const metrics = metricsOf(db, runId);
  const value = (round: number, name: string) =>
    metrics.find((m) => m.roundIndex === round && m.name === name)?.value ?? null;
  const scores = roundContributions(db, runId);
  const rounds = [-1, ...listRounds(db, runId).map((r) => r.roundIndex)].map((round) => {
    const histogram = new Array<number>(BINS.length - 1).fill(0);
    for (const s of scores) {
      if (s.round !== round) continue;
      const bin = Math.min(histogram.length - 1, Math.max(0, Math.floor((s.value + 1) * 10)));
      histogram[bin]! += 1;
    }
    return {
      round,
      valAccuracy: value(round, 'val_accuracy'),
      generated: value(round, 'generated'),
      acceptedNew: value(round, 'accepted_new'),
      histogram,
    };
  });
  const perClass = decisionsPerClass(db, runId);
  return { runId, rounds, bins: BINS, perClass };
}
