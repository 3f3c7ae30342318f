import type { Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { WinnowError } from '../../src/main/errors.ts';
import { serve } from '../../src/main/server/server.ts';
import { createEngine } from '../../src/main/service/winnowService.ts';
import type { Project } from '../../src/main/store/project.ts';
import { listRealSamples } from '../../src/main/store/realSamples.ts';
import { tempDir } from '../helpers/fixtures.ts';

let project: Project;
let server: Server;
let base: string;
let token: string;

beforeAll(async () => {
  project = await createDemoProject(join(tempDir(), 'demo'));
  const started = await serve({ engine: createEngine(project), port: 0, host: '127.0.0.1' });
  server = started.server;
  token = started.token;
  base = new URL(started.url).origin;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  project.close();
});

const auth = () => ({ authorization: `Bearer ${token}` });
const call = (method: string, body: unknown, headers: Record<string, string> = auth()) =>
  fetch(`${base}/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('winnow serve', () => {
  it('refuses every request without the token', async () => {
    for (const path of ['/', '/index.html', `/images/${'0'.repeat(64)}.png`])
      expect((await fetch(base + path)).status).toBe(401);
    const wrong = await call('projectStatus', {}, { authorization: `Bearer ${'x'.repeat(token.length)}` });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ ok: false, error: expect.stringMatching(/token/) });
  });

  it('trades the token in the URL for an HttpOnly cookie, and serves the app with a strict CSP', async () => {
    const first = await fetch(`${base}/?token=${token}`, { redirect: 'manual' });
    expect(first.status).toBe(303);
    const cookie = first.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
    const page = await fetch(`${base}/`, { headers: { cookie: cookie.split(';')[0] ?? '' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(await page.text()).toMatch(/<div id="app">/);
  });

  it('answers API calls with the engine, validating every request', async () => {
    const ok = await call('projectStatus', {});
    expect(ok.status).toBe(200);
    const status = (await ok.json()) as { ok: boolean; value: { classes: unknown[] } };
    expect(status.ok).toBe(true);
    expect(status.value.classes).toHaveLength(10);
    const bad = await call('classExtremes', { classId: 1, n: 0 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe(
      'The number of instances to show must be at least 1 (got 0).',
    );
    const extra = await call('projectStatus', { sql: 'DROP TABLE instances' });
    expect(((await extra.json()) as { error: string }).error).toBe(
      'The projectStatus request does not take "sql": remove it.',
    );
    expect((await call('dropEverything', {})).status).toBe(404);
    const missing = await call('instanceDetail', { id: 999 });
    expect(await missing.json()).toMatchObject({ ok: false, error: 'There is no instance with id 999.' });
  });

  it('refuses a taken port or a foreign address with a message and the fix, not a crash', async () => {
    const port = Number(new URL(base).port);
    const engine = createEngine(project);
    const taken = await serve({ engine, port, host: '127.0.0.1' }).catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(WinnowError);
    expect(taken).toMatchObject({
      message: `Port ${port} on 127.0.0.1 is already in use (another winnow serve?).`,
      fix: 'Choose another port with --port (0: any free port).',
    });
    await expect(serve({ engine, port: 0, host: '192.0.2.1' })).rejects.toThrow(
      /192\.0\.2\.1 is not an address of this machine/,
    );
  });

  it('serves images and thumbnails by hash, and nothing outside its folders', async () => {
    const hash = listRealSamples(project.db, 'train')[0]!.imageHash;
    const image = await fetch(`${base}/images/${hash}.png`, { headers: auth() });
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect((await fetch(`${base}/thumbs/128/${hash}.png`, { headers: auth() })).status).toBe(200);
    expect((await fetch(`${base}/thumbs/1000/${hash}.png`, { headers: auth() })).status).toBe(404);
    for (const path of [
      '/../winnow.db',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/images/../../winnow.db',
      '/assets/..%2f..%2fwinnow.db',
    ]) {
      const response = await fetch(base + path, { headers: auth() });
      expect(response.status, path).toBe(404);
    }
  });
});
