import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { serve } from '../../src/main/server/server.ts';
import { createEngine } from '../../src/main/service/winnowService.ts';
import type { Project } from '../../src/main/store/project.ts';
import { listRealSamples } from '../../src/main/store/realSamples.ts';
import { httpText, rawHttp } from '../helpers/rawHttp.ts';
import { demoWithInstances } from '../helpers/servedProject.ts';

// A table of hostile requests, sent byte for byte: none may make the server answer 500 or write
// a stack trace, and each gets the status that says what was wrong with it.
let project: Project;
let server: Server;
let port: number;
let token: string;
let hash: string;
const logged: string[] = [];

beforeAll(async () => {
  ({ project } = await demoWithInstances());
  hash = listRealSamples(project.db, 'train')[0]!.imageHash;
  const started = await serve({ engine: createEngine(project), port: 0, host: '127.0.0.1' });
  server = started.server;
  token = started.token;
  port = Number(new URL(started.url).port);
  // Everything the server writes to stderr, however it writes it.
  const keep = (...args: unknown[]) => {
    logged.push(args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : String(a))).join(' '));
    return true;
  };
  vi.spyOn(console, 'error').mockImplementation(keep);
  vi.spyOn(console, 'warn').mockImplementation(keep);
  vi.spyOn(process.stderr, 'write').mockImplementation(keep);
});
afterAll(async () => {
  vi.restoreAllMocks();
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
  project.close();
});

interface Hostile {
  readonly name: string;
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string | number>;
  readonly body?: string | Buffer;
  /** Bytes sent as they are, instead of a request built from the fields above. */
  readonly raw?: Buffer;
  /** Whether the client then half-closes the connection (says it will send nothing more). */
  readonly halfClose?: boolean;
  /** The status it must get (undefined: the server may also just close the connection). */
  readonly status: number | undefined;
}

const host = () => ({ Host: `127.0.0.1:${port}` });
const bearer = () => ({ ...host(), Authorization: `Bearer ${token}` });
const json = () => ({ ...bearer(), 'Content-Type': 'application/json' });
/** A 64-character token that is 65 bytes in UTF-8 (the RangeError of timingSafeEqual). */
const wideToken = `${'a'.repeat(63)}é`;
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const big = Buffer.alloc(9 * 2 ** 20, 0x20);

