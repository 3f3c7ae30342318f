import { hostname } from 'node:os';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Generator, SamplingParams } from '../models/generator.ts';
import { generationItem } from '../pipeline/generationBackend.ts';
import { encodePng } from '../pipeline/storeImages.ts';
import {
  batchOf,
  encodeFloats,
  GENERATION_QUEUE,
  type GenerationResult,
  generationJobSchema,
} from './generationJob.ts';
import { queueConnection } from './redisConnection.ts';
import { WorkerHeartbeat } from './workerRegistry.ts';
import { WorkerModels } from './workerModels.ts';

export interface WorkerOptions {
  /** Jobs this process runs at once (each a whole generator batch): 1 per GPU is usual. */
  readonly concurrency: number;
  /**
   * Seconds a job may go without its worker renewing its lock before another worker takes it over
   * (the worker died or hung): BullMQ's lock duration; stalled jobs are checked twice as often.
   */
  readonly stallSeconds: number;
  /** Hears what the worker does, one line each (the CLI prints them). */
  readonly log: (line: string) => void;
}

/** How often a stalled job is put back before it fails for good (a job that kills every worker that takes it). */
export const MAX_STALLED = 2;

/** Compares samplers by their settings, whatever order the keys come in. */
function sameSampling(a: SamplingParams, b: Readonly<Record<string, unknown>>): boolean {
  const canonical = (s: Readonly<Record<string, unknown>>) => JSON.stringify(Object.entries(s).sort());
  return canonical(a) === canonical(b);
}

/**
 * A generation worker: takes jobs from the queue, checks it has the job's exact generator weights
 * and sampler, makes the images with the same Generator code the coordinator would run, and returns
 * them as PNGs. Runs until `close()` (which lets the jobs under way finish).
 */
export async function startWorker(url: string, options: WorkerOptions): Promise<{ close(): Promise<void> }> {
  const id = `${hostname()}-${process.pid}`;
  const models = new WorkerModels();
  const heartbeat = new WorkerHeartbeat(url, id, options.log);
  const makeJob = async (job: Job): Promise<GenerationResult> => {
    const parsed = generationJobSchema.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(
        `Job ${job.id} is not a generation job this worker understands (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}); run the same Winnow version on the coordinator and the workers.`,
      );
    const data = parsed.data;
    const started = performance.now();
    options.log(`took job ${job.id} (${data.items.length} images, attempt ${job.attemptsMade + 1})`);
    const generator: Generator = await models.generator(data.generatorId);
    heartbeat.usesGenerator(generator);
    const sampling = generator.sampling(data.steps);
    if (!sameSampling(sampling, data.sampling))
      throw new UnrecoverableError(
        `This worker's ${generator.id} samples with ${JSON.stringify(sampling)}, the job asks for ${JSON.stringify(data.sampling)}; run the same Winnow version on the coordinator and the workers.`,
      );
    const batch = batchOf(data);
    const raw = await generator.generate(
      batch.items.map((item) => generationItem(batch, item)),
      { guidanceScale: data.guidanceScale, steps: data.steps, batchSize: batch.items.length },
    );
    const pngs = await Promise.all(raw.map(encodePng));
    // Features from the PNG bytes, as the coordinator's embed stage would read them from its store.
    const encoder = data.encoderId === undefined ? undefined : await models.encoder(data.encoderId);
    const features = encoder ? await encoder.encode(pngs) : undefined;
    heartbeat.finished(pngs.length);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    options.log(`done job ${job.id} in ${seconds} s${encoder ? `, with ${encoder.id} features` : ''}`);
    return {
      worker: id,
      generatorId: generator.id,
      images: pngs.map((png, k) => ({
        seed: data.items[k]!.seed,
        png: png.toString('base64'),
        ...(encoder && features
          ? { features: encodeFloats(features.subarray(k * encoder.dim, (k + 1) * encoder.dim)) }
          : {}),
      })),
    };
  };
  const worker = new Worker(GENERATION_QUEUE, makeJob, {
    connection: queueConnection(url),
    name: id,
    concurrency: options.concurrency,
    lockDuration: options.stallSeconds * 1000,
    stalledInterval: (options.stallSeconds * 1000) / 2,
    maxStalledCount: MAX_STALLED,
  });
  worker.on('failed', (job, error) => options.log(`failed job ${job?.id ?? '?'}: ${error.message}`));
  // BullMQ reconnects by itself; the heartbeat says once when Redis went away and when it is back.
  worker.on('error', () => {});
  await worker.waitUntilReady();
  await heartbeat.start();
  options.log(`worker ${id} waiting for jobs on ${GENERATION_QUEUE} (concurrency ${options.concurrency})`);
  return {
    async close() {
      await worker.close();
      await heartbeat.stop();
      await models.dispose();
    },
  };
}
