import type { QueueStatus } from '../../shared/api.ts';

/** One line for a queue status: depth and live workers. */
export function describeQueueStatus(status: QueueStatus): string {
  const alive = status.workers.filter((w) => w.alive);
  const { waiting, active, delayed, failed } = status.depth;
  return `queue ${status.url}: ${waiting} waiting, ${active} active, ${delayed} to retry, ${failed} failed; ${alive.length} worker${alive.length === 1 ? '' : 's'} alive${alive.length > 0 ? ` (${alive.map((w) => `${w.id} on ${w.provider}`).join(', ')})` : ''}`;
}

/**
 * Prints the queue's status when the workers change (one joins, one dies) or the queue fills or
 * empties, not every few seconds: the progress bar shows the images as they arrive.
 */
export function queueReporter(print: (line: string) => void): (status: QueueStatus) => void {
  let last = '';
  return (status) => {
    const key = JSON.stringify([
      status.workers.filter((w) => w.alive).map((w) => w.id),
      status.depth.waiting === 0,
      status.depth.failed,
    ]);
    if (key === last) return;
    last = key;
    print(describeQueueStatus(status));
  };
}
