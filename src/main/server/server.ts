import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { WinnowError } from '../errors.ts';
import { isImageHash, THUMBNAIL_SIZES } from '../store/imageStore.ts';
import { type Engine, handle, isMethod } from '../service/winnowService.ts';
import { allowedHosts, checkJsonBody, checkSameOrigin, Refusal, urlHost } from './requestGuard.ts';
import { Sessions } from './sessions.ts';
import { SESSION_KEY_HEADER, SESSION_KEY_PARAM } from '../../shared/servedSession.ts';

/** The Content-Security-Policy of the served app: the same as the Electron window's. */
export const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};
const MAX_BODY = 8 * 2 ** 20;

/** The built renderer (electron-vite's out/renderer), found from this module up. */
export function rendererDir(): string {
  for (let dir = import.meta.dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    const candidate = join(dir, 'out', 'renderer');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
  }
  throw new WinnowError(
    'The workstation UI is not built.',
    'Build it with `npm run build`, then run `winnow serve` again.',
  );
}

export interface ServeOptions {
  readonly engine: Engine;
  readonly port: number;
  readonly host: string;
  /** Defaults to a random 256-bit token. */
  readonly token?: string;
}

/**
 * `winnow serve`: the built renderer and the same API as the Electron window, over HTTP on
 * localhost. Every request needs the token as `Authorization: Bearer <token>` (scripts), or a
 * session: opening the URL with `?token=` trades it for a random session (sessions.ts): a cookie
 * (HttpOnly, SameSite=Strict, named for this port) for the page and its images, and a key the
 * page sends with its API calls. Requests a page of another origin could make
 * (another Host, Origin or Sec-Fetch-Site; API calls without a JSON content type) are refused
 * before the token or session is looked at (see requestGuard.ts).
 */
export async function serve(options: ServeOptions): Promise<{ server: Server; url: string; token: string }> {
  const token = options.token ?? randomBytes(32).toString('hex');
  const sessions = new Sessions(token);
  const root = rendererDir();
  // Known once listening (port 0 picks one).
  let hosts: ReadonlySet<string> = new Set();
  let cookieName = '';

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      if (error instanceof Refusal) {
        if (!response.headersSent)
          send(response, error.status, { ok: false, error: error.message, ...(error.fix ? { fix: error.fix } : {}) });
        else response.destroy();
        return;
      }
      console.error(error);
      if (!response.headersSent) send(response, 500, { ok: false, error: 'Internal error; see the server log.' });
      else response.destroy();
    });
  });

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Referrer-Policy', 'no-referrer');
    checkSameOrigin(request.headers, hosts);
    const url = parseUrl(request.url);
    if (
      url.pathname === '/' &&
      request.method === 'GET' &&
      sessions.isToken(url.searchParams.get('token') ?? undefined)
    ) {
      // Trade the token in the URL for a session, and drop the token from the address bar; the
      // page takes the session's key from the fragment (see Session).
      const session = sessions.open();
      response.writeHead(303, {
        'Set-Cookie': `${cookieName}=${session.cookie}; HttpOnly; SameSite=Strict; Path=/`,
        Location: `/#${SESSION_KEY_PARAM}=${session.key}`,
      });
      response.end();
      return;
    }
    // API calls need the token or the session's key; the page, its images and the event
    // stream (which a browser loads without headers of its own) need the token or the cookie.
    const apiCall = url.pathname.startsWith('/api/') && url.pathname !== '/api/events';
    const bearer = request.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    const cookie = request.headers.cookie
      ?.split(/;\s*/)
      .find((c) => c.startsWith(`${cookieName}=`))
      ?.slice(cookieName.length + 1);
    const key = request.headers[SESSION_KEY_HEADER];
    const session = apiCall ? sessions.hasKey(typeof key === 'string' ? key : undefined) : sessions.hasCookie(cookie);
    if (!session && !sessions.isToken(bearer))
      throw new Refusal(
        401,
        'Missing or wrong token.',
        'Open the URL `winnow serve` printed, with its ?token= (a restarted server has a new one).',
      );
    if (url.pathname === '/api/events' && request.method === 'GET') {
      // Server-sent events: progress of runs, to every open view.
      response.writeHead(200, {
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-store',
        Connection: 'keep-alive',
      });
      response.write(': connected\n\n');
      const unsubscribe = options.engine.subscribe((event) => response.write(`data: ${JSON.stringify(event)}\n\n`));
      const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), 15_000);
      request.on('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
      });
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      const method = url.pathname.slice('/api/'.length);
      if (!isMethod(method)) throw new Refusal(404, `There is no API method ${url.pathname}.`);
      if (request.method !== 'POST') throw new Refusal(405, `API methods are called with POST, not ${request.method}.`);
      checkJsonBody(request.headers);
      let body: unknown;
      try {
        body = JSON.parse((await readBody(request)) || '{}');
      } catch (error) {
        if (error instanceof Refusal) throw error;
        throw new Refusal(400, 'The request body is not JSON.');
      }
      const result = await handle(options.engine.api, method, body);
      send(response, result.ok ? 200 : 400, result);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD')
      throw new Refusal(405, `Pages and images are read with GET, not ${request.method}.`);
    const image = url.pathname.match(/^\/images\/([0-9a-f]{64})\.png$/);
    const thumb = url.pathname.match(/^\/thumbs\/(\d+)\/([0-9a-f]{64})\.png$/);
    if (image?.[1] && isImageHash(image[1])) return file(response, options.engine.images().pathOf(image[1]), true);
    if (thumb?.[1] && thumb[2] && THUMBNAIL_SIZES.has(Number(thumb[1]))) {
      const path = await options.engine
        .images()
        .thumbnail(thumb[2], Number(thumb[1]))
        .catch(() => undefined);
      if (path) return file(response, path, true);
      throw new Refusal(404, 'No such image.');
    }
    // The renderer's files, contained in its folder.
    const relative = normalize(decodePath(url.pathname === '/' ? '/index.html' : url.pathname)).replace(
      /^([/\\])+/,
      '',
    );
    const path = join(root, relative);
    if (!path.startsWith(root + sep) || relative.split(/[/\\]/).includes('..') || relative.includes('\0'))
      throw new Refusal(404, 'Not found.');
    return file(response, path, false);
  }

  await listen(server, options.port, options.host);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  hosts = allowedHosts(options.host, port);
  // Cookies ignore ports: a cookie named for this port is never mistaken for another server's.
  cookieName = `winnow_session_${port}`;
  return { server, url: `http://${urlHost(options.host)}:${port}/?token=${token}`, token };
}

