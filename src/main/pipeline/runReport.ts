import type { RunMetrics } from '../../shared/api.ts';
import { binEdges, countInBins } from '../../shared/histogram.ts';
import { DEFAULT_SCORE_KIND, type ScoreKindName } from '../../shared/scoreKinds.ts';
import type { Db } from '../store/database.ts';
import { listRounds, metricsOf } from '../store/runs.ts';
import { decisionsPerClass, roundScores } from '../store/runReport.ts';

/**
 * What the run screen charts: validation accuracy and counts per round, the histogram of one score
 * kind in each round (for cosine contribution, BSGAL's Figure 2) over bins common to all rounds,
 * and the run's instances per class and decision.
 */
export function runMetrics(db: Db, runId: number, kind: ScoreKindName = DEFAULT_SCORE_KIND): RunMetrics {
  const metrics = metricsOf(db, runId);
  const value = (round: number, name: string) =>
    metrics.find((m) => m.roundIndex === round && m.name === name)?.value ?? null;
  const scores = roundScores(db, runId, kind);
  const bins = binEdges(
    kind,
    scores.map((s) => s.value),
  );
  const rounds = [-1, ...listRounds(db, runId).map((r) => r.roundIndex)].map((round) => ({
    round,
    valAccuracy: value(round, 'val_accuracy'),
    generated: value(round, 'generated'),
    acceptedNew: value(round, 'accepted_new'),
    histogram: countInBins(
      bins,
      scores.filter((s) => s.round === round).map((s) => s.value),
    ),
  }));
  const perClass = decisionsPerClass(db, runId);
  return { runId, kind, rounds, bins, perClass };
}
