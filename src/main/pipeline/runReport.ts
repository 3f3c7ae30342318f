import type { RunDetail, RunMetrics } from '../../shared/api.ts';
import { WinnowError } from '../errors.ts';
import { binEdges, countInBins } from '../../shared/histogram.ts';
import { RULE_CHOSEN } from '../../shared/runSettings.ts';
import { DEFAULT_SCORE_KIND, type ScoreKindName } from '../../shared/scoreKinds.ts';
import type { Db } from '../store/database.ts';
import { getRun, listRounds, type Metric, metricsOf } from '../store/runs.ts';
import { decisionsPerClass, roundScores } from '../store/runReport.ts';

/**
 * What the run screen charts: validation (and test) accuracy and counts per round, the histogram of one score
 * kind in each round (for cosine contribution, BSGAL's Figure 2) over bins common to all rounds,
 * and the run's instances per class and decision.
 */
export function runMetrics(db: Db, runId: number, kind: ScoreKindName = DEFAULT_SCORE_KIND): RunMetrics {
  const value = metricValues(metricsOf(db, runId));
  const scores = roundScores(db, runId, kind);
  const bins = binEdges(
    kind,
    scores.map((s) => s.value),
  );
  const rounds = [-1, ...listRounds(db, runId).map((r) => r.roundIndex)].map((round) => ({
    round,
    valAccuracy: value(round, 'val_accuracy'),
    testAccuracy: value(round, 'test_accuracy'),
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

/** A run's metric of a name in a round (null: not recorded), from its metrics (metricsOf). */
function metricValues(metrics: readonly Metric[]): (round: number, name: string) => number | null {
  return (round, name) => metrics.find((m) => m.roundIndex === round && m.name === name)?.value ?? null;
}

/**
 * What the run screen's table and comparison show of a run: the settings it was started with, and
 * per round (the start first) what was made and accepted, the validation and test accuracy, the rule the
 * validated rule chose, when it ran and the seconds of each stage, as `winnow run` prints them.
 */
export function runDetail(db: Db, runId: number): RunDetail {
  const run = getRun(db, runId);
  if (run === undefined) throw new WinnowError(`There is no run with id ${runId}.`);
  const metrics = metricsOf(db, runId);
  const value = metricValues(metrics);
  const chosen = metrics.filter((m) => m.name.startsWith(RULE_CHOSEN));
  const numbers = (round: number) => ({
    round,
    generated: value(round, 'generated'),
    acceptedNew: value(round, 'accepted_new'),
    valAccuracy: value(round, 'val_accuracy'),
    testAccuracy: value(round, 'test_accuracy'),
    rule: chosen.find((m) => m.roundIndex === round)?.name.slice(RULE_CHOSEN.length) ?? null,
  });
  return {
    runId,
    status: run.status,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    settings: JSON.parse(run.params) as Record<string, unknown>,
    models: JSON.parse(run.modelIds) as Record<string, string>,
    rounds: [
      { ...numbers(-1), seconds: {}, startedAt: null, finishedAt: null },
      ...listRounds(db, runId).map((r) => ({
        ...numbers(r.roundIndex),
        seconds: JSON.parse(r.timings) as Record<string, number>,
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
      })),
    ],
  };
}
