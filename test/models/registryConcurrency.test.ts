import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { addModel, listModels } from '../../src/main/models/modelRegistry.ts';
import { tempDir } from '../helpers/fixtures.ts';

const BIN = resolve(import.meta.dirname, '../../bin/winnow.js');
const CLIP = resolve(import.meta.dirname, '../fixtures/models/tiny-clip');
const SD = resolve(import.meta.dirname, '../fixtures/models/tiny-sd');

/** `winnow models add` in its own process; resolves with its exit code and output. */
function add(folder: string, name: string, home: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [BIN, 'models', 'add', folder, '--name', name], {
    env: { ...process.env, WINNOW_HOME: home, WINNOW_PROJECT: '' },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((done) => child.on('exit', (code) => done({ code, out })));
}

describe('the model registry under concurrent writers', () => {
  it('keeps every model when several processes add different models at once', async () => {
    const home = tempDir();
    const names = ['sd-a', 'clip-a', 'sd-b', 'clip-b'];
    const results = await Promise.all(names.map((n) => add(n.startsWith('sd') ? SD : CLIP, n, home)));
    for (const r of results) expect(r).toMatchObject({ code: 0, out: expect.stringMatching(/Added/) });
    expect(
      listModels({ WINNOW_HOME: home })
        .map((m) => m.name)
        .sort(),
    ).toEqual([...names].sort());
    expect(existsSync(join(home, 'models.json.lock'))).toBe(false);
  }, 120_000);

  it('registers one of two processes adding the same name, and refuses the other clearly', async () => {
    const home = tempDir();
    const results = await Promise.all([add(SD, 'same', home), add(CLIP, 'same', home)]);
    expect(results.map((r) => r.code).sort()).toEqual([0, 1]);
    expect(results.find((r) => r.code === 1)?.out).toMatch(/A model named "same" is already registered/);
    expect(listModels({ WINNOW_HOME: home }).map((m) => m.name)).toEqual(['same']);
  }, 120_000);

  it('breaks a lock left by a killed process, and one older than a minute', async () => {
    const home = tempDir();
    mkdirSync(home, { recursive: true });
    const lock = join(home, 'models.json.lock');
    const gone = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
    writeFileSync(lock, JSON.stringify({ pid: gone, host: hostname(), token: 'x' }));
    await addModel(CLIP, 'after-kill', { WINNOW_HOME: home });
    // A holder that cannot be checked (another host) is trusted for a minute, then taken as crashed.
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: 'elsewhere', token: 'y' }));
    utimesSync(lock, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    await addModel(CLIP, 'after-old', { WINNOW_HOME: home });
    // An empty lock (a holder killed between creating and writing it) is judged by its age alone.
    writeFileSync(lock, '');
    utimesSync(lock, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    await addModel(CLIP, 'after-empty', { WINNOW_HOME: home });
    expect(listModels({ WINNOW_HOME: home }).map((m) => m.name)).toEqual(['after-kill', 'after-old', 'after-empty']);
    expect(existsSync(lock)).toBe(false);
  }, 60_000);

  it('waits for a live holder to release the lock, and writes nothing until then', async () => {
    const home = tempDir();
    const lock = join(home, 'models.json.lock');
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), token: 'live' }));
    const adding = addModel(CLIP, 'waited', { WINNOW_HOME: home });
    await delay(3000);
    expect(listModels({ WINNOW_HOME: home })).toEqual([]);
    rmSync(lock);
    await adding;
    expect(listModels({ WINNOW_HOME: home }).map((m) => m.name)).toEqual(['waited']);
  }, 60_000);
});
