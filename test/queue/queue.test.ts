import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFeatures } from '../../src/main/store/features.ts';
import { listInstances } from '../../src/main/store/instances.ts';
import { getRun } from '../../src/main/store/runs.ts';
import { openProject } from '../../src/main/store/project.ts';
import { makeImageFolder, tempDir } from '../helpers/fixtures.ts';
import { freePort, hasRedis, RedisServer, winnow, winnowDone } from '../helpers/queueProcesses.ts';
import { writeTinyResources } from '../helpers/tinyModels.ts';

/** Every instance's cached features under the run's encoder (the backbone), by image hash. */
function cachedFeatures(dir: string) {
  const project = openProject(dir, { readonly: true });
  try {
    const instances = listInstances(project.db);
    const encoderId = (JSON.parse(getRun(project.db, instances[0]!.runId!)!.modelIds) as { encoder: string }).encoder;
    const features = loadFeatures(
      project.db,
      encoderId,
      instances.map((i) => i.imageHash),
    );
    return Object.fromEntries([...features].map(([hash, vector]) => [hash, Array.from(vector)]));
  } finally {
    project.close();
  }
}

/** What must be the same whoever made an instance: its seed, image (content hash) and provenance. */
function madeInstances(dir: string) {
  const project = openProject(dir, { readonly: true });
  try {
    return listInstances(project.db)
      .map((i) => ({
        seed: i.seed,
        hash: i.imageHash,
        round: i.roundIndex,
        prompt: i.prompt,
        perturbation: i.perturbation,
        generator: i.generatorId,
        genParams: i.genParams,
      }))
      .sort((a, b) => (a.seed ?? 0) - (b.seed ?? 0));
  } finally {
    project.close();
  }
}

// Slow enough sampling (tiny model, many steps) that a job is still running when a test kills something.
const RUN = ['run', '--rounds', '2', '--per-round', '16', '--seed', '7', '--steps', '300'];
const GENERATE = ['generate', '--class', 'shirt', '--count', '24', '--seed', '3', '--batch', '4', '--steps', '5'];
const STALL = ['--stall-seconds', '2'];

