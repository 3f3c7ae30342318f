import { Redis } from 'ioredis';
import type { QueueStatus, QueueWorker } from '../../shared/api.ts';
import type { Generator } from '../models/generator.ts';
import { GENERATION_QUEUE } from './generationJob.ts';
import { displayUrl } from './redisConnection.ts';

/** How often a worker says it is alive; one silent for three of these is shown as gone. */
const HEARTBEAT_MS = 2000;
/** A gone worker's record stays this long, so the Run screen shows it gone rather than forgetting it. */
const RECORD_TTL_S = 120;
/** Jobs per second are counted over this recent window. */
const RATE_WINDOW_MS = 30_000;

const keyPrefix = `winnow:${GENERATION_QUEUE}:worker:`;

interface WorkerRecord {
  readonly id: string;
  readonly provider: string;
  readonly adapter: string;
  readonly jobs: number;
  readonly images: number;
  readonly jobsPerSecond: number;
  readonly seenAt: number;
}

/** A worker's record in Redis, renewed every HEARTBEAT_MS: what it runs on and how fast it goes. */
export class WorkerHeartbeat {
  private readonly client: Redis;
  private readonly startedAt = Date.now();
  private readonly finishedAt: number[] = [];
  private provider = 'not loaded yet';
  private adapter = '';
  private jobs = 0;
  private images = 0;
  private timer: NodeJS.Timeout | undefined;

  private readonly id: string;

  /** Also says when Redis goes away and comes back (BullMQ's worker reconnects silently). */
  constructor(url: string, id: string, log: (line: string) => void) {
    this.id = id;
    this.client = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
    let lost = false;
    this.client.on('error', () => {}); // retried by ioredis; reported once, on close
    this.client.on('close', () => {
      if (!lost) log(`lost Redis at ${displayUrl(url)}; retrying until it is back`);
      lost = true;
    });
    this.client.on('ready', () => {
      if (lost) log('Redis is back');
      lost = false;
    });
  }

  usesGenerator(generator: Generator): void {
    this.provider = generator.provider;
    this.adapter = generator.providerReason;
  }

  finished(images: number): void {
    this.jobs += 1;
    this.images += images;
    this.finishedAt.push(Date.now());
    void this.beat();
  }

  async start(): Promise<void> {
    await this.client.connect();
    await this.beat();
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.client.removeAllListeners('close');
    await this.client.del(keyPrefix + this.id).catch(() => undefined);
    this.client.disconnect();
  }

  private async beat(): Promise<void> {
    const now = Date.now();
    while (this.finishedAt.length > 0 && this.finishedAt[0]! < now - RATE_WINDOW_MS) this.finishedAt.shift();
    const window = Math.min(RATE_WINDOW_MS, Math.max(1, now - this.startedAt)) / 1000;
    const record: WorkerRecord = {
      id: this.id,
      provider: this.provider,
      adapter: this.adapter,
      jobs: this.jobs,
      images: this.images,
      jobsPerSecond: this.finishedAt.length / window,
      seenAt: now,
    };
    await this.client.set(keyPrefix + this.id, JSON.stringify(record), 'EX', RECORD_TTL_S).catch(() => undefined);
  }
}

/** The workers that said they were alive in the last RECORD_TTL_S seconds, and whether they still are. */
export async function readWorkers(client: Redis, now = Date.now()): Promise<QueueWorker[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 100);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  const values = keys.length === 0 ? [] : await client.mget(keys);
  return values
    .flatMap((v) => (v === null ? [] : [JSON.parse(v) as WorkerRecord]))
    .map((w) => ({
      id: w.id,
      alive: now - w.seenAt < 3 * HEARTBEAT_MS,
      provider: w.provider,
      adapter: w.adapter,
      jobs: w.jobs,
      images: w.images,
      jobsPerSecond: w.jobsPerSecond,
    }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** The queue's depth and workers, as the Run screen and the CLI show them. */
export async function queueStatus(url: string, client: Redis, counts: Record<string, number>): Promise<QueueStatus> {
  return {
    url: displayUrl(url),
    depth: {
      waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
    },
    workers: await readWorkers(client),
  };
}
