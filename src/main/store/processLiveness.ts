import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Whether a process that marks its work in the project (a run's lease, a pending import) may still
 * be at it: alive on this host, or heartbeating on another. A mark whose heartbeat is older than
 * LEASE_TIMEOUT_MS is stale anywhere (a process on another host, a reused pid, a hung process).
 */
export const LEASE_TIMEOUT_MS = 5 * 60_000;

export function isLive(
  lease: { readonly pid: number; readonly host: string; readonly heartbeatAt: string },
  at: number = Date.now(),
): boolean {
  if (at - Date.parse(lease.heartbeatAt) > LEASE_TIMEOUT_MS) return false;
  return lease.host !== hostname() || pidAlive(lease.pid);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** A killed process its parent has not reaped yet still answers signal 0 (Linux: state Z). */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
