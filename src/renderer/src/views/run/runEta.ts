import type { RunDetail } from '../../../../shared/api.ts';

/** Seconds between two ISO timestamps. */
const secondsBetween = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;

/** The seconds each finished round of a run took, from its recorded start and finish. */
export function roundSeconds(detail: RunDetail): number[] {
  return detail.rounds.flatMap((r) =>
    r.startedAt !== null && r.finishedAt !== null ? [secondsBetween(r.startedAt, r.finishedAt)] : [],
  );
}

/**
 * Seconds until the whole run is done: the mean of its finished rounds' times for every round not
 * finished, less what the round under way has already taken. Undefined until a round has finished
 * (a stage's own rate says nothing of the stages after it).
 */
export function wholeRunEta(detail: RunDetail, rounds: number, now: number): number | undefined {
  const finished = roundSeconds(detail);
  if (finished.length === 0) return undefined;
  const mean = finished.reduce((s, x) => s + x, 0) / finished.length;
  const current = detail.rounds.find((r) => r.round >= 0 && r.startedAt !== null && r.finishedAt === null);
  const elapsed = current?.startedAt ? Math.max(0, (now - Date.parse(current.startedAt)) / 1000) : 0;
  return Math.max(0, mean * (rounds - finished.length) - elapsed);
}

/** A duration as minutes and seconds. */
export function formatDuration(seconds: number): string {
  return seconds < 60 ? `${Math.round(seconds)} s` : `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}