describe.skipIf(!hasRedis)('generation through a queue on Redis, with worker processes', () => {
  let work: string;
  let env: Record<string, string>;
  let reference: ReturnType<typeof madeInstances>;
  let referenceFeatures: ReturnType<typeof cachedFeatures>;
  let generated: ReturnType<typeof madeInstances>;

  const newProject = async (name: string) => {
    const dir = join(work, name);
    expect((await winnowDone(['init', dir], env)).code).toBe(0);
    expect((await winnowDone(['-p', dir, 'import', 'real', join(work, 'train')], env)).code).toBe(0);
    expect((await winnowDone(['-p', dir, 'import', 'real', join(work, 'val'), '--split', 'val'], env)).code).toBe(0);
    return dir;
  };
  const redis = async () => {
    const server = new RedisServer(await freePort());
    await server.start();
    return server;
  };

  beforeAll(async () => {
    work = tempDir();
    env = { WINNOW_HOME: join(work, 'home'), WINNOW_RESOURCES: writeTinyResources(join(work, 'resources')) };
    await makeImageFolder(join(work, 'train'), { shirt: 6, coat: 6 });
    await makeImageFolder(join(work, 'val'), { shirt: 4, coat: 4 }, 20);
    // What in-process generation makes: the queue's runs must end with exactly these.
    const ref = await newProject('reference');
    const run = await winnowDone(['-p', ref, ...RUN], env);
    expect(run.code, run.output).toBe(0);
    reference = madeInstances(ref);
    referenceFeatures = cachedFeatures(ref);
    expect(reference).toHaveLength(32);
    const gen = await newProject('generated');
    expect((await winnowDone(['-p', gen, ...GENERATE, '--epsilon', '0.5'], env)).code).toBe(0);
    generated = madeInstances(gen);
  }, 240_000);

  it('three workers make exactly the instances in-process generation makes', async () => {
    const server = await redis();
    const workers = [0, 1, 2].map(() => winnow(['worker', '--queue', server.url, ...STALL], env));
    await Promise.all(workers.map((w) => w.waitFor(/waiting for jobs/)));
    const dir = await newProject('generate-queue');
    const gen = await winnowDone(['-p', dir, ...GENERATE, '--epsilon', '0.5', '--queue', server.url], env);
    expect(gen.code, gen.output).toBe(0);
    expect(gen.output).toMatch(/Generated 24 instances of shirt/);
    expect(gen.output).toMatch(/3 workers alive/);
    expect(madeInstances(dir)).toEqual(generated);
    // The jobs went to more than one worker.
    expect(workers.filter((w) => /done job/.test(w.output)).length).toBeGreaterThan(1);
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    await server.stop();
  }, 120_000);

  it('a worker killed mid-job has its job taken over by another; nothing is made twice', async () => {
    const server = await redis();
    const first = winnow(['worker', '--queue', server.url, ...STALL], env);
    await first.waitFor(/waiting for jobs/);
    const dir = await newProject('worker-killed');
    const run = winnow(['-p', dir, ...RUN, '--queue', server.url], env);
    const [, killedJob] = await first.waitFor(/took job (\S+)/, 120_000);
    await first.kill('SIGKILL');
    const second = winnow(['worker', '--queue', server.url, ...STALL], env);
    expect(await run.exited, run.output).toBe(0);
    expect(second.output).toContain(`took job ${killedJob}`);
    expect(madeInstances(dir)).toEqual(reference);
    // The workers computed the backbone's features: the same the coordinator's embed stage makes.
    expect(second.output).toMatch(/done job \S+ in [\d.]+ s, with tiny-encoder-fixture@[0-9a-f]{12} features/);
    expect(cachedFeatures(dir)).toEqual(referenceFeatures);
    await second.kill('SIGTERM');
    await server.stop();
  }, 240_000);

  it('a coordinator killed mid-round resumes: jobs finished meanwhile are ingested, none made twice', async () => {
    const server = await redis();
    const workers = [0, 1].map(() => winnow(['worker', '--queue', server.url, ...STALL], env));
    await Promise.all(workers.map((w) => w.waitFor(/waiting for jobs/)));
    const dir = await newProject('coordinator-killed');
    const run = winnow(['-p', dir, ...RUN, '--queue', server.url], env);
    await Promise.race(workers.map((w) => w.waitFor(/took job \S+round1/, 120_000)));
    await run.kill('SIGKILL');
    // The workers finish round 1's jobs with nobody to ingest them.
    await Promise.all(workers.map((w) => w.waitFor(/done job \S+round1/, 60_000).catch(() => undefined)));
    const resumed = await winnowDone(['-p', dir, 'run', '--resume', '--queue', server.url], env);
    expect(resumed.code, resumed.output).toBe(0);
    const made = madeInstances(dir);
    expect(made).toEqual(reference);
    expect(new Set(made.map((m) => m.hash)).size).toBe(made.length);
    // Round 1's images were made once each: its jobs, enqueued again by the resumed run, were not run again.
    const round1 = workers.flatMap((w) => [...w.output.matchAll(/took job \S+round1\S+ \((\d+) images/g)]);
    expect(round1.reduce((sum, m) => sum + Number(m[1]), 0)).toBe(reference.filter((r) => r.round === 1).length);
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    await server.stop();
  }, 240_000);

  it('winnow generate killed and run again takes up its jobs: each image made once', async () => {
    const server = await redis();
    const worker = winnow(['worker', '--queue', server.url, ...STALL], env);
    await worker.waitFor(/waiting for jobs/);
    // Slower sampling (the last --steps counts), so that the kill comes with jobs left to make.
    const slow = [...GENERATE, '--epsilon', '0.5', '--steps', '100'];
    const inProcess = await newProject('generate-in-process');
    expect((await winnowDone(['-p', inProcess, ...slow], env)).code).toBe(0);
    const dir = await newProject('generate-killed');
    const command = ['-p', dir, ...slow, '--queue', server.url];
    const first = winnow(command, env);
    await worker.waitFor(/done job \S+generate-/, 120_000);
    await first.kill('SIGKILL');
    expect(first.output).not.toMatch(/Generated/);
    // The worker goes on with the jobs left, with nobody to ingest them.
    await worker.waitFor(/done job (\S+generate-\S+seed23)/, 120_000);
    const again = await winnowDone(command, env);
    expect(again.code, again.output).toBe(0);
    expect(madeInstances(dir)).toEqual(madeInstances(inProcess));
    // 24 images in jobs of 4: six jobs, each taken once (none enqueued anew by the second command).
    const taken = [...worker.output.matchAll(/took job (\S+)/g)].map((m) => m[1]);
    expect(taken).toHaveLength(6);
    expect(new Set(taken).size).toBe(6);
    await worker.kill('SIGTERM');
    await server.stop();
  }, 240_000);

  it('a job for weights the worker lacks fails with the reason, not retried', async () => {
    const server = await redis();
    // The same model under another name: another id (name@hash), so not the job's generator.
    const other = join(work, 'other-resources');
    cpSync(env.WINNOW_RESOURCES!, other, { recursive: true, dereference: false });
    const card = join(other, 'models/fmnist-ddpm/model_card.json');
    writeFileSync(card, readFileSync(card, 'utf8').replace('"tiny-ddpm-fixture"', '"tiny-ddpm-retrained"'));
    const worker = winnow(['worker', '--queue', server.url, ...STALL], { ...env, WINNOW_RESOURCES: other });
    await worker.waitFor(/waiting for jobs/);
    const dir = await newProject('wrong-model');
    const gen = await winnowDone(['-p', dir, ...GENERATE, '--queue', server.url], env);
    expect(gen.code).toBe(1);
    expect(gen.output).toMatch(
      /error: Generation job \S+ failed: This worker has no model tiny-ddpm-fixture@[0-9a-f]{12} \(it has: embedded \(tiny-ddpm-retrained@[0-9a-f]{12}\)\)\. Copy the coordinator's model folder here and register it/,
    );
    expect(gen.output).toMatch(/fix: Fix what it says on the workers, then run the same `winnow generate` again/);
    expect(worker.output.match(/took job/g)?.length).toBe(
      worker.output.match(/attempt 1\)/g)?.length, // each job taken once: an unrecoverable failure is not retried
    );
    await worker.kill('SIGTERM');
    await server.stop();
  }, 120_000);

  it('Redis going away mid-run is reported, and the run resumes once it is back', async () => {
    const server = await redis();
    const worker = winnow(['worker', '--queue', server.url, ...STALL], env);
    await worker.waitFor(/waiting for jobs/);
    const dir = await newProject('redis-lost');
    const run = winnow(['-p', dir, ...RUN, '--queue', server.url], env);
    await worker.waitFor(/took job/, 120_000);
    await server.stop();
    expect(await run.exited).toBe(1);
    expect(run.output).toMatch(
      new RegExp(
        `error: Lost the connection to Redis at ${server.url} mid-run\\.\\n\\s+fix: Start Redis there .* Then go on with the run: \`winnow run --resume --queue ${server.url}\``,
      ),
    );
    await server.start(); // empty: the jobs went with it
    await worker.waitFor(/Redis is back/, 30_000);
    const resumed = await winnowDone(['-p', dir, 'run', '--resume', '--queue', server.url], env);
    expect(resumed.code, resumed.output).toBe(0);
    expect(madeInstances(dir)).toEqual(reference);
    await worker.kill('SIGTERM');
    await server.stop();
  }, 240_000);

  it('an unreachable Redis is named with the fix, before anything starts', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const dir = await newProject('no-redis');
    const gen = await winnowDone(['-p', dir, ...GENERATE, '--queue', url], env);
    expect(gen.code).toBe(1);
    expect(gen.output).toMatch(
      new RegExp(`error: Cannot reach Redis at ${url} \\(.*ECONNREFUSED.*\\)\\.\\n\\s+fix: Start Redis there`),
    );
    expect(madeInstances(dir)).toEqual([]);
    const worker = await winnowDone(['worker', '--queue', url], env);
    expect(worker.code).toBe(1);
    expect(worker.output).toMatch(/error: Cannot reach Redis at/);
  }, 60_000);
});
