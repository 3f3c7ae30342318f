import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import type { QueueStatus } from '../../shared/api.ts';
import { WinnowError } from '../errors.ts';
import { batchGroups, type BatchItem, type GenerationBackend, type Made } from '../pipeline/generationBackend.ts';
import type { ImageStore } from '../store/imageStore.ts';
import {
  decodeFloats,
  GENERATION_QUEUE,
  type GenerationResult,
  generationResultSchema,
  jobFor,
  jobId,
} from './generationJob.ts';
import { checkRedisReachable, lostRedisError, queueConnection } from './redisConnection.ts';
import { queueStatus } from './workerRegistry.ts';

/** How long Redis may be gone before a batch stops with an error (its clients reconnect by themselves before). */
const LOST_AFTER_MS = 10_000;
const STATUS_EVERY_MS = 2000;

/** How long closing the queue may wait for Redis before the connections are just dropped. */
const CLOSE_GRACE_MS = 2000;

/** Retries of a job that failed on a worker (an error, not a missing model), waiting 2 s, 4 s, … between. */
export const JOB_ATTEMPTS = 3;
const BACKOFF_MS = 2000;

export interface QueueBackendOptions {
  /** Hears the queue's depth and workers every STATUS_EVERY_MS while a batch is under way. */
  readonly onStatus?: (status: QueueStatus) => void;
  /** What the user runs to go on after a failure (e.g. `winnow run --resume --queue URL`). */
  readonly resumeHint: string;
}

export interface QueueBackend extends GenerationBackend {
  close(): Promise<void>;
}

/**
 * The coordinator's side of a generation queue: each batch group becomes a job with an idempotent
 * id (project, run, round, first seed), results are checked and ingested as they arrive (each
 * group in one transaction, content-addressed), and a resumed run enqueues the same ids again,
 * which BullMQ keeps as they are: a job finished while the coordinator was away is ingested, one
 * still under way is waited for, nothing is made twice.
 */