/** Starts listening; a port that is taken or not allowed is the user's to fix, not a crash. */
function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const fix = 'Choose another port with --port (0: any free port).';
      if (error.code === 'EADDRINUSE')
        reject(new WinnowError(`Port ${port} on ${host} is already in use (another winnow serve?).`, fix));
      else if (error.code === 'EACCES')
        reject(new WinnowError(`Listening on port ${port} of ${host} is not allowed for this user.`, fix));
      else if (error.code === 'EADDRNOTAVAIL')
        reject(new WinnowError(`${host} is not an address of this machine.`, 'Keep --host 127.0.0.1.'));
      else reject(error);
    });
    server.listen(port, host, resolve);
  });
}

/** The request's path and query; a request line no URL parser accepts is a bad request. */
function parseUrl(target: string | undefined): URL {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    throw new Refusal(400, 'The request URL is malformed.');
  }
}

/** A static path with its %-escapes decoded; a malformed escape (`%zz`, a lone `%`) is a bad request. */
function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw new Refusal(400, 'The request path has a malformed %-escape.');
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': json.length,
    'Cache-Control': 'no-store',
  });
  response.end(json);
}

async function file(response: ServerResponse, path: string, immutable: boolean): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new Refusal(404, 'Not found.');
  const type = TYPES[extname(path)] ?? 'application/octet-stream';
  response.writeHead(200, {
    'Content-Type': type,
    'Content-Length': info.size,
    // Images are content-addressed: a hash never changes what it names.
    'Cache-Control': immutable ? 'private, max-age=31536000, immutable' : 'no-cache',
    ...(type.startsWith('text/html') ? { 'Content-Security-Policy': CSP } : {}),
  });
  // A browser that stops reading (a scrolled-away thumbnail) ends the stream early: pipeline has
  // closed both sides, and there is nobody left to answer.
  await pipeline(createReadStream(path), response).catch(() => undefined);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const tooLarge = () =>
    new Refusal(413, `The request body is larger than ${MAX_BODY / 2 ** 20} MiB.`, 'Send a smaller request.');
  if (Number(request.headers['content-length']) > MAX_BODY) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) throw tooLarge();
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof Refusal) throw error;
    // The client went away mid-body: there is nobody to answer.
    throw new Refusal(400, 'The request body ended early.');
  }
  return Buffer.concat(chunks).toString('utf8');
}
