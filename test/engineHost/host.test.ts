import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent, ProjectStatus } from '../../src/shared/api.ts';
import type { Method } from '../../src/shared/methods.ts';
import { EngineClient } from '../../src/main/engineHost/client.ts';
import type { FromEngine } from '../../src/main/engineHost/protocol.ts';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { openProject } from '../../src/main/store/project.ts';
import { listRuns } from '../../src/main/store/runs.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { writeTinyResources } from '../helpers/tinyModels.ts';

// The engine on another thread, driven through the same client the Electron main process uses.
let worker: Worker;
let client: EngineClient;
let dir: string;

beforeAll(async () => {
  dir = join(tempDir(), 'demo');
  (await createDemoProject(dir)).close();
  worker = new Worker(resolve(import.meta.dirname, '../helpers/engineWorker.ts'), {
    workerData: { dir },
    env: { ...process.env, WINNOW_RESOURCES: writeTinyResources(tempDir()) },
  });
  client = new EngineClient({
    onMessage: (listener) => worker.on('message', (message: FromEngine) => listener(message)),
    post: (message) => worker.postMessage(message),
  });
});
afterAll(() => worker.terminate());

describe('the engine in its own process', () => {
  it('answers calls through the port, validating them as every transport does', async () => {
    const status = await client.call('projectStatus', {});
    expect(status.ok && (status.value as ProjectStatus).classes).toHaveLength(10);
    expect(await client.call('classExtremes', { classId: 1, n: 0 })).toMatchObject({
      ok: false,
      error: 'The number of instances to show must be at least 1 (got 0).',
    });
    expect(await client.call('dropTables' as Method, {})).toMatchObject({
      ok: false,
      error: 'There is no API method dropTables.',
    });
  });

  it('streams a run’s progress events back while the run goes on', async () => {
    const events: EngineEvent[] = [];
    const finished = new Promise<EngineEvent>((done) =>
      client.onEvent((event) => {
        events.push(event);
        if (event.type === 'finished') done(event);
      }),
    );
    const started = await client.call('runStart', {
      rounds: 1,
      perRound: 20,
      seed: 1,
      filter: 'contribution',
      acquisition: 'random',
      scoring: 'online',
      epsilon: 0.5,
    });
    expect(started).toEqual({ ok: true, value: { started: true } });
    expect(await finished).toMatchObject({ type: 'finished', status: 'done' });
    expect(events.filter((e) => e.type === 'progress').map((e) => e.type === 'progress' && e.event.stage)).toEqual(
      expect.arrayContaining(['generate', 'score', 'evaluate']),
    );
  });

  it('closes when the app quits: a run going is paused, to resume later, and the project closed', async () => {
    const generating = new Promise<void>((done) =>
      client.onEvent((event) => {
        if (event.type === 'progress' && event.event.stage === 'generate') done();
      }),
    );
    const settings = { rounds: 5, perRound: 200, seed: 2, filter: 'contribution', acquisition: 'random' };
    expect(await client.call('runStart', { ...settings, scoring: 'online', epsilon: 0.5 })).toMatchObject({ ok: true });
    await generating;
    await client.close();
    // The run is paused (it resumes later), not left running for a crashed process's lease to expire.
    const project = openProject(dir);
    expect(listRuns(project.db).map((r) => r.status)).toEqual(['done', 'paused']);
    project.close();
  });

  it('fails waiting and later calls clearly when the engine stops, and a quit does not wait for it', async () => {
    // Clients of their own: the engine process they talk to never answers.
    const stuck = () => new EngineClient({ onMessage: () => {}, post: () => {} });
    const reason = 'The engine process stopped (exit code 1); restart Winnow.';
    const stopped = { ok: false, error: reason };
    const quitting = stuck();
    const waiting = quitting.call('projectStatus', {});
    const closing = quitting.close();
    quitting.engineEnded(reason);
    expect(await waiting).toEqual(stopped);
    await closing;
    const ended = stuck();
    ended.engineEnded(reason);
    expect(await ended.call('projectStatus', {})).toEqual(stopped);
    await ended.close();
  });
});
