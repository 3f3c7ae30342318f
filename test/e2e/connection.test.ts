import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { serve } from '../../src/main/server/server.ts';
import { createEngine, type Engine } from '../../src/main/service/winnowService.ts';
import type { Project } from '../../src/main/store/project.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { tempDir } from '../helpers/fixtures.ts';

// The built renderer in Chromium while `winnow serve` goes away and comes back on the same port:
// the page says the engine is not reachable, keeps retrying, and recovers by itself (event
// stream included); a server restarted with a new token is told apart.
let project: Project;
let engine: Engine;
let browser: Browser;
let server: Server;
let url: string;
let port: number;
/** The event-stream requests the server has seen. */
let streams = 0;

beforeAll(async () => {
  process.env.WINNOW_HOME = join(tempDir(), 'home');
  project = await createDemoProject(join(tempDir(), 'demo'));
  engine = createEngine(project);
  ({ server, url } = await serve({ engine, port: 0, host: '127.0.0.1' }));
  port = Number(new URL(url).port);
  server.on('request', (request) => request.url === '/api/events' && streams++);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
  project.close();
});

/** Stops listening and drops every open connection (the event stream too), as a stopped server does. */
async function stop(s: Server): Promise<void> {
  const closed = new Promise((done) => s.close(done));
  s.closeAllConnections();
  await closed;
}

describe('the page when the engine goes away', () => {
  it('shows the engine as not reachable, retries, and recovers when it is back on the same port', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    await page.getByRole('link', { name: 'ankle boot' }).waitFor();
    await expect.poll(() => streams).toBe(1);
    const banner = page.getByRole('alert', { name: 'Connection' });
    expect(await banner.count()).toBe(0);

    await stop(server);
    await banner.getByText('The engine is not reachable (winnow serve stopped?). Retrying…').waitFor();
    // A call made meanwhile says so too, not "Failed to fetch".
    await page.getByRole('link', { name: 'Classes' }).click();
    await page.getByText('The engine is not reachable (winnow serve stopped?).', { exact: false }).first().waitFor();
    expect(await page.getByText('Failed to fetch').count()).toBe(0);

    // The same server back on its port: its sessions still hold (a dropped SSH tunnel, a paused engine).
    await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
    await banner.waitFor({ state: 'detached', timeout: 15_000 });
    await expect.poll(() => streams, { timeout: 10_000 }).toBe(2);
    await page.getByRole('link', { name: 'Project' }).click();
    await page.getByRole('link', { name: 'ankle boot' }).waitFor();
    await page.close();
  });

  it('tells a server restarted with a new token apart: the page must be opened with the new URL', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    await page.getByRole('link', { name: 'ankle boot' }).waitFor();
    await stop(server);
    const banner = page.getByRole('alert', { name: 'Connection' });
    await banner.getByText('not reachable').waitFor();
    const restarted = await serve({ engine, port, host: '127.0.0.1' });
    server = restarted.server;
    await banner.getByText('The engine no longer knows this page').waitFor({ timeout: 15_000 });
    // The new URL signs the page in again.
    await page.goto(restarted.url);
    await page.getByRole('link', { name: 'ankle boot' }).waitFor();
    expect(await banner.count()).toBe(0);
    await page.close();
  });
});
