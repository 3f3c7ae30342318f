import type { Db } from './database.ts';
import { schemaVersion } from './database.ts';
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
  readonly exports: number;
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
    exports: count('SELECT count(*) AS n FROM exports'),
  };
}
