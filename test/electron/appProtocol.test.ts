import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  APP_ENTRY_URL,
  appProtocolHandler,
  CSP,
  rendererFileFor,
  rendererPathFor,
} from '../../src/main/shell/appProtocol.ts';
import { tempDir } from '../helpers/fixtures.ts';

// A built renderer folder with a secret beside it and a symlink in it that points out of it.
let base: string;
let root: string;
const fetched: string[] = [];

/** Stands in for Electron's net.fetch on file: URLs, recording what was read. */
async function fetchFile(fileUrl: string): Promise<Response> {
  fetched.push(fileUrl);
  const path = fileURLToPath(fileUrl);
  const type = extname(path) === '.html' ? 'text/html' : 'text/javascript';
  return new Response(readFileSync(path), { headers: { 'Content-Type': type } });
}

beforeAll(() => {
  base = tempDir();
  root = join(base, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>Winnow</title>');
  writeFileSync(join(root, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(join(base, 'secret.txt'), 'secret');
  mkdirSync(join(base, 'etc'));
  writeFileSync(join(base, 'etc', 'passwd'), 'root:x:0:0');
  symlinkSync(base, join(root, 'link-out'));
  symlinkSync(join(base, 'secret.txt'), join(root, 'secret-link.txt'));
});

// Every way we know to name something that is not a file of the built renderer. Chromium
// canonicalizes most of these before the handler sees them; the handler must not rely on it.
const HOSTILE = [
  'app://winnow/../secret.txt',
  'app://winnow/../../../../../../etc/passwd',
  'app://winnow/..%2fsecret.txt',
  'app://winnow/..%2Fsecret.txt',
  'app://winnow/%2e%2e/secret.txt',
  'app://winnow/%2E%2E/%2e%2e/etc/passwd',
  'app://winnow/%2e%2e%2fsecret.txt',
  'app://winnow/assets/..%2f..%2fsecret.txt',
  'app://winnow/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  'app://winnow/%252e%252e%252fsecret.txt',
  'app://winnow/..%5csecret.txt',
  'app://winnow/assets%5c..%5c..%5csecret.txt',
  'app://winnow/index.html%00.js',
  'app://winnow/%00',
  'app://winnow/assets/index-abc.js%00',
  'app://winnow//etc/passwd',
  'app://winnow/%2fetc%2fpasswd',
  'app://winnow/%2F%2Fetc%2Fpasswd',
  'app://winnow/C:%5cWindows%5cwin.ini',
  'app://winnow/C:/Windows/win.ini',
  'app://winnow/%5c%5cserver%5cshare%5cfile',
  'app://winnow/link-out/secret.txt',
  'app://winnow/link-out/etc/passwd',
  'app://winnow/secret-link.txt',
  'app://winnow/assets',
  'app://winnow/assets/',
  'app://winnow/missing.js',
  'app://winnow/%zz',
  'app://winnow/index.html%',
  'app://evil/index.html',
  'app://winnow.evil.example/index.html',
  'app://evil.example/winnow/index.html',
  'app://winnow:8080/index.html',
  'app://user:password@winnow/index.html',
  'app://winnow@evil.example/index.html',
  'app:winnow/index.html',
  'app:///index.html',
  'file:///etc/passwd',
  `file://${join('/', 'index.html')}`,
  'https://winnow/index.html',
  'winnow-image://winnow/index.html',
  'not a url',
  '',
];

describe('the app:// protocol of the built renderer', () => {
  it('serves the renderer, with the CSP', async () => {
    const handle = appProtocolHandler(root, fetchFile);
    for (const url of [APP_ENTRY_URL, 'app://winnow/', 'app://winnow/assets/index-abc.js?v=1#top']) {
      const response = await handle(new Request(url));
      expect(response.status, url).toBe(200);
      expect(response.headers.get('Content-Security-Policy')).toBe(CSP);
      expect(response.headers.get('X-Content-Type-Options')).toBe('nosniff');
    }
    expect(await (await handle(new Request('app://winnow/'))).text()).toContain('<title>Winnow</title>');
  });

  it(`answers 404 to each of ${HOSTILE.length} hostile URLs and reads no file for them`, async () => {
    const handle = appProtocolHandler(root, fetchFile);
    fetched.length = 0;
    for (const url of HOSTILE) {
      // new Request() refuses some of them itself; the handler gets them from Chromium as strings.
      const request = { url, method: 'GET' } as Request;
      const response = await handle(request);
      expect(response.status, url).toBe(404);
      expect(await rendererFileFor(url, root), url).toBeUndefined();
    }
    expect(fetched).toEqual([]);
  });

  it('never maps a URL to a path outside the folder, even before looking at the disk', () => {
    for (const url of HOSTILE) {
      const path = rendererPathFor(url, root);
      if (path === undefined) continue;
      const rel = relative(root, path);
      expect(rel.startsWith('..') || rel.startsWith(sep), `${url} → ${path}`).toBe(false);
    }
  });

  it('serves only GET', async () => {
    const handle = appProtocolHandler(root, fetchFile);
    expect((await handle(new Request(APP_ENTRY_URL, { method: 'POST', body: 'x' }))).status).toBe(404);
  });
});
