import { now } from './clock.ts';
import { type Db, writeTransaction } from './database.ts';
import { releaseRunLease, takeRunLease } from './leases.ts';

export type RunKind = 'loop' | 'score' | 'generate' | 'train' | 'import';
/** `interrupted`: its process died while it was running (found on the next open of the project). */
export type RunStatus = 'running' | 'paused' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface Run {
  readonly id: number;
  readonly kind: RunKind;
  readonly params: string;
  readonly modelIds: string;
  readonly status: RunStatus;
  readonly error: string | null;
  readonly startedAt: string;
  readonly finishedAt: string | null;
}

const RUN_COLUMNS =
  'id, kind, params, model_ids AS modelIds, status, error, started_at AS startedAt, finished_at AS finishedAt';

/**
 * Creates a run worked by this process: the run and its lease (see leases.ts) are written in one
 * transaction, so no other process ever sees it running without a worker. `finishRun` releases it.
 */
export function createRun(db: Db, kind: RunKind, params: unknown, modelIds: Record<string, string> = {}): number {
  return writeTransaction(db, () => {
    const id = Number(
      db
        .prepare('INSERT INTO runs (kind, params, model_ids, started_at) VALUES (?, ?, ?, ?)')
        .run(kind, JSON.stringify(params), JSON.stringify(modelIds), now()).lastInsertRowid,
    );
    takeRunLease(db, id);
    return id;
  });
}

/** Records how the run ended and releases this process's lease on it. */
export function finishRun(
  db: Db,
  id: number,
  status: Exclude<RunStatus, 'running' | 'interrupted'>,
  error?: string,
): void {
  db.prepare('UPDATE runs SET status = ?, error = ?, finished_at = ? WHERE id = ?').run(
    status,
    error ?? null,
    now(),
    id,
  );
  releaseRunLease(db, id);
}

export function getRun(db: Db, id: number): Run | undefined {
  return db.prepare<[number], Run>(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`).get(id);
}

export function listRuns(db: Db): Run[] {
  return db.prepare<[], Run>(`SELECT ${RUN_COLUMNS} FROM runs ORDER BY id`).all();
}

export interface Round {
  readonly id: number;
  readonly runId: number;
  readonly roundIndex: number;
  readonly params: string;
  readonly stage: string;
  readonly timings: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
}

/** Starts a round, or returns silently when a resumed run already started it. */
export function ensureRound(db: Db, runId: number, roundIndex: number, params: unknown): void {
  db.prepare('INSERT OR IGNORE INTO rounds (run_id, round_index, params, started_at) VALUES (?, ?, ?, ?)').run(
    runId,
    roundIndex,
    JSON.stringify(params),
    now(),
  );
}

/** A run that did not finish: it can be resumed (a loop run) and `winnow status` lists it. */
const UNFINISHED = "status != 'done'";

/** The latest run of a kind that did not finish (interrupted, running when killed, failed, cancelled or paused). */
export function latestUnfinishedRun(db: Db, kind: RunKind): Run | undefined {
  return db
    .prepare<[string], Run>(`SELECT ${RUN_COLUMNS} FROM runs WHERE kind = ? AND ${UNFINISHED} ORDER BY id DESC LIMIT 1`)
    .get(kind);
}

/** Runs that did not finish (anything but done), oldest first. */
export function unfinishedRuns(db: Db): Run[] {
  return db.prepare<[], Run>(`SELECT ${RUN_COLUMNS} FROM runs WHERE ${UNFINISHED} ORDER BY id`).all();
}

export function setRunStatus(db: Db, id: number, status: RunStatus): void {
  db.prepare('UPDATE runs SET status = ?, finished_at = NULL, error = NULL WHERE id = ?').run(status, id);
}

export function setRoundStage(
  db: Db,
  runId: number,
  roundIndex: number,
  stage: string,
  timings: Record<string, number>,
): void {
  db.prepare('UPDATE rounds SET stage = ?, timings = ? WHERE run_id = ? AND round_index = ?').run(
    stage,
    JSON.stringify(timings),
    runId,
    roundIndex,
  );
}

export function finishRound(db: Db, runId: number, roundIndex: number): void {
  db.prepare("UPDATE rounds SET stage = 'done', finished_at = ? WHERE run_id = ? AND round_index = ?").run(
    now(),
    runId,
    roundIndex,
  );
}

export function listRounds(db: Db, runId: number): Round[] {
  return db
    .prepare<[number], Round>(
      `SELECT id, run_id AS runId, round_index AS roundIndex, params, stage, timings, started_at AS startedAt,
         finished_at AS finishedAt FROM rounds WHERE run_id = ? ORDER BY round_index`,
    )
    .all(runId);
}

export function recordMetric(db: Db, runId: number, roundIndex: number, name: string, value: number): void {
  db.prepare(
    'INSERT INTO metrics (run_id, round_index, name, value) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value',
  ).run(runId, roundIndex, name, value);
}

/** One recorded number of a run: a round's (−1: the run's start) metric by name. */
export interface Metric {
  readonly roundIndex: number;
  readonly name: string;
  readonly value: number;
}

export function metricsOf(db: Db, runId: number): Metric[] {
  return db
    .prepare<[number], Metric>(
      'SELECT round_index AS roundIndex, name, value FROM metrics WHERE run_id = ? ORDER BY round_index, name',
    )
    .all(runId);
}

/** The seeds of every loop run of the project, stored in their params. */
export function loopSeeds(db: Db): number[] {
  return db
    .prepare<[], { seed: number }>(
      "SELECT json_extract(params, '$.seed') AS seed FROM runs WHERE kind = 'loop' AND seed IS NOT NULL",
    )
    .all()
    .map((r) => r.seed);
}
