import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { WinnowError } from '../errors.ts';
import { now } from './clock.ts';
import { isLive, LEASE_TIMEOUT_MS } from './processLiveness.ts';
import { type Db, writeTransaction } from './database.ts';

/**
 * One worker per run. The process working a run holds its lease (a row of `run_leases`): taken
 * atomically, renewed by a heartbeat while the process lives, deleted when the run stops. A lease is
 * free again when its process is gone: its pid is dead on this host, or its heartbeat is older
 * than LEASE_TIMEOUT_MS (a process on another host, a reused pid, a hung process).
 */
export interface RunLease {
  readonly runId: number;
  readonly pid: number;
  readonly host: string;
  readonly token: string;
  readonly acquiredAt: string;
  readonly heartbeatAt: string;
}

export const HEARTBEAT_INTERVAL_MS = 10_000;

const LEASE_COLUMNS = 'run_id AS runId, pid, host, token, acquired_at AS acquiredAt, heartbeat_at AS heartbeatAt';

/** The leases this process holds, by run id (per database file): their tokens and heartbeats. */
const held = new Map<string, { token: string; timer: NodeJS.Timeout; lost: AbortController }>();
const key = (db: Db, runId: number) => `${db.name}#${runId}`;

export function leaseOf(db: Db, runId: number): RunLease | undefined {
  return db.prepare<[number], RunLease>(`SELECT ${LEASE_COLUMNS} FROM run_leases WHERE run_id = ?`).get(runId);
}

export function listLeases(db: Db): RunLease[] {
  return db.prepare<[], RunLease>(`SELECT ${LEASE_COLUMNS} FROM run_leases ORDER BY run_id`).all();
}

/** The refusal a second worker gets: who holds the run, since when, and what to do. */
export class RunBusyError extends WinnowError {
  readonly holder: RunLease;

  constructor(holder: RunLease) {
    super(
      `Run ${holder.runId} is being worked by process ${holder.pid} on ${holder.host} (since ${holder.acquiredAt}, last heartbeat ${holder.heartbeatAt}); a run has one worker at a time.`,
      `Wait for that process to finish, or stop it (Pause or Cancel in the app, Ctrl-C in its terminal, or \`kill ${holder.pid}\` on ${holder.host}), then resume. A process that died frees the run at once on its own host, or ${LEASE_TIMEOUT_MS / 60_000} minutes after its last heartbeat elsewhere.`,
    );
    this.name = 'RunBusyError';
    this.holder = holder;
  }
}

/** Refuses (RunBusyError) when another live process holds the run; otherwise does nothing. */
export function checkRunFree(db: Db, runId: number): void {
  const current = leaseOf(db, runId);
  if (current !== undefined && current.token !== held.get(key(db, runId))?.token && isLive(current))
    throw new RunBusyError(current);
}

/**
 * Takes the run's lease for this process, in one IMMEDIATE transaction: when it is free (no lease,
 * or its holder is gone), it becomes ours; when a live process holds it, RunBusyError. Starts the
 * heartbeat. Returns a signal that aborts if the lease is ever lost (another process took it over
 * because this one looked dead).
 */
export function takeRunLease(db: Db, runId: number): AbortSignal {
  const token = randomUUID();
  writeTransaction(db, () => {
    checkRunFree(db, runId);
    const at = now();
    db.prepare(
      `INSERT INTO run_leases (run_id, pid, host, token, acquired_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id) DO UPDATE SET pid = excluded.pid, host = excluded.host, token = excluded.token,
         acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at`,
    ).run(runId, process.pid, hostname(), token, at, at);
  });
  return startHeartbeat(db, runId, token);
}

/**
 * Calls `renew` every HEARTBEAT_INTERVAL_MS (a run's lease, a pending import's liveness) until the
 * returned timer is cleared. unref: a heartbeat never keeps a finished process alive.
 */
export function beatEvery(renew: () => void): NodeJS.Timeout {
  return setInterval(() => {
    try {
      renew();
    } catch {
      // Busy past the timeout: the next beat tries again, well within LEASE_TIMEOUT_MS.
    }
  }, HEARTBEAT_INTERVAL_MS).unref();
}

