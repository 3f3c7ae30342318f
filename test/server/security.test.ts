import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../src/main/server/server.ts';
import { createEngine } from '../../src/main/service/winnowService.ts';
import { getInstance } from '../../src/main/store/instances.ts';
import type { Project } from '../../src/main/store/project.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { httpText, rawHttp } from '../helpers/rawHttp.ts';
import { demoWithInstances } from '../helpers/servedProject.ts';

// What a browser sends when a page on another localhost port attacks `winnow serve`: the
// session cookie comes along (cookies ignore ports, and another port is the same site), so the
// server must refuse on Origin, Sec-Fetch-Site, Content-Type and Host. Real HTTP, byte for byte.
let project: Project;
let ids: number[];
let server: Server;
let port: number;
let token: string;
let cookie: string;
/** The session's key, which the page sends with its API calls (the server hands it over in the fragment). */
let key: string;
const OTHER = 'http://127.0.0.1:8123';

beforeAll(async () => {
  ({ project, ids } = await demoWithInstances());
  const started = await serve({ engine: createEngine(project), port: 0, host: '127.0.0.1' });
  server = started.server;
  token = started.token;
  port = Number(new URL(started.url).port);
  // The page's own flow: open the printed URL, get a session cookie and, in the fragment, the key.
  const opened = await rawHttp(port, httpText('GET', `/?token=${token}`, { Host: `127.0.0.1:${port}` }));
  expect(opened.status).toBe(303);
  cookie = opened.headers.match(/^set-cookie: ([^;]+)/im)![1]!;
  key = opened.headers.match(/^location: \/#session=([0-9a-f]{64})$/im)![1]!;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
  project.close();
});

/** The headers Chromium sends with a page's fetch to this server (the page's own: with the session's key). */
const browser = (from: { origin?: string; site?: string }, type = 'application/json') => ({
  Host: `127.0.0.1:${port}`,
  ...(from.origin ? { Origin: from.origin } : {}),
  ...(from.site ? { 'Sec-Fetch-Site': from.site } : {}),
  'Sec-Fetch-Mode': from.site === 'same-origin' ? 'cors' : 'no-cors',
  'Content-Type': type,
  Cookie: cookie,
  ...(from.site === 'same-origin' ? { 'X-Winnow-Session': key } : {}),
});
const reject = (id: number) => JSON.stringify({ ids: [id], action: 'reject' });

describe('the served API refuses forged requests', () => {
  it('keeps the token out of the cookie: a random session id, named for the port, HttpOnly, SameSite=Strict', async () => {
    const opened = await rawHttp(port, httpText('GET', `/?token=${token}`, { Host: `127.0.0.1:${port}` }));
    const setCookie = opened.headers.match(/^set-cookie: (.*)$/im)![1]!;
    expect(setCookie).toMatch(new RegExp(`^winnow_session_${port}=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=/$`));
    expect(setCookie).not.toContain(token);
    expect(setCookie.split(';')[0]).not.toBe(cookie); // a new session each time
    // The key comes in the fragment (which browsers never send to a server), and is neither.
    expect(opened.headers).toMatch(/^location: \/#session=[0-9a-f]{64}\r?$/im);
    expect([token, cookie.split('=')[1]]).not.toContain(key);
    // The token itself as a cookie is no session.
    const asCookie = await rawHttp(
      port,
      httpText('GET', '/', { Host: `127.0.0.1:${port}`, Cookie: `winnow_session_${port}=${token}` }),
    );
    expect(asCookie.status).toBe(401);
    // A session cookie is no token.
    const sessionAsBearer = await rawHttp(
      port,
      httpText('POST', '/api/projectStatus', {
        Host: `127.0.0.1:${port}`,
        'Content-Type': 'application/json',
        Authorization: `Bearer ${cookie.split('=')[1]}`,
      }),
    );
    expect(sessionAsBearer.status).toBe(401);
    // The cookie alone (what a server on another port of this machine receives) opens no API call.
    const cookieOnly = await rawHttp(
      port,
      httpText(
        'POST',
        '/api/projectStatus',
        { Host: `127.0.0.1:${port}`, 'Content-Type': 'application/json', Cookie: cookie },
        '{}',
      ),
    );
    expect(cookieOnly.status).toBe(401);
  });

  it("serves the page's own flow: same-origin calls with the session's key, the page by its cookie, and Bearer scripts", async () => {
    const own = await rawHttp(
      port,
      httpText(
        'POST',
        '/api/projectStatus',
        browser({ origin: `http://127.0.0.1:${port}`, site: 'same-origin' }),
        '{}',
      ),
    );
    expect(own.status).toBe(200);
    expect(JSON.parse(own.body)).toMatchObject({ ok: true });
    // The same page opened as localhost: its own origin too.
    const local = await rawHttp(
      port,
      httpText('GET', '/', {
        Host: `localhost:${port}`,
        'Sec-Fetch-Site': 'none',
        Cookie: cookie,
      }),
    );
    expect(local.status).toBe(200);
    const script = await fetch(`http://127.0.0.1:${port}/api/projectStatus`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: '{}',
    });
    expect(script.status).toBe(200);
  });

  it('refuses a page on another localhost port: its no-cors text/plain curate is not applied', async () => {
    const [id] = ids as [number];
    const before = getInstance(project.db, id)!.override;
    const attempts = [
      // Chromium's no-cors POST from http://127.0.0.1:8123 (same site, another origin).
      browser({ origin: OTHER, site: 'same-site' }, 'text/plain;charset=UTF-8'),
      // From a page on another site (DNS name, or a public page).
      browser({ origin: 'https://evil.example', site: 'cross-site' }, 'text/plain;charset=UTF-8'),
      // An older browser: an Origin but no Sec-Fetch-Site.
      browser({ origin: OTHER }, 'text/plain'),
      // A sandboxed iframe or file:// page.
      browser({ origin: 'null', site: 'cross-site' }, 'application/x-www-form-urlencoded'),
      // Even with the JSON content type (which would need a preflight the server never grants).
      browser({ origin: OTHER, site: 'same-site' }),
      // Sec-Fetch-Site alone says so.
      browser({ site: 'same-site' }),
    ];
    for (const headers of attempts) {
      const response = await rawHttp(port, httpText('POST', '/api/curate', headers, reject(id)));
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect(JSON.parse(response.body)).toMatchObject({ ok: false, error: expect.stringMatching(/another/) });
    }
    // A browser that sends neither header (none does today): the cookie alone opens no API call,
    // and even with the session's key, a body that is not declared JSON is refused.
    const bare = await rawHttp(port, httpText('POST', '/api/curate', browser({}, 'text/plain'), reject(id)));
    expect(bare.status).toBe(401);
    const plain = await rawHttp(
      port,
      httpText('POST', '/api/curate', { ...browser({}, 'text/plain'), 'X-Winnow-Session': key }, reject(id)),
    );
    expect(plain.status).toBe(415);
    expect(JSON.parse(plain.body)).toMatchObject({ error: expect.stringMatching(/Content-Type: application\/json/) });
    expect(getInstance(project.db, id)!.override).toBe(before);
    // The page's own call does apply: the refusals above were not for want of a good request.
    const own = await rawHttp(
      port,
      httpText('POST', '/api/curate', browser({ origin: `http://127.0.0.1:${port}`, site: 'same-origin' }), reject(id)),
    );
    expect(own.status).toBe(200);
    expect(getInstance(project.db, id)!.override).toBe('rejected');
  });

  it('refuses a forged projectCreate, and the event stream, from another origin', async () => {
    const dir = join(tempDir(), 'forged');
    const created = await rawHttp(
      port,
      httpText(
        'POST',
        '/api/projectCreate',
        browser({ origin: OTHER, site: 'same-site' }, 'text/plain'),
        JSON.stringify({ dir }),
      ),
    );
    expect(created.status).toBe(403);
    expect(existsSync(dir)).toBe(false);
    const events = await rawHttp(port, httpText('GET', '/api/events', browser({ origin: OTHER, site: 'same-site' })));
    expect(events.status).toBe(403);
  });

  it('refuses a wrong Host (DNS rebinding), even with the right token', async () => {
    for (const host of [`evil.example:${port}`, `127.0.0.1:${port + 1}`, 'localhost', `127.0.0.1.nip.io:${port}`]) {
      const response = await rawHttp(
        port,
        httpText(
          'POST',
          '/api/projectStatus',
          { Host: host, 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
          '{}',
        ),
      );
      expect(response.status, host).toBe(403);
      expect(JSON.parse(response.body)).toMatchObject({ error: expect.stringMatching(/does not answer to the host/) });
    }
    const page = await rawHttp(port, httpText('GET', '/', { Host: `evil.example:${port}`, Cookie: cookie }));
    expect(page.status).toBe(403);
    expect(page.body).not.toMatch(/<div id="app">/);
  });
});
