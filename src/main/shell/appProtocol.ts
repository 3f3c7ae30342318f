// The window's own pages come from app://winnow/…, a privileged custom scheme, never from file://
// (Electron's security checklist, item 18): a file:// page shares its origin with every file on the
// disk, while app://winnow is one origin whose URLs name only the built renderer's files.
// Plain Node (no electron import), so every hostile URL is tested without Electron.
// fs.promises is read at call time: inside a packaged app the folder is in app.asar, which Electron's
// patched fs.promises.realpath/stat can read.
import { promises as fs } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const APP_SCHEME = 'app';
export const APP_HOST = 'winnow';
/** The app's origin as the renderer's frames report it in their URLs. */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** The page the window opens. */
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * The window's Content-Security-Policy, sent with every page of the app (and every dev-server
 * response). `'self'` is app://winnow; images come from the `winnow-image:` protocol.
 */
export const CSP =
  "default-src 'self'; img-src 'self' data: winnow-image:; style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

// A segment the renderer's files never have and that could step out of the folder or name a
// device or drive: dot segments, separators of either platform, NUL, drive colons.
const BAD_SEGMENT = /^\.{1,2}$|[\\/:\0]/;

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * The path under `root` that an app:// URL names, or undefined when it names nothing there: another
 * scheme or host, credentials or a port, a malformed escape, an empty, dot, NUL or separator-bearing
 * segment (also when percent-encoded), or anything that resolves outside `root`.
 */
export function rendererPathFor(url: string, root: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return undefined;
  if (parsed.username !== '' || parsed.password !== '') return undefined;
  const encoded = parsed.pathname === '/' ? ['index.html'] : parsed.pathname.slice(1).split('/');
  const segments: string[] = [];
  for (const part of encoded) {
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      return undefined;
    }
    if (segment === '' || BAD_SEGMENT.test(segment)) return undefined;
    segments.push(segment);
  }
  const path = resolve(root, ...segments);
  return inside(root, path) ? path : undefined;
}

/**
 * The real file an app:// URL names under `root`, or undefined: `rendererPathFor`, then the same
 * containment on the resolved real path (a symlink in the folder cannot point out of it), and it
 * must be a regular file.
 */
export async function rendererFileFor(url: string, root: string): Promise<string | undefined> {
  const path = rendererPathFor(url, root);
  if (path === undefined) return undefined;
  try {
    const [realRoot, realPath] = await Promise.all([fs.realpath(root), fs.realpath(path)]);
    if (!inside(realRoot, realPath) || !(await fs.stat(realPath)).isFile()) return undefined;
    return realPath;
  } catch {
    return undefined;
  }
}

/**
 * The handler of the app:// scheme: the named file of the built renderer (read by `fetchFile`, which
 * is Electron's `net.fetch` in the app) with the CSP and no-sniff headers, or a 404.
 */
export function appProtocolHandler(
  root: string,
  fetchFile: (fileUrl: string) => Promise<Response>,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const file = await rendererFileFor(request.url, root);
    if (file === undefined || request.method !== 'GET') {
      return new Response('Not found.', { status: 404, headers: { 'Content-Type': 'text/plain' } });
    }
    const response = await fetchFile(pathToFileURL(file).toString());
    const headers = new Headers(response.headers);
    headers.set('Content-Security-Policy', CSP);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(response.body, { status: response.status, headers });
  };
}
