import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { WinnowError } from '../errors.ts';
import { isImageHash, THUMBNAIL_SIZES } from '../store/imageStore.ts';
import { type Engine, handle, isMethod } from '../service/winnowService.ts';

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
const COOKIE = 'winnow_session';
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
 * localhost. Every request needs the token, given once in the URL (then kept in an HttpOnly,
 * SameSite=Strict cookie) or as `Authorization: Bearer <token>`.
 */
export async function serve(options: ServeOptions): Promise<{ server: Server; url: string; token: string }> {
  const token = options.token ?? randomBytes(32).toString('hex');
  const root = rendererDir();
  const expected = Buffer.from(token);
  const matches = (given: string | undefined) =>
    given !== undefined && given.length === token.length && timingSafeEqual(Buffer.from(given), expected);

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      console.error(error);
      if (!response.headersSent) send(response, 500, { ok: false, error: 'Internal error; see the server log.' });
    });
  });

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Referrer-Policy', 'no-referrer');
    if (url.pathname === '/' && matches(url.searchParams.get('token') ?? undefined)) {
      // Trade the token in the URL for a cookie, and drop it from the address bar.
      response.writeHead(303, { 'Set-Cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`, Location: '/' });
      response.end();
      return;
    }
    const bearer = request.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    const cookie = request.headers.cookie
      ?.split(/;\s*/)
      .find((c) => c.startsWith(`${COOKIE}=`))
      ?.slice(COOKIE.length + 1);
    if (!matches(bearer) && !matches(cookie)) {
      send(response, 401, {
        ok: false,
        error: 'Missing or wrong token.',
        fix: 'Open the URL `winnow serve` printed, with its ?token=.',
      });
      return;
    }
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
      if (request.method !== 'POST' || !isMethod(method)) {
        send(response, 404, { ok: false, error: `There is no API method ${request.method} ${url.pathname}.` });
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse((await readBody(request)) || '{}');
      } catch (error) {
        send(response, 400, {
          ok: false,
          error: error instanceof WinnowError ? error.message : 'The request body is not JSON.',
        });
        return;
      }
      const result = await handle(options.engine.api, method, body);
      send(response, result.ok ? 200 : 400, result);
      return;
    }
    const image = url.pathname.match(/^\/images\/([0-9a-f]{64})\.png$/);
    const thumb = url.pathname.match(/^\/thumbs\/(\d+)\/([0-9a-f]{64})\.png$/);
    if (image?.[1] && isImageHash(image[1])) return file(response, options.engine.images().pathOf(image[1]), true);
    if (thumb?.[1] && thumb[2] && THUMBNAIL_SIZES.has(Number(thumb[1]))) {
      const path = await options.engine
        .images()
        .thumbnail(thumb[2], Number(thumb[1]))
        .catch(() => undefined);
      if (path) return file(response, path, true);
      return send(response, 404, { ok: false, error: 'No such image.' });
    }
    // The renderer's files, contained in its folder.
    const relative = normalize(decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname)).replace(
      /^([/\\])+/,
      '',
    );
    const path = join(root, relative);
    if (!path.startsWith(root + sep) || relative.split(/[/\\]/).includes('..'))
      return send(response, 404, { ok: false, error: 'Not found.' });
    return file(response, path, false);
  }

  // A port in use (EADDRINUSE) rejects here for the caller to explain, instead of an unhandled 'error' event.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { server, url: `http://${options.host}:${port}/?token=${token}`, token };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  response.end(JSON.stringify(body));
}

async function file(response: ServerResponse, path: string, immutable: boolean): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return send(response, 404, { ok: false, error: 'Not found.' });
  const type = TYPES[extname(path)] ?? 'application/octet-stream';
  response.writeHead(200, {
    'Content-Type': type,
    'Content-Length': info.size,
    // Images are content-addressed: a hash never changes what it names.
    'Cache-Control': immutable ? 'private, max-age=31536000, immutable' : 'no-cache',
    ...(type.startsWith('text/html') ? { 'Content-Security-Policy': CSP } : {}),
  });
  createReadStream(path).pipe(response);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new WinnowError('The request body is too large.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
