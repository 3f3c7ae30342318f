// Generation through the queue (`winnow worker`) against in-process generation, and the rate the
// single writer (the coordinator) ingests results at:
//  - throughput: `winnow generate --count N` in-process, then with --queue and 1, 2, 4 local worker
//    processes (each `winnow worker`, concurrency 1), the embedded generator on this machine's CPU;
//    wall time of the coordinator's command, models loaded on first use included;
//  - ingest ceiling: a worker that returns ready-made PNGs at once (no generation), so the rate is
//    what Redis and the coordinator's checks, image store writes and SQLite transactions allow;
//    and the same ingest with no queue at all (the writer alone).
//
//   nice -n 10 node bench/workers.ts [--images 256] [--steps 4] [--batch 16] [--workers 1,2,4] [--ingest 4096]
//
// Needs redis-server (Debian's package); starts its own on a free loopback port, without persistence.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'bullmq';
import sharp from 'sharp';
import type { Generator } from '../src/main/models/generator.ts';
import { recordGenerated } from '../src/main/pipeline/generate.ts';
import type { GenerationBatch } from '../src/main/pipeline/generationBackend.ts';
import { GENERATION_QUEUE, type GenerationJob } from '../src/main/queue/generationJob.ts';
import { openQueueBackend, storeResult } from '../src/main/queue/queueBackend.ts';
import { queueConnection } from '../src/main/queue/redisConnection.ts';
import { addClass } from '../src/main/store/classes.ts';
import { initProject } from '../src/main/store/project.ts';
import { createRun } from '../src/main/store/runs.ts';

const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '256' },
    steps: { type: 'string', default: '4' },
    batch: { type: 'string', default: '16' },
    workers: { type: 'string', default: '1,2,4' },
    ingest: { type: 'string', default: '4096' },
  },
});
const IMAGES = Number(args.images);
const STEPS = Number(args.steps);
const BATCH = Number(args.batch);
const WORKERS = args.workers.split(',').map(Number);
const INGEST = Number(args.ingest);
const BIN = resolve(import.meta.dirname, '../bin/winnow.js');
const work = mkdtempSync(join(tmpdir(), 'winnow-bench-workers-'));
const children: ChildProcess[] = [];
const env = { ...process.env, WINNOW_HOME: join(work, 'home'), WINNOW_PROJECT: '' };

function start(cmd: string, argv: string[]): { child: ChildProcess; output: () => string; exited: Promise<number> } {
  const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number>((done) => child.on('exit', (code) => done(code ?? -1)));
  return { child, output: () => output, exited };
}

async function waitFor(read: () => string, pattern: RegExp): Promise<void> {
  while (!pattern.test(read())) await new Promise((done) => setTimeout(done, 50));
}

async function winnow(argv: string[]): Promise<string> {
  const run = start(process.execPath, [BIN, ...argv]);
  const code = await run.exited;
  if (code !== 0) throw new Error(`winnow ${argv.join(' ')} exited ${code}:\n${run.output()}`);
  return run.output();
}