export async function openQueueBackend(
  url: string,
  images: ImageStore,
  options: QueueBackendOptions,
): Promise<QueueBackend> {
  await checkRedisReachable(url);
  const connection = queueConnection(url);
  const queue = new Queue(GENERATION_QUEUE, {
    connection,
    defaultJobOptions: {
      attempts: JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: BACKOFF_MS },
      // Ingested jobs are removed by the coordinator; these bound what a vanished one leaves behind.
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
  // Each job awaited listens for the queue closing: hundreds at once are expected, not a leak.
  queue.setMaxListeners(0);
  const events = new QueueEvents(GENERATION_QUEUE, { connection });
  // Watches the connection (BullMQ's own clients reconnect silently) and reads worker records.
  const monitor = new Redis(url, { maxRetriesPerRequest: null });
  // A lost Redis is reported below, once, not as each client's every reconnection error.
  queue.on('error', () => {});
  events.on('error', () => {});
  monitor.on('error', () => {});
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);

  /**
   * Rejects when the batch is cancelled, or when Redis has been unreachable for `LOST_AFTER_MS` (from
   * now if it already is): BullMQ's clients would wait for it for ever.
   */
  const stopWatch = (signal: AbortSignal | undefined) => {
    let timer: NodeJS.Timeout | undefined;
    let end = () => {};
    const stopped = new Promise<never>((_, reject) => {
      const onClose = () => {
        timer ??= setTimeout(() => reject(lostRedisError(url, `${options.resumeHint}.`)), LOST_AFTER_MS);
      };
      const onReady = () => {
        clearTimeout(timer);
        timer = undefined;
      };
      const onAbort = () => reject(signal?.reason);
      monitor.on('close', onClose);
      monitor.on('ready', onReady);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (monitor.status !== 'ready') onClose();
      end = () => {
        clearTimeout(timer);
        monitor.off('close', onClose);
        monitor.off('ready', onReady);
        signal?.removeEventListener('abort', onAbort);
      };
    });
    return { stopped, end };
  };
  return {
    async produce(generator, batches, hooks) {
      const jobs = batches.flatMap((batch, index) =>
        batchGroups(batch).map((group) => ({ index, batch, group, id: jobId(batch, group) })),
      );
      const total = jobs.reduce((sum, j) => sum + j.group.length, 0);
      if (total === 0) return;
      let settled = false;
      let done = 0;
      const enqueue = async () => {
        const ours = new Set(jobs.map((j) => j.id));
        // A job that failed for good before (a worker lacked the model) is tried afresh.
        for (const failed of await queue.getFailed(0, -1))
          if (failed.id !== undefined && ours.has(failed.id)) await failed.remove();
        return queue.addBulk(
          jobs.map((j) => ({
            name: 'generate',
            data: jobFor(generator.id, generator.sampling(j.batch.steps), j.batch, j.group),
            opts: { jobId: j.id },
          })),
        );
      };
      type Added = Awaited<ReturnType<typeof enqueue>>[number];
      const ingest = async (j: (typeof jobs)[number], job: Added): Promise<void> => {
        let result: GenerationResult;
        try {
          result = generationResultSchema.parse(await job.waitUntilFinished(events));
        } catch (error) {
          if (settled) return;
          throw new WinnowError(
            `Generation job ${j.id} failed: ${(error as Error).message}`,
            `Fix what it says on the workers, then ${options.resumeHint}.`,
          );
        }
        const made = await storeResult(images, generator.id, j.id, j.group, result, j.batch.features?.dim);
        if (settled) return;
        hooks.onStored(j.index, made);
        done += made.length;
        hooks.onProgress?.(done, total);
        await job.remove().catch(() => undefined);
      };
      const watch = stopWatch(hooks.signal);
      const report = () =>
        queue
          .getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed')
          .then((counts) => queueStatus(url, monitor, counts))
          .then((status) => !settled && options.onStatus?.(status))
          .catch(() => undefined);
      void report();
      const ticker = setInterval(report, STATUS_EVERY_MS);
      try {
        // Every Redis command waits while Redis is away: the watch ends the wait when it stays away.
        await Promise.race([
          enqueue().then((added) => Promise.all(jobs.map((j, k) => ingest(j, added[k]!)))),
          watch.stopped,
        ]);
      } finally {
        settled = true;
        clearInterval(ticker);
        watch.end();
      }
    },
    async close() {
      monitor.disconnect();
      // A graceful close waits for Redis; with Redis gone it would wait for ever.
      const closed = Promise.allSettled([events.close(), queue.close()]);
      const gone = await Promise.race([closed.then(() => false), sleep(CLOSE_GRACE_MS).then(() => true)]);
      // Dropping the connections is not awaited: with Redis gone, BullMQ's promise never settles.
      if (gone) void Promise.allSettled([events.disconnect(), queue.disconnect()]);
    },
  };
}

/**
 * A worker's images, checked (the job's generator, the group's seeds, real PNGs) and stored
 * content-addressed; a worker is another machine, so nothing it sends is taken on trust.
 */
export async function storeResult(
  images: ImageStore,
  generatorId: string,
  id: string,
  group: readonly BatchItem[],
  result: GenerationResult,
  /** The features' length, when the job asked for them. */
  featureDim?: number,
): Promise<Made[]> {
  const bad = (why: string) =>
    new WinnowError(
      `Worker ${result.worker} returned job ${id} with ${why}.`,
      'Run the same Winnow version on the coordinator and the workers.',
    );
  if (result.generatorId !== generatorId) throw bad(`images made by ${result.generatorId}, not ${generatorId}`);
  const bySeed = new Map(result.images.map((image) => [image.seed, image]));
  if (result.images.length !== group.length || group.some((item) => !bySeed.has(item.seed)))
    throw bad(
      `seeds ${result.images.map((i) => i.seed).join(', ')} where ${group.map((i) => i.seed).join(', ')} were asked`,
    );
  return Promise.all(
    group.map(async (item) => {
      const sent = bySeed.get(item.seed)!;
      const png = Buffer.from(sent.png, 'base64');
      let features: Float32Array | undefined;
      if (featureDim !== undefined) {
        features = sent.features === undefined ? undefined : decodeFloats(sent.features);
        if (features?.length !== featureDim || features.some((v) => !Number.isFinite(v)))
          throw bad(`no ${featureDim} finite features for seed ${item.seed}`);
      }
      const meta = await sharp(png)
        .metadata()
        .catch(() => undefined);
      if (meta?.format !== 'png' || !meta.width || !meta.height || (meta.channels !== 1 && meta.channels !== 3))
        throw bad(`an image for seed ${item.seed} that is not a 1- or 3-channel PNG`);
      const hash = await images.put(png);
      return {
        seed: item.seed,
        image: { hash, width: meta.width, height: meta.height, channels: meta.channels, bytes: png.byteLength },
        ...(features ? { features } : {}),
      };
    }),
  );
}
