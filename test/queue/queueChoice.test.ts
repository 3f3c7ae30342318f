import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/shared/api.ts';
import { RUN_DEFAULTS } from '../../src/shared/runSettings.ts';
import { WinnowError } from '../../src/main/errors.ts';
import { QueueChoice } from '../../src/main/queue/queueChoice.ts';
import { createEngine, dispatch } from '../../src/main/service/winnowService.ts';
import { initProject } from '../../src/main/store/project.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { freePort, hasRedis, RedisServer } from '../helpers/queueProcesses.ts';

const RUN = RUN_DEFAULTS;
const servers: RedisServer[] = [];
const redis = async () => {
  const server = new RedisServer(await freePort());
  await server.start();
  servers.push(server);
  return server;
};
afterAll(async () => {
  for (const server of servers) await server.stop();
});

describe.skipIf(!hasRedis)("the queue an engine's runs use (the desktop app's, winnow serve's)", () => {
  it('is chosen only once Redis answers there, kept for the user (readable by them alone), and can be dropped', async () => {
    const env = { WINNOW_HOME: join(tempDir(), 'home') };
    const file = join(env.WINNOW_HOME, 'queue.json');
    const choice = QueueChoice.forUser(undefined, env);
    expect(choice.describe()).toEqual({ url: null, source: null });
    await expect(choice.choose('http://10.0.0.5:6379')).rejects.toThrow(/is not a Redis URL/);
    const nobody = `redis://127.0.0.1:${await freePort()}`;
    await expect(choice.choose(nobody)).rejects.toThrow(`Cannot reach Redis at ${nobody}`);
    expect(existsSync(file)).toBe(false);

    const server = await redis();
    await choice.choose(server.url);
    expect(choice.describe()).toEqual({ url: server.url, source: 'setting' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // The next start of the app (a new engine for the same user) uses it.
    expect(QueueChoice.forUser(undefined, env).url()).toBe(server.url);

    await choice.choose(null);
    expect(QueueChoice.forUser(undefined, env).describe()).toEqual({ url: null, source: null });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ url: null });
  });

  it('is fixed by --queue: shown with its password hidden, and not changed from the screen', async () => {
    const env = { WINNOW_HOME: join(tempDir(), 'home') };
    const choice = QueueChoice.forUser('redis://:s3cret@10.0.0.5:6379', env);
    expect(choice.describe()).toEqual({ url: 'redis://:***@10.0.0.5:6379', source: 'flag' });
    expect(choice.url()).toBe('redis://:s3cret@10.0.0.5:6379');
    const refused = await choice.choose(null).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(WinnowError);
    expect((refused as WinnowError).message).toBe(
      'This engine was started with --queue redis://:***@10.0.0.5:6379, which every run uses.',
    );
    expect(() => QueueChoice.forUser('http://x:1', env)).toThrow(/is not a Redis URL/);
  });

  it('is what the next run started through the API generates with; none: the run goes in this process', async () => {
    const project = initProject(join(tempDir(), 'p'));
    const loaded: unknown[] = [];
    const engine = createEngine(project, {
      // Loading the models is the first thing an in-process run does; the queue is opened before it.
      loadModels: async (choice) => {
        loaded.push(choice);
        throw new WinnowError('No models in this test.', 'None.');
      },
      queue: QueueChoice.forUser(undefined, { WINNOW_HOME: join(tempDir(), 'home') }),
    });
    const finished = () =>
      new Promise<Extract<EngineEvent, { type: 'finished' }>>((done) => {
        const stop = engine.subscribe((event) => {
          if (event.type !== 'finished') return;
          stop();
          done(event);
        });
      });
    const server = await redis();
    expect(await dispatch(engine.api, 'queueChoose', { url: server.url })).toEqual({
      url: server.url,
      source: 'setting',
    });
    expect(await dispatch(engine.api, 'queueSetting', {})).toEqual({ url: server.url, source: 'setting' });
    await server.stop();
    let ended = finished();
    await dispatch(engine.api, 'runStart', RUN);
    expect((await ended).error).toMatch(`Cannot reach Redis at ${server.url}`);
    expect(loaded).toEqual([]);

    expect(await dispatch(engine.api, 'queueChoose', { url: null })).toEqual({ url: null, source: null });
    ended = finished();
    await dispatch(engine.api, 'runStart', RUN);
    expect((await ended).error).toBe('No models in this test. None.');
    expect(loaded).toHaveLength(1);
    project.close();
  });
});
