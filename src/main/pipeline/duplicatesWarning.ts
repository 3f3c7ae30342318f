import type { Db } from '../store/database.ts';
import { metricsOf } from '../store/runs.ts';

/**
 * What a run says when images it generated were already in the project: a repeated seed with the
 * same settings remakes the same images, which are dropped as duplicates.
 */
export function duplicatesWarning(counts: {
  readonly duplicates: number;
  readonly generated: number;
  readonly runs: readonly number[];
}): string {
  const { duplicates, generated, runs } = counts;
  const which =
    runs.length === 0
      ? 'an earlier run'
      : `${runs.length === 1 ? 'run' : 'runs'} ${[...runs].sort((a, b) => a - b).join(', ')}`;
  const what =
    duplicates >= generated
      ? `all ${generated} generated images were already in the project (same seeds and settings as ${which}); nothing new was added`
      : `${duplicates} of ${generated} generated images were already in the project (same seeds and settings as ${which}) and were not added again`;
  return `${what}. Pass a different --seed (or none: each run then gets a seed no earlier run used).`;
}

/** The run's duplicates warning over all its rounds, from its stored metrics; undefined when it had none. */
export function runDuplicatesWarning(db: Db, runId: number): string | undefined {
  let duplicates = 0;
  let added = 0;
  const runs = new Set<number>();
  for (const m of metricsOf(db, runId)) {
    if (m.name === 'duplicates') duplicates += m.value;
    else if (m.name === 'generated') added += m.value;
    else if (m.name.startsWith('duplicate_of_run:')) runs.add(Number(m.name.slice('duplicate_of_run:'.length)));
  }
  if (duplicates === 0) return undefined;
  const warning = duplicatesWarning({ duplicates, generated: duplicates + added, runs: [...runs] });
  return warning.charAt(0).toUpperCase() + warning.slice(1);
}
