import { describe, expect, it } from 'vitest';
import { WinnowError } from '../../src/main/errors.ts';
import { APP_ORIGIN } from '../../src/main/shell/appProtocol.ts';
import { devServerUrl, isTrustedSenderUrl, trustedOrigin } from '../../src/main/shell/trust.ts';

// Dev-server URLs that are not a dev server on this machine over plain http.
const NOT_LOOPBACK_HTTP = [
  'https://evil.example/',
  'http://evil.example:5173/',
  'http://localhost.evil.example:5173/',
  'http://127.0.0.1.evil.example/',
  'http://evil.example/?http://localhost:5173/',
  'http://localhost@evil.example/',
  'http://user:pw@localhost:5173/',
  'https://localhost:5173/',
  'file:///tmp/index.html',
  'app://winnow/index.html',
  'javascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'ws://localhost:5173/',
  'http://0.0.0.0:5173/',
  'http://192.168.1.10:5173/',
  'http://[::ffff:c0a8:10a]:5173/',
  'localhost:5173',
  '//localhost:5173/',
  'not a url',
];

// Frame URLs that are not the app, in a packaged app (origin app://winnow).
const FOREIGN_FRAMES = [
  'https://evil.example/',
  'https://winnow/index.html',
  'http://winnow/index.html',
  'app://evil/index.html',
  'app://winnow.evil.example/index.html',
  'app://winnow:1/index.html',
  'app://user@winnow/index.html',
  'app:winnow/index.html',
  'file:///work/out/renderer/index.html',
  'winnow-image://images/abc.png',
  'http://localhost:5173/',
  'about:blank',
  'data:text/html,hi',
  'javascript:alert(1)',
  '',
];

describe('ELECTRON_RENDERER_URL', () => {
  it('is ignored by a packaged app, whatever it says', () => {
    for (const value of ['http://localhost:5173/', ...NOT_LOOPBACK_HTTP]) {
      expect(devServerUrl(value, true), value).toBeUndefined();
    }
  });

  it('is honoured unpackaged for a loopback http URL', () => {
    expect(devServerUrl('http://localhost:5173/', false)).toBe('http://localhost:5173/');
    expect(devServerUrl('http://127.0.0.1:5173', false)).toBe('http://127.0.0.1:5173/');
    expect(devServerUrl('http://[::1]:5173/', false)).toBe('http://[::1]:5173/');
    expect(devServerUrl('http://2130706433:5173/', false)).toBe('http://127.0.0.1:5173/');
    expect(devServerUrl(undefined, false)).toBeUndefined();
    expect(devServerUrl('', false)).toBeUndefined();
  });

  it(`is refused unpackaged, with the fix, for each of ${NOT_LOOPBACK_HTTP.length} other URLs`, () => {
    for (const value of NOT_LOOPBACK_HTTP) {
      expect(() => devServerUrl(value, false), value).toThrow(WinnowError);
    }
    expect(() => devServerUrl('https://evil.example/', false)).toThrow(/not a dev server on this machine/);
  });
});

describe('the IPC sender check', () => {
  it('trusts the app in a packaged app, and the dev server in development, nothing else', () => {
    expect(trustedOrigin(undefined)).toBe(APP_ORIGIN);
    expect(isTrustedSenderUrl('app://winnow/index.html#/review', APP_ORIGIN)).toBe(true);
    expect(isTrustedSenderUrl('app://winnow/', APP_ORIGIN)).toBe(true);
    const dev = trustedOrigin('http://localhost:5173/');
    expect(dev).toBe('http://localhost:5173');
    expect(isTrustedSenderUrl('http://localhost:5173/#/runs', dev)).toBe(true);
    expect(isTrustedSenderUrl('app://winnow/index.html', dev)).toBe(false);
    expect(isTrustedSenderUrl('http://localhost:5174/', dev)).toBe(false);
    expect(isTrustedSenderUrl(undefined, APP_ORIGIN)).toBe(false);
  });

  it(`refuses each of ${FOREIGN_FRAMES.length} frame URLs that are not the app`, () => {
    for (const url of FOREIGN_FRAMES) expect(isTrustedSenderUrl(url, APP_ORIGIN), url).toBe(false);
  });
});
