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

/** Counts per class of real samples by split and synthetic instances by effective status. */
export function summarize(db: Db): ProjectSummary {
  const classes = db
    .prepare<
      [],
      ClassSummary & {
        train: number;
        val: number;
        test: number;
        pending: number;
        accepted: number;
        rejected: number;
        overridden: number;
      }
    >(
      `SELECT c.id, c.name,
         (SELECT count(*) FROM real_samples r WHERE r.class_id = c.id AND r.split = 'train') AS train,
         (SELECT count(*) FROM real_samples r WHERE r.class_id = c.id AND r.split = 'val') AS val,
         (SELECT count(*) FROM real_samples r WHERE r.class_id = c.id AND r.split = 'test') AS test,
         (SELECT count(*) FROM instances i WHERE i.label_id = c.id AND coalesce(i.override, i.status) = 'pending') AS pending,
         (SELECT count(*) FROM instances i WHERE i.label_id = c.id AND coalesce(i.override, i.status) = 'accepted') AS accepted,
         (SELECT count(*) FROM instances i WHERE i.label_id = c.id AND coalesce(i.override, i.status) = 'rejected') AS rejected,
         (SELECT count(*) FROM instances i WHERE i.label_id = c.id AND i.override IS NOT NULL) AS overridden
       FROM classes c ORDER BY c.id`,
    )
    .all()
    .map((r) => ({
      id: r.id,
      name: r.name,
      real: { train: r.train, val: r.val, test: r.test },
      synthetic: { pending: r.pending, accepted: r.accepted, rejected: r.rejected, overridden: r.overridden },
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
