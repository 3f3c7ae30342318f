import type { Db } from '../../src/main/store/database.ts';

/** SQLite's plan for `sql` with `params`, one line per step (what the plan tests match indexes in). */
export function queryPlan(db: Db, sql: string, params: object = {}): string {
  return db
    .prepare<[object], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
    .all(params)
    .map((r) => r.detail)
    .join('\n');
}
