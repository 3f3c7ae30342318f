import type { Db } from './database.ts';
import { schemaVersion } from './database.ts';
import { workerGone } from './leases.ts';
import { latestUnfinishedRun, type RunKind, type RunStatus, unfinishedRuns } from './runs.ts';
import { getSetting } from './settings.ts';

export interface ClassSummary {
  readonly id: number;
  readonly name: string;
  readonly real: { readonly train: number; readonly val: number; readonly test: number };
  readonly synthetic: {
    readonly pending: number;
    readonly accepted: number;
    readonly rejected: number;
    readonly overridden: number;
  };
}

export interface ProjectSummary {
  readonly name: string;
  readonly schemaVersion: number;
  readonly classes: readonly ClassSummary[];
  readonly runs: number;
  /** Runs that did not end, so that a stale one shows as interrupted with why. */
  readonly unfinishedRuns: readonly UnfinishedRun[];
  readonly exports: number;
}

export interface UnfinishedRun {
  readonly id: number;
  readonly kind: RunKind;
  readonly status: Exclude<RunStatus, 'done'>;
  readonly startedAt: string;
  /** Why it stopped (the interruption or the failure), when known. */
  readonly reason: string | null;
  /** Whether `winnow run --resume` (or the UI's Resume) would take it up: the latest unfinished loop run, not being worked. */
  readonly resumable: boolean;
}

/**
 * Unfinished runs as they stand. A run still marked `running` whose worker is gone shows as
 * interrupted even when this open could not mark it so (a read-only project, or a writer busy).
 */
function listUnfinishedRuns(db: Db): UnfinishedRun[] {
  const resumable = latestUnfinishedRun(db, 'loop')?.id;
  return unfinishedRuns(db).map((run) => {
    const gone = run.status === 'running' ? workerGone(db, run.id) : undefined;
    const status = gone === undefined ? (run.status as UnfinishedRun['status']) : 'interrupted';
    return {
      id: run.id,
      kind: run.kind,
      status,
      startedAt: run.startedAt,
      reason: gone ?? run.error,
      resumable: run.id === resumable && status !== 'running',
    };
  });
}

/**
 * Each pseudo-label's instances by effective decision: one pass over the instances_label_decision
 * index, no row read (a subquery per class and decision read every instance's row: 6.0 s at
 * 1,000,000 instances, this 0.22 s; `node bench/project-summary.ts`).
 */
export const DECISION_COUNTS_SQL = /* sql */ `
  SELECT label_id AS labelId,
    sum(coalesce(override, status) = 'pending') AS pending,
    sum(coalesce(override, status) = 'accepted') AS accepted,
    sum(coalesce(override, status) = 'rejected') AS rejected,
    sum(override IS NOT NULL) AS overridden
  FROM instances GROUP BY label_id`;

/** Counts per class of real samples by split and synthetic instances by effective status. */
export function summarize(db: Db): ProjectSummary {
  const decisions = new Map(
    db
      .prepare<[], ClassSummary['synthetic'] & { labelId: number }>(DECISION_COUNTS_SQL)
      .all()
      .map(({ labelId, ...synthetic }) => [labelId, synthetic]),
  );
  const none = { pending: 0, accepted: 0, rejected: 0, overridden: 0 };
  const classes = db
    .prepare<[], { id: number; name: string; train: number; val: number; test: number }>(
      `SELECT c.id, c.name,
         (SELECT count(*) FROM real_samples r WHERE r.class_id = c.id AND r.split = 'train') AS train,
         (SELECT count(*) FROM real_samples r WHERE r.class_id = c.id AND r.split = 'val') AS val,
         (SELECT count(*) FROM real_samples r WHERE r.class_id = c.id AND r.split = 'test') AS test
       FROM classes c ORDER BY c.id`,
    )
    .all()
    .map((r) => ({
      id: r.id,
      name: r.name,
      real: { train: r.train, val: r.val, test: r.test },
      synthetic: decisions.get(r.id) ?? none,
    }));
  const count = (sql: string) => db.prepare<[], { n: number }>(sql).get()?.n ?? 0;
  return {
    name: getSetting<string>(db, 'name') ?? '',
    schemaVersion: schemaVersion(db),
    classes,
    runs: count('SELECT count(*) AS n FROM runs'),
    unfinishedRuns: listUnfinishedRuns(db),
    exports: count('SELECT count(*) AS n FROM exports'),
  };
}
