import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../src/main/server/server.ts';
import { createEngine } from '../../src/main/service/winnowService.ts';
import { getInstance } from '../../src/main/store/instances.ts';
import type { Project } from '../../src/main/store/project.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { demoWithInstances } from '../helpers/servedProject.ts';

// A real Chromium with the workstation open (so it holds the session cookie) visits a hostile page
// served on another localhost port. Cookies ignore ports, so the browser sends the session along
// with everything that page tries; the server must refuse all of it.
let project: Project;
let ids: number[];
let winnow: Server;
let hostile: Server;
let browser: Browser;
let url: string;
let token: string;
let port: number;
/**
 * What the winnow server answered to requests from any page but its own, request by request. The
 * workstation's own page (Sec-Fetch-Site: same-origin) may still be loading when the attack starts.
 */
const answered: string[] = [];
/** The Cookie headers the hostile server received. */
const leaked: string[] = [];
const forgedDir = join(tempDir(), 'forged-project');

/** The attacker's page: every way a page can send a request to another origin without its consent. */
function hostilePage(target: string, id: number): string {
  const curate = JSON.stringify({ ids: [id], action: 'reject' });
  const create = JSON.stringify({ dir: forgedDir });
  return `<!doctype html><html><body>
<form id="form" method="POST" action="${target}/api/curate" enctype="text/plain" target="sink">
  <input name='${curate.slice(0, -1)}, "x": "' value='"}'>
</form>
<iframe name="sink"></iframe>
<script>
const results = {};
async function attempt(name, send) {
  try {
    const response = await send();
    results[name] = response.type === 'opaque' ? 'opaque' : response.status + ' ' + (await response.text());
  } catch (error) {
    results[name] = 'blocked: ' + error.message;
  }
}
(async () => {
  const post = (method, body, init) =>
    fetch('${target}/api/' + method, { method: 'POST', credentials: 'include', body, ...init });
  await attempt('no-cors text/plain curate', () => post('curate', '${curate}', { mode: 'no-cors', headers: { 'Content-Type': 'text/plain' } }));
  await attempt('no-cors text/plain projectCreate', () => post('projectCreate', '${create}', { mode: 'no-cors', headers: { 'Content-Type': 'text/plain' } }));
  await attempt('cors JSON curate', () => post('curate', '${curate}', { headers: { 'Content-Type': 'application/json' } }));
  await attempt('cors read of the project', () => post('projectStatus', '{}', { headers: { 'Content-Type': 'application/json' } }));
  await attempt('no-cors read of the page', () => fetch('${target}/', { mode: 'no-cors', credentials: 'include' }));
  results['cookies it can read'] = document.cookie;
  results['session key it can read'] = localStorage.getItem('winnow-session-key');
  document.getElementById('form').submit();
  await new Promise((done) => document.querySelector('iframe').addEventListener('load', done, { once: true }));
  window.results = results;
})();
</script></body></html>`;
}

beforeAll(async () => {
  ({ project, ids } = await demoWithInstances());
  ({ server: winnow, url, token } = await serve({ engine: createEngine(project), port: 0, host: '127.0.0.1' }));
  port = Number(new URL(url).port);
  winnow.on('request', (request, response) => {
    if (request.headers['sec-fetch-site'] === 'same-origin') return;
    response.on('finish', () => answered.push(`${request.method} ${request.url} ${response.statusCode}`));
  });
  hostile = createServer((request, response) => {
    if (request.headers.cookie) leaked.push(request.headers.cookie);
    response.writeHead(200, { 'content-type': 'text/html' }).end(hostilePage(`http://127.0.0.1:${port}`, ids[0]!));
  });
  await new Promise<void>((done) => hostile.listen(0, '127.0.0.1', done));
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  for (const server of [winnow, hostile]) {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
  project.close();
});

describe('a hostile page on another localhost port, in Chromium', () => {
  it('gets the session cookie sent along but cannot curate, create a project, or read anything', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // The user has the workstation open: the browser holds its session cookie.
    await page.goto(url);
    await page.getByRole('link', { name: 'ankle boot' }).waitFor();
    // Neither the token nor the session's key stays in the address bar.
    expect(page.url()).toBe(`http://127.0.0.1:${port}/#/`);
    const before = getInstance(project.db, ids[0]!)!.override;
    answered.length = 0;

    const attacker = await context.newPage();
    await attacker.goto(`http://127.0.0.1:${(hostile.address() as AddressInfo).port}/`);
    const results = (await attacker
      .waitForFunction(() => (globalThis as { results?: unknown }).results, undefined, {
        timeout: 30_000,
      })
      .then((handle) => handle.jsonValue())) as Record<string, string>;

    // The browser did send the cookie to the other port, but it is a session id, never the token.
    expect(leaked.join(';')).toMatch(new RegExp(`winnow_session_${port}=[0-9a-f]{64}`));
    expect(leaked.join(';')).not.toContain(token);
    // Nothing was applied or created, and nothing was readable.
    expect(existsSync(forgedDir)).toBe(false);
    expect(getInstance(project.db, ids[0]!)!.override).toBe(before);
    expect(results).toEqual({
      'no-cors text/plain curate': 'opaque',
      'no-cors text/plain projectCreate': 'opaque',
      'cors JSON curate': expect.stringMatching(/^blocked/),
      'cors read of the project': expect.stringMatching(/^blocked/),
      'no-cors read of the page': 'opaque',
      'cookies it can read': '',
      'session key it can read': null,
    });
    // Every request that reached the server was refused as another origin's: 403, nothing else.
    expect(answered.length).toBeGreaterThanOrEqual(5);
    expect(answered.filter((line) => !line.endsWith(' 403'))).toEqual([]);
    // The other port's server replays the cookie it received, from outside a browser: no API call opens.
    const cookie = leaked.at(-1)!.match(new RegExp(`winnow_session_${port}=[0-9a-f]{64}`))![0];
    const replayed = await fetch(`http://127.0.0.1:${port}/api/curate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ ids: [ids[0]], action: 'reject' }),
    });
    expect(replayed.status).toBe(401);
    expect(getInstance(project.db, ids[0]!)!.override).toBe(before);
    await context.close();
  });
});
