import type { Server } from 'node:http';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_MODEL, type ModelInfo } from '../../src/shared/api.ts';
import { WinnowError } from '../../src/main/errors.ts';
import { EMBEDDED } from '../../src/main/models/modelLoader.ts';
import { defaultLoopParams } from '../../src/main/pipeline/loop.ts';
import { serve } from '../../src/main/server/server.ts';
import { Jobs } from '../../src/main/service/jobs.ts';
import { modelsOfUnfinishedRun } from '../../src/main/service/modelChoice.ts';
import { createEngine } from '../../src/main/service/winnowService.ts';
import { initProject, type Project } from '../../src/main/store/project.ts';
import { createRun, setRunStatus } from '../../src/main/store/runs.ts';
import { tempDir } from '../helpers/fixtures.ts';

// The model registry through the API, over `winnow serve`: listing, adding (with the folder
// check's every problem and its fix), removing, and runs refusing models that are not there.
const CLIP = resolve(import.meta.dirname, '../fixtures/models/tiny-clip');
let project: Project;
let server: Server;
let base: string;
let token: string;

beforeAll(async () => {
  // A registry of this file's own, whatever other test files register meanwhile.
  process.env.WINNOW_HOME = join(tempDir(), 'home');
  project = initProject(join(tempDir(), 'p'));
  const started = await serve({ engine: createEngine(project), port: 0, host: '127.0.0.1' });
  server = started.server;
  token = started.token;
  base = new URL(started.url).origin;
});
afterAll(async () => {
  await new Promise((done) => server.close(done));
  project.close();
});