/** A project with one class, shirt (the embedded generator's), and a few real images. */
async function newProject(name: string): Promise<string> {
  const dir = join(work, name);
  const folder = join(work, `${name}-real`, 'shirt');
  mkdirSync(folder, { recursive: true });
  for (let i = 0; i < 4; i++)
    await sharp(Buffer.alloc(784, 40 * i), { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toFile(join(folder, `${i}.png`));
  await winnow(['init', dir]);
  await winnow(['-p', dir, 'import', 'real', join(work, `${name}-real`)]);
  return dir;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

const port = await freePort();
const url = `redis://127.0.0.1:${port}`;
const redis = start('redis-server', [
  '--port',
  String(port),
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
]);
await waitFor(redis.output, /Ready to accept connections/);

const generate = ['generate', '--class', 'shirt', '--count', String(IMAGES), '--seed', '1'];
const settings = ['--steps', String(STEPS), '--batch', String(BATCH)];
const rows: { setup: string; seconds: number; perSecond: number }[] = [];
const timed = async (setup: string, argv: string[]) => {
  const started = performance.now();
  await winnow(argv);
  const seconds = (performance.now() - started) / 1000;
  rows.push({ setup, seconds, perSecond: IMAGES / seconds });
  console.log(`${setup}: ${seconds.toFixed(1)} s, ${(IMAGES / seconds).toFixed(1)} images/s`);
};
try {
  await timed('in-process', ['-p', await newProject('in-process'), ...generate, ...settings]);
  for (const n of WORKERS) {
    const workers = Array.from({ length: n }, () =>
      start(process.execPath, [BIN, 'worker', '--queue', url, '--concurrency', '1']),
    );
    await Promise.all(workers.map((w) => waitFor(w.output, /waiting for jobs/)));
    await timed(`${n} worker${n === 1 ? '' : 's'}`, [
      '-p',
      await newProject(`workers-${n}`),
      ...generate,
      ...settings,
      '--queue',
      url,
    ]);
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
  }

  // The writer's ceiling: distinct 28×28 PNGs, returned by a worker that makes nothing.
  const pngs = await Promise.all(
    Array.from({ length: INGEST }, (_, i) => {
      const pixels = Buffer.alloc(784);
      for (let p = 0; p < 784; p++) pixels[p] = (i * 7919 + p * 104729) & 0xff;
      pixels.writeUInt32LE(i, 0);
      return sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } })
        .png()
        .toBuffer()
        .then((b) => b.toString('base64'));
    }),
  );
  const generatorId = 'echo@000000000000';
  const echo = new Worker(
    GENERATION_QUEUE,
    async (job) => ({
      worker: 'echo',
      generatorId,
      images: (job.data as GenerationJob).items.map((item) => ({ seed: item.seed, png: pngs[item.seed]! })),
    }),
    { connection: queueConnection(url), concurrency: 8 },
  );
  const ingestInto = async (name: string, via: 'queue' | 'writer alone') => {
    const project = initProject(join(work, name));
    const cls = addClass(project.db, { name: 'shirt' });
    const runId = createRun(project.db, 'generate', {});
    const common = {
      epsilon: 0,
      generatorId,
      guidanceScale: 0,
      steps: 1,
      sampling: { sampler: 'none' },
      runId,
      roundIndex: null,
    };
    const record = (
      made: readonly { seed: number; image: Awaited<ReturnType<typeof storeResult>>[number]['image'] }[],
    ) =>
      recordGenerated(
        project.db,
        cls,
        made.map(({ seed, image }) => ({ image, prompt: 'shirt', seed, perturbation: null })),
        common,
      );
    const batch: GenerationBatch = {
      scope: `bench-${name}`,
      bases: [new Float32Array(4)],
      epsilon: 0,
      items: Array.from({ length: INGEST }, (_, seed) => ({ seed, base: 0 })),
      guidanceScale: 0,
      steps: 1,
      batchSize: 64,
    };
    const started = performance.now();
    if (via === 'queue') {
      const backend = await openQueueBackend(url, project.images, { resumeHint: 'rerun the bench' });
      const generator = { id: generatorId, sampling: () => ({ sampler: 'none' }) } as unknown as Generator;
      await backend.produce(generator, [batch], { onStored: (_b, made) => record(made) });
      await backend.close();
    } else {
      for (let start = 0; start < INGEST; start += 64) {
        const group = batch.items.slice(start, start + 64);
        const images = group.map((item) => ({ seed: item.seed, png: pngs[item.seed]! }));
        record(await storeResult(project.images, generatorId, name, group, { worker: 'none', generatorId, images }));
      }
    }
    const seconds = (performance.now() - started) / 1000;
    project.close();
    console.log(
      `ingest (${via}): ${INGEST} images in ${seconds.toFixed(1)} s, ${(INGEST / seconds).toFixed(0)} images/s`,
    );
    return { via, seconds, perSecond: INGEST / seconds };
  };
  const ingest = [await ingestInto('ingest-queue', 'queue'), await ingestInto('ingest-alone', 'writer alone')];
  await echo.close();

  // Other work on the machine shares its cores: the load average says how much.
  const cpu = `${cpus()[0]?.model ?? 'CPU'}, ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)} at the end`;
  const base = rows[0]!.perSecond;
  const md = [
    '# Generation workers: throughput and the single writer’s ceiling',
    '',
    `Measured by \`node bench/workers.ts --images ${IMAGES} --steps ${STEPS} --batch ${BATCH} --workers ${WORKERS.join(',')} --ingest ${INGEST}\` on ${cpu}, ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `Generation: \`winnow generate --count ${IMAGES} --steps ${STEPS} --batch ${BATCH}\` with the embedded generator on the CPU; wall time of the coordinator's command (model loading included), workers started and waiting beforehand.`,
    '',
    '| setup | seconds | images/s | vs in-process |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.setup} | ${r.seconds.toFixed(1)} | ${r.perSecond.toFixed(1)} | ${(r.perSecond / base).toFixed(2)}× |`,
    ),
    '',
    `Ingest (${INGEST} distinct 28×28 PNGs in jobs of 64, a worker that returns them at once): each result checked (seeds, generator, PNG header), written to the image store and recorded in one SQLite transaction per job.`,
    '',
    '| path | seconds | images/s |',
    '| --- | ---: | ---: |',
    ...ingest.map(
      (r) =>
        `| ${r.via === 'queue' ? 'through Redis (BullMQ)' : 'the writer alone (no queue)'} | ${r.seconds.toFixed(1)} | ${r.perSecond.toFixed(0)} |`,
    ),
    '',
  ].join('\n');
  const out = resolve(import.meta.dirname, 'results');
  writeFileSync(join(out, 'workers.md'), md);
  writeFileSync(
    join(out, 'workers.json'),
    `${JSON.stringify({ cpu, images: IMAGES, steps: STEPS, batch: BATCH, rows, ingest }, null, 2)}\n`,
  );
  console.log(md);
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}