const table = (): Hostile[] => [
  // Missing, garbage and odd tokens.
  { name: 'no token', path: '/', headers: host(), status: 401 },
  { name: 'no token, API', method: 'POST', path: '/api/projectStatus', headers: host(), body: '{}', status: 401 },
  {
    name: 'non-ASCII 64-char token in the URL',
    path: `/?token=${encodeURIComponent(wideToken)}`,
    headers: host(),
    status: 401,
  },
  {
    name: 'non-ASCII 64-char Bearer token',
    path: '/index.html',
    headers: { ...host(), Authorization: `Bearer ${wideToken}` },
    status: 401,
  },
  { name: 'emoji token', path: `/?token=${encodeURIComponent('🔑'.repeat(32))}`, headers: host(), status: 401 },
  { name: 'empty token', path: '/?token=', headers: host(), status: 401 },
  { name: 'token twice', path: `/?token=x&token=${token}`, headers: host(), status: 401 },
  { name: 'malformed % in the token', path: '/?token=%zz%', headers: host(), status: 401 },
  { name: 'empty Bearer', path: '/', headers: { ...host(), Authorization: 'Bearer ' }, status: 401 },
  {
    name: 'Basic auth',
    path: '/',
    headers: { ...host(), Authorization: `Basic ${Buffer.from(`a:${token}`).toString('base64')}` },
    status: 401,
  },
  {
    name: 'token of another length',
    path: '/',
    headers: { ...host(), Authorization: `Bearer ${token}0` },
    status: 401,
  },
  { name: 'huge Bearer', path: '/', headers: { ...host(), Authorization: `Bearer ${'x'.repeat(8000)}` }, status: 401 },
  { name: 'garbage cookie', path: '/', headers: { ...host(), Cookie: `;;=;winnow_session_${port}=é;=x` }, status: 401 },
  {
    name: 'token as the cookie',
    path: '/',
    headers: { ...host(), Cookie: `winnow_session_${port}=${token}` },
    status: 401,
  },
  {
    name: 'old cookie name with the token',
    path: '/',
    headers: { ...host(), Cookie: `winnow_session=${token}` },
    status: 401,
  },
  // Host, Origin and Sec-Fetch-Site.
  {
    name: 'no Host (HTTP/1.0)',
    raw: Buffer.from(`GET / HTTP/1.0\r\nAuthorization: Bearer ${token}\r\n\r\n`),
    status: 403,
  },
  { name: 'rebinding Host', path: '/', headers: { ...bearer(), Host: `attacker.example:${port}` }, status: 403 },
  { name: 'Host of another port', path: '/', headers: { ...bearer(), Host: `127.0.0.1:${port + 1}` }, status: 403 },
  {
    name: 'two Hosts',
    // Node keeps the first Host: ours, and no token.
    raw: Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nHost: evil\r\nConnection: close\r\n\r\n`),
    status: 401,
  },
  { name: 'Origin null', path: '/', headers: { ...bearer(), Origin: 'null' }, status: 403 },
  {
    name: 'Origin of another port',
    path: '/',
    headers: { ...bearer(), Origin: `http://127.0.0.1:${port + 1}` },
    status: 403,
  },
  { name: 'https Origin', path: '/', headers: { ...bearer(), Origin: `https://127.0.0.1:${port}` }, status: 403 },
  {
    name: 'Sec-Fetch-Site cross-site',
    path: '/',
    headers: { ...bearer(), 'Sec-Fetch-Site': 'cross-site' },
    status: 403,
  },
  { name: 'Sec-Fetch-Site garbage', path: '/', headers: { ...bearer(), 'Sec-Fetch-Site': '\u00ff' }, status: 403 },
  // Methods.
  { name: 'DELETE an API method', method: 'DELETE', path: '/api/curate', headers: json(), status: 405 },
  { name: 'PUT an API method', method: 'PUT', path: '/api/curate', headers: json(), body: '{}', status: 405 },
  { name: 'GET an API method', path: '/api/projectStatus', headers: json(), status: 405 },
  {
    name: 'OPTIONS preflight',
    method: 'OPTIONS',
    path: '/api/curate',
    headers: { ...host(), Origin: 'http://127.0.0.1:1', 'Access-Control-Request-Method': 'POST' },
    status: 403,
  },
  { name: 'TRACE', method: 'TRACE', path: '/', headers: bearer(), status: 405 },
  { name: 'POST a page', method: 'POST', path: '/index.html', headers: json(), body: '{}', status: 405 },
  { name: 'invented method', method: 'BREW', path: '/', headers: bearer(), status: 400 },
  { name: 'CONNECT', method: 'CONNECT', path: `127.0.0.1:${port}`, headers: bearer(), status: undefined },
  { name: 'request line garbage', raw: Buffer.from('\x00\x01\x02 garbage\r\n\r\n'), status: 400 },
  // Unknown API methods, including object built-ins.
  { name: 'unknown API method', method: 'POST', path: '/api/dropEverything', headers: json(), body: '{}', status: 404 },
  { name: '/api/__proto__', method: 'POST', path: '/api/__proto__', headers: json(), body: '{}', status: 404 },
  { name: '/api/constructor', method: 'POST', path: '/api/constructor', headers: json(), body: '{}', status: 404 },
  { name: '/api/', method: 'POST', path: '/api/', headers: json(), body: '{}', status: 404 },
  // Content types.
  {
    name: 'text/plain',
    method: 'POST',
    path: '/api/projectStatus',
    headers: { ...bearer(), 'Content-Type': 'text/plain' },
    body: '{}',
    status: 415,
  },
  {
    name: 'form',
    method: 'POST',
    path: '/api/projectStatus',
    headers: { ...bearer(), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'a=1',
    status: 415,
  },
  {
    name: 'multipart',
    method: 'POST',
    path: '/api/projectStatus',
    headers: { ...bearer(), 'Content-Type': 'multipart/form-data; boundary=x' },
    body: '--x--',
    status: 415,
  },
  { name: 'no content type', method: 'POST', path: '/api/projectStatus', headers: bearer(), body: '{}', status: 415 },
  {
    name: 'json-seq',
    method: 'POST',
    path: '/api/projectStatus',
    headers: { ...bearer(), 'Content-Type': 'application/json-seq' },
    body: '{}',
    status: 415,
  },
  // Bodies.
  { name: 'bad JSON', method: 'POST', path: '/api/curate', headers: json(), body: '{"ids":[1]', status: 400 },
  { name: 'JSON null', method: 'POST', path: '/api/curate', headers: json(), body: 'null', status: 400 },
  { name: 'JSON array', method: 'POST', path: '/api/curate', headers: json(), body: '[]', status: 400 },
  { name: 'JSON string', method: 'POST', path: '/api/runStart', headers: json(), body: '"go"', status: 400 },
  {
    name: 'JSON 1e999',
    method: 'POST',
    path: '/api/classExtremes',
    headers: json(),
    body: '{"classId":1,"n":1e999}',
    status: 400,
  },
  {
    name: 'deeply nested JSON',
    method: 'POST',
    path: '/api/curate',
    headers: json(),
    body: `{"ids":${nested(100_000)}}`,
    status: 400,
  },
  {
    name: 'deeply nested rule',
    method: 'POST',
    path: '/api/runStart',
    headers: json(),
    body: `{"rule":${nested(50_000)}}`,
    status: 400,
  },
  {
    name: '__proto__ key',
    method: 'POST',
    path: '/api/projectStatus',
    headers: json(),
    body: '{"__proto__":{"admin":true}}',
    status: 400,
  },
  {
    name: 'constructor.prototype key',
    method: 'POST',
    path: '/api/curate',
    headers: json(),
    body: '{"ids":[1],"action":"accept","constructor":{"prototype":{"x":1}}}',
    status: 400,
  },
  {
    name: 'invalid UTF-8',
    method: 'POST',
    path: '/api/updateClass',
    headers: json(),
    body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    status: 400,
  },
  {
    name: 'byte-order mark',
    method: 'POST',
    path: '/api/projectStatus',
    headers: json(),
    body: '\ufeff{}',
    status: 400,
  },
  {
    name: 'ids not numbers',
    method: 'POST',
    path: '/api/curate',
    headers: json(),
    body: '{"ids":["1;DROP TABLE instances"],"action":"reject"}',
    status: 400,
  },
  {
    name: 'too many ids',
    method: 'POST',
    path: '/api/curate',
    headers: json(),
    body: JSON.stringify({ ids: Array.from({ length: 100_001 }, (_, k) => k + 1), action: 'reject' }),
    status: 400,
  },
  {
    name: 'ids that do not exist',
    method: 'POST',
    path: '/api/curate',
    headers: json(),
    body: '{"ids":[999999],"action":"reject"}',
    status: 400,
  },
  {
    name: 'relabel to no class',
    method: 'POST',
    path: '/api/curate',
    headers: json(),
    body: '{"ids":[1],"action":"relabel","labelId":999}',
    status: 400,
  },
  {
    name: 'NUL in a project path',
    method: 'POST',
    path: '/api/projectOpen',
    headers: json(),
    body: '{"dir":"/tmp/a\\u0000b"}',
    status: 400,
  },
  {
    name: 'project path to a device',
    method: 'POST',
    path: '/api/projectOpen',
    headers: json(),
    body: '{"dir":"/dev/null"}',
    status: 400,
  },
  {
    name: 'model folder that is a file',
    method: 'POST',
    path: '/api/modelAdd',
    headers: json(),
    body: '{"folder":"/etc/hostname"}',
    status: 400,
  },
  {
    name: 'export name traversal',
    method: 'POST',
    path: '/api/exportDataset',
    headers: json(),
    body: '{"name":"../../x","status":"all","formats":["csv"]}',
    status: 400,
  },
  {
    name: 'huge string field',
    method: 'POST',
    path: '/api/updateClass',
    headers: json(),
    body: JSON.stringify({ id: 1, negativePrompt: 'x'.repeat(1_000_000) }),
    status: 400,
  },
  { name: 'body over the limit', method: 'POST', path: '/api/projectStatus', headers: json(), body: big, status: 413 },
  {
    name: 'Content-Length over the limit',
    method: 'POST',
    path: '/api/projectStatus',
    headers: { ...json(), 'Content-Length': 2 ** 40 },
    status: 413,
  },
  {
    name: 'chunked body over the limit',
    method: 'POST',
    path: '/api/projectStatus',
    headers: { ...json(), 'Transfer-Encoding': 'chunked' },
    body: Buffer.concat([Buffer.from(`${big.length.toString(16)}\r\n`), big, Buffer.from('\r\n0\r\n\r\n')]),
    status: 413,
  },
  {
    name: 'body shorter than its Content-Length',
    raw: Buffer.concat([
      httpText('POST', '/api/projectStatus', { ...json(), 'Content-Length': 100 }),
      Buffer.from('{'),
    ]),
    halfClose: true,
    status: 400,
  },
  {
    name: 'Content-Length and chunked',
    method: 'POST',
    path: '/api/projectStatus',
    headers: { ...json(), 'Content-Length': 2, 'Transfer-Encoding': 'chunked' },
    body: '2\r\n{}\r\n0\r\n\r\n',
    status: 400,
  },
  {
    name: 'negative Content-Length',
    method: 'POST',
    path: '/api/projectStatus',
    headers: { ...json(), 'Content-Length': -1 },
    status: 400,
  },
  // Paths.
  { name: 'lone %', path: '/%', headers: bearer(), status: 400 },
  { name: 'truncated %-escape', path: '/%E0%A4%A', headers: bearer(), status: 400 },
  { name: 'bad %-escape', path: '/assets/%zz.js', headers: bearer(), status: 400 },
  { name: 'overlong UTF-8 slash', path: '/assets/%c0%af%c0%afwinnow.db', headers: bearer(), status: 400 },
  { name: '..%2f traversal', path: '/assets/..%2f..%2f..%2fwinnow.db', headers: bearer(), status: 404 },
  { name: '..%5c traversal', path: '/assets/..%5c..%5cwinnow.db', headers: bearer(), status: 404 },
  { name: '%2e%2e traversal', path: '/%2e%2e/%2e%2e/etc/passwd', headers: bearer(), status: 404 },
  { name: 'raw .. traversal', path: '/../../etc/passwd', headers: bearer(), status: 404 },
  { name: 'image path traversal', path: '/images/../../winnow.db', headers: bearer(), status: 404 },
  { name: 'double slash', path: '//etc/passwd', headers: bearer(), status: 404 },
  { name: 'encoded NUL', path: '/index.html%00.png', headers: bearer(), status: 404 },
  {
    name: 'raw NUL in the path',
    raw: Buffer.from(`GET /index.html\x00 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`),
    status: 400,
  },
  { name: 'absolute URL with a bad host', path: 'http://[::1/', headers: bearer(), status: 400 },
  { name: 'asterisk target', method: 'OPTIONS', path: '*', headers: bearer(), status: 405 },
  { name: 'unknown image hash', path: `/images/${'0'.repeat(64)}.png`, headers: bearer(), status: 404 },
  { name: 'unknown thumbnail', path: `/thumbs/128/${'0'.repeat(64)}.png`, headers: bearer(), status: 404 },
  { name: 'thumbnail of a huge size', path: `/thumbs/${'9'.repeat(30)}/${hash}.png`, headers: bearer(), status: 404 },
  { name: 'uppercase hash', path: `/images/${hash.toUpperCase()}.png`, headers: bearer(), status: 404 },
  { name: 'folder as a file', path: '/assets', headers: bearer(), status: 404 },
  { name: 'long path', path: `/${'a'.repeat(10_000)}`, headers: bearer(), status: 404 },
  { name: 'headers over the limit', path: '/', headers: { ...bearer(), 'X-Pad': 'x'.repeat(20_000) }, status: 431 },
];

describe('hostile requests to winnow serve', () => {
  it('are each answered with the status that names the problem: never 500, never a stack trace', async () => {
    const cases = table();
    const answers: Record<string, number | undefined> = {};
    for (const c of cases) {
      const bytes = c.raw ?? httpText(c.method ?? 'GET', c.path ?? '/', c.headers ?? {}, c.body);
      answers[c.name] = (await rawHttp(port, bytes, c.halfClose)).status;
    }
    const expected = Object.fromEntries(cases.map((c) => [c.name, c.status]));
    expect(answers).toEqual(expected);
    expect(logged.filter((line) => /\n\s+at |Error:/.test(line))).toEqual([]);
    // Still serving, and nothing hostile changed the project.
    const after = await rawHttp(port, httpText('POST', '/api/projectStatus', json(), '{}'));
    expect(after.status).toBe(200);
    expect(project.db.prepare('SELECT count(*) AS n FROM instances WHERE override IS NOT NULL').get()).toEqual({
      n: 0,
    });
    console.info(`${cases.length} hostile requests`);
  });
});