function startHeartbeat(db: Db, runId: number, token: string): AbortSignal {
  stopHeartbeat(db, runId);
  const lost = new AbortController();
  const timer = beatEvery(() => {
    if (!db.open) return stopHeartbeat(db, runId);
    const renewed = db
      .prepare('UPDATE run_leases SET heartbeat_at = ? WHERE run_id = ? AND token = ?')
      .run(now(), runId, token).changes;
    if (renewed === 0) {
      stopHeartbeat(db, runId);
      lost.abort(lostError(db, runId));
    }
  });
  held.set(key(db, runId), { token, timer, lost });
  return lost.signal;
}

function stopHeartbeat(db: Db, runId: number): void {
  const mine = held.get(key(db, runId));
  if (mine === undefined) return;
  clearInterval(mine.timer);
  held.delete(key(db, runId));
}

function lostError(db: Db, runId: number): WinnowError {
  const now = leaseOf(db, runId);
  return new WinnowError(
    `Run ${runId} was taken over by ${now ? `process ${now.pid} on ${now.host}` : 'another process'}: this process's heartbeat stopped for longer than ${LEASE_TIMEOUT_MS / 60_000} minutes, so it was thought dead.`,
    'Nothing more is written by this process; the run goes on in the other one.',
  );
}

/** Aborts if this process loses its lease on the run; throws if it does not hold it. */
export function heldLeaseSignal(db: Db, runId: number): AbortSignal {
  const mine = held.get(key(db, runId));
  if (mine === undefined) throw lostError(db, runId);
  return mine.lost.signal;
}

/**
 * Inside a writing transaction of the run: throws unless this process still holds its lease, so a
 * worker that was taken over commits nothing more (no duplicate rows, whatever the timing).
 */
export function assertRunLeaseHeld(db: Db, runId: number): void {
  const mine = held.get(key(db, runId));
  if (mine === undefined || leaseOf(db, runId)?.token !== mine.token) throw lostError(db, runId);
}

/** Gives up this process's lease on the run (if it holds it) and stops its heartbeat. */
export function releaseRunLease(db: Db, runId: number): void {
  const mine = held.get(key(db, runId));
  if (mine === undefined) return;
  stopHeartbeat(db, runId);
  if (db.open) db.prepare('DELETE FROM run_leases WHERE run_id = ? AND token = ?').run(runId, mine.token);
}

/** Whether any process other than this one may be working on the project's runs now. */
export function anyLiveLease(db: Db): boolean {
  return listLeases(db).some((lease) => isLive(lease));
}

/**
 * Why a run has no worker any more (the reason an interrupted run records), or undefined while a live
 * process holds its lease.
 */
export function workerGone(db: Db, runId: number): string | undefined {
  const lease = leaseOf(db, runId);
  if (lease === undefined) return 'its process stopped without finishing it';
  if (isLive(lease)) return undefined;
  return `its process (${lease.pid} on ${lease.host}) stopped without finishing it; last heartbeat ${lease.heartbeatAt}`;
}

/**
 * Runs left `running` by a process that is gone (its lease dead or missing) become `interrupted`,
 * and their dead leases are dropped, in one IMMEDIATE transaction. Returns their ids.
 */
export function markInterruptedRuns(db: Db): number[] {
  return writeTransaction(db, () => {
    const running = db
      .prepare<[], { id: number }>("SELECT id FROM runs WHERE status = 'running' ORDER BY id")
      .all()
      .map((r) => r.id);
    const interrupted = running.flatMap((id) => {
      const reason = workerGone(db, id);
      return reason === undefined ? [] : [{ id, reason }];
    });
    for (const { id, reason } of interrupted) {
      db.prepare("UPDATE runs SET status = 'interrupted', error = ?, finished_at = ? WHERE id = ?").run(
        reason,
        now(),
        id,
      );
      db.prepare('DELETE FROM run_leases WHERE run_id = ?').run(id);
    }
    return interrupted.map((r) => r.id);
  });
}