async function call(method: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${base}/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const start = {
  rounds: 1,
  perRound: 10,
  seed: 0,
  filter: 'contribution',
  acquisition: 'random',
  scoring: 'online',
  epsilon: 0.25,
};

describe('models over the API', () => {
  it('lists, adds, refuses bad folders with every problem and the fix, and removes', async () => {
    expect(EMBEDDED_MODEL).toBe(EMBEDDED);
    const empty = await call('modelList', {});
    expect(empty.json).toMatchObject({ ok: true, value: { models: [], provider: expect.any(String) } });

    const relative = await call('modelAdd', { folder: 'models/tiny-clip' });
    expect(relative.status).toBe(400);
    expect(relative.json.error).toBe('The model folder must be an absolute path (got "models/tiny-clip").');
    expect((await call('modelAdd', { folder: CLIP, name: '../x' })).status).toBe(400);

    const notModel = await call('modelAdd', { folder: tempDir() });
    expect(notModel.json).toMatchObject({
      ok: false,
      error: expect.stringMatching(/is neither a Stable Diffusion folder .* nor a CLIP folder/),
      fix: expect.stringMatching(/optimum-cli export onnx/),
    });

    const broken = join(tempDir(), 'broken-clip');
    cpSync(CLIP, broken, { recursive: true });
    rmSync(join(broken, 'vision_model.onnx'));
    writeFileSync(join(broken, 'preprocessor_config.json'), '{ not json');
    const problems = await call('modelAdd', { folder: broken });
    expect(problems.json.ok).toBe(false);
    const lines = (problems.json.error as string).split('\n');
    expect(lines[0]).toBe(`${broken} is not a usable CLIP model folder:`);
    expect(lines.slice(1)).toEqual([
      '  - vision_model.onnx or onnx/vision_model.onnx is missing',
      expect.stringMatching(/^ {2}- preprocessor_config\.json is not valid JSON/),
    ]);
    expect(problems.json.fix).toMatch(/text_model\.onnx and vision_model\.onnx/);

    const added = await call('modelAdd', { folder: CLIP, name: 'clip-a' });
    expect(added.json).toMatchObject({
      ok: true,
      value: {
        name: 'clip-a',
        kind: 'clip',
        path: CLIP,
        precision: 'fp32',
        id: expect.stringMatching(/^clip-a@\w{12}$/),
      },
    });
    const model = added.json.value as ModelInfo;
    expect(model.sizeBytes).toBeGreaterThan(200_000);
    const again = await call('modelAdd', { folder: CLIP, name: 'clip-a' });
    expect(again.json).toMatchObject({ ok: false, error: 'A model named "clip-a" is already registered.' });
    expect(((await call('modelList', {})).json.value as { models: ModelInfo[] }).models).toEqual([model]);

    expect(await call('modelRemove', { name: 'clip-a' })).toMatchObject({
      json: { ok: true, value: { removed: 'clip-a' } },
    });
    expect((await call('modelRemove', { name: 'clip-a' })).json).toMatchObject({
      ok: false,
      error: 'No model named "clip-a" is registered.',
      fix: expect.stringMatching(/models add/),
    });
  });

  it('refuses to start a run with a model that is not registered, of the wrong kind, or a clip filter without one', async () => {
    await call('modelAdd', { folder: CLIP, name: 'clip-b' });
    const unknown = await call('runStart', { ...start, clip: 'nope' });
    expect(unknown.json).toMatchObject({
      ok: false,
      error: 'No model named "nope" is registered.',
      fix: expect.stringMatching(/clip-b/),
    });
    const wrongKind = await call('runStart', { ...start, generator: 'clip-b' });
    expect(wrongKind.json).toMatchObject({ ok: false, error: '"clip-b" is a clip model, not stable-diffusion.' });
    const noClip = await call('runStart', { ...start, filter: 'clip' });
    expect(noClip.json).toMatchObject({
      ok: false,
      error: expect.stringMatching(/needs a CLIP score model/),
      fix: expect.stringMatching(/Models screen/),
    });
    const embeddedClip = await call('runStart', { ...start, clip: 'embedded' });
    expect(embeddedClip.status).toBe(400);
    expect(embeddedClip.json.error).toMatch(/^The CLIP score model must be a registered CLIP model/);
    expect((await call('runState', {})).json).toMatchObject({ ok: true, value: { job: { state: 'idle' }, runs: [] } });
  });

  it('resumes a run with the models it started with, found by their ids', async () => {
    const clip = ((await call('modelList', {})).json.value as { models: ModelInfo[] }).models.find(
      (m) => m.name === 'clip-b',
    )!;
    const runId = createRun(project.db, 'loop', defaultLoopParams, {
      generator: 'fmnist-ddpm@000000000000',
      encoder: clip.id,
      clip: clip.id,
    });
    setRunStatus(project.db, runId, 'paused');
    expect(modelsOfUnfinishedRun(project)).toEqual({
      runId,
      choice: { generator: EMBEDDED, encoder: 'clip-b', clip: 'clip-b' },
    });
    // The job loads exactly those; a failure to load reaches the screen with its fix.
    const seen: unknown[] = [];
    const jobs = new Jobs(project, async (choice) => {
      seen.push(choice);
      throw new WinnowError('Cannot load.', 'Do this.');
    });
    const finished = new Promise((done) => jobs.events.once('finished', done));
    jobs.start('resume');
    expect(jobs.models).toEqual({ generator: EMBEDDED, encoder: 'clip-b', clip: 'clip-b' });
    expect(await finished).toEqual({ runId, status: 'failed', error: 'Cannot load. Do this.' });
    expect(seen).toEqual([{ generator: EMBEDDED, encoder: 'clip-b', clip: 'clip-b' }]);
    expect(jobs.models).toBeNull();
    // A model gone from the registry is named, with how to bring it back.
    await call('modelRemove', { name: 'clip-b' });
    const resumed = await call('runStart', { resume: true });
    expect(resumed.json).toMatchObject({
      ok: false,
      error: `Run ${runId} scored with the CLIP model ${clip.id}, which is no longer registered.`,
      fix: expect.stringMatching(/under the name "clip-b"/),
    });
    // Registered again under another name, the same folder is another model (the id has the name): still refused.
    await call('modelAdd', { folder: CLIP, name: 'clip-b-again' });
    expect(() => modelsOfUnfinishedRun(project)).toThrow(/no longer registered/);
    // Other files under the old name: they are not what the run was made with.
    const changed = join(tempDir(), 'changed-clip');
    cpSync(CLIP, changed, { recursive: true });
    writeFileSync(join(changed, 'notes.txt'), 'changed');
    await call('modelAdd', { folder: changed, name: 'clip-b' });
    expect(() => modelsOfUnfinishedRun(project)).toThrow(/is now clip-b@\w{12}: its files changed/);
    await call('modelAdd', { folder: CLIP, name: 'clip-c' });
  });
});
