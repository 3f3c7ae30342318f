import { type ChildProcess, spawn } from 'node:child_process';
import { get } from 'node:http';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { openProject } from '../../src/main/store/project.ts';
import { listRuns } from '../../src/main/store/runs.ts';
import { makeImageFolder, tempDir } from '../helpers/fixtures.ts';
import { writeTinyResources } from '../helpers/tinyModels.ts';

const BIN = resolve(import.meta.dirname, '../../bin/winnow.js');

/** `winnow serve` on a demo project with the tiny models; resolves once it prints its URL. */
async function served(dir: string) {
  const env = {
    ...process.env,
    WINNOW_RESOURCES: writeTinyResources(tempDir()),
    WINNOW_HOME: join(tempDir(), 'home'),
  };
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--project', dir], { env });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<URL>((found, fail) => {
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const open = /Open (\S+)/.exec(stdout);
      if (open) found(new URL(open[1]!));
    });
    child.on('exit', () => fail(new Error(`serve exited: ${stderr}`)));
  });
  const headers = { authorization: `Bearer ${url.searchParams.get('token')}` };
  const call = async (method: string, request: unknown) => {
    const response = await fetch(new URL(`/api/${method}`, url), {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    return response.json() as Promise<unknown>;
  };
  /** The event stream an open page holds: resolves with the first event whose data matches. */
  const events = (matching: RegExp) =>
    new Promise<void>((seen) =>
      get(new URL('/api/events', url), { headers }, (response) =>
        response.on('data', (d: Buffer) => {
          if (matching.test(d.toString())) seen();
        }),
      ),
    );
  return { child, call, events, stderr: () => stderr };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((done) => child.on('exit', (code) => done(code)));
}

describe('Ctrl-C in winnow serve', () => {
  it('with a page open and a run going: pauses the run, closes the event stream and exits', async () => {
    const dir = join(tempDir(), 'demo');
    (await createDemoProject(dir)).close();
    const { child, call, events, stderr } = await served(dir);
    const progress = events(/"type":"progress"/);
    await call('runStart', {
      rounds: 50,
      perRound: 20,
      filter: 'contribution',
      acquisition: 'random',
      scoring: 'online',
      epsilon: 0.25,
    });
    await progress;
    const exit = exited(child);
    child.kill('SIGINT');
    expect(await exit).toBe(0);
    expect(stderr()).toContain('Stopping: a run going is paused');
    expect(stderr()).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    const project = openProject(dir);
    expect(listRuns(project.db).map((r) => r.status)).toEqual(['paused']);
    project.close();
  }, 120_000);

  it('with an import going: drops it (nothing of it kept) and exits, no stack trace', async () => {
    const dir = join(tempDir(), 'demo');
    (await createDemoProject(dir)).close();
    const folder = join(tempDir(), 'synthetic');
    await makeImageFolder(folder, { shirt: 1500, coat: 1500 });
    const instances = () => {
      const project = openProject(dir);
      const counts = project.db
        .prepare(
          'SELECT (SELECT count(*) FROM instances) AS instances, (SELECT count(*) FROM pending_imports) AS pending',
        )
        .get();
      project.close();
      return counts;
    };
    const before = instances();
    const { child, call, stderr } = await served(dir);
    await call('importStart', { kind: 'synthetic', folder });
    // Once it has read some files (its first chunk).
    for (;;) {
      const state = (await call('importState', {})) as { state: string; done?: number };
      if (state.state !== 'running' || (state.done ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const exit = exited(child);
    child.kill('SIGINT');
    expect(await exit).toBe(0);
    expect(stderr()).not.toMatch(/TypeError|at .*\.ts:\d+/);
    expect(instances()).toEqual(before);
  }, 120_000);
});
