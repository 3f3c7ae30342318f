// Which pages the shell trusts, decided by URL with Node's URL parser (never string prefixes, which
// `https://localhost.evil.example` would pass). Plain Node, tested without Electron.
import { WinnowError } from '../errors.ts';
import { APP_ORIGIN } from './appProtocol.ts';

/** `scheme://host[:port]` of an absolute URL without credentials, or undefined. */
function originOf(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  // `URL.origin` is "null" for custom schemes such as app:, so the origin is built from its parts.
  if (parsed.username !== '' || parsed.password !== '' || parsed.host === '') return undefined;
  return `${parsed.protocol}//${parsed.host}`;
}

function isLoopback(hostname: string): boolean {
  // Node's parser has already normalized IPv4 forms (2130706433, 0x7f.1) to dotted decimal.
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * The dev server the window loads instead of the built app: `ELECTRON_RENDERER_URL`, which
 * electron-vite sets for `npm run dev`. A packaged app ignores it (an environment variable must not
 * be able to point the installed app at other content); an unpackaged one accepts only a plain-http
 * loopback URL and refuses anything else loudly.
 */
export function devServerUrl(value: string | undefined, isPackaged: boolean): string | undefined {
  if (isPackaged || value === undefined || value === '') return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {
    parsed = undefined;
  }
  if (
    parsed === undefined ||
    parsed.protocol !== 'http:' ||
    parsed.username !== '' ||
    parsed.password !== '' ||
    !isLoopback(parsed.hostname)
  ) {
    throw new WinnowError(
      `ELECTRON_RENDERER_URL is "${value}", which is not a dev server on this machine.`,
      'Unset it to load the built app, or set it to the http://localhost:<port>/ URL that `npm run dev` prints.',
    );
  }
  return parsed.href;
}

/** The one origin whose frames may call the engine: the dev server's in development, else the app's. */
export function trustedOrigin(devServer: string | undefined): string {
  return devServer === undefined ? APP_ORIGIN : (originOf(devServer) ?? APP_ORIGIN);
}

/**
 * Whether an IPC message's sender frame shows our app: its URL (`event.senderFrame.url`) must be
 * on `origin`. Which frame sent it (the window's top frame) is checked apart from this; together they
 * refuse a frame that navigated elsewhere, an iframe, and any page of another origin.
 */
export function isTrustedSenderUrl(frameUrl: string | undefined, origin: string): boolean {
  return frameUrl !== undefined && originOf(frameUrl) === origin;
}
