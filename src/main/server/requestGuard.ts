import type { IncomingHttpHeaders } from 'node:http';

/** A request the server answers with an error status instead of handling it. */
export class Refusal extends Error {
  readonly status: number;
  readonly fix: string | undefined;

  constructor(status: number, message: string, fix?: string) {
    super(message);
    this.status = status;
    this.fix = fix;
  }
}

/** Listening addresses that mean "every interface": no Host names them. */
const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/**
 * The Host headers this server answers to: its port on the loopback names, and on the address
 * it listens on. Any other Host (a DNS-rebinding attacker's domain that resolves to 127.0.0.1,
 * or another port) is refused, so a page served elsewhere never reaches the API as "same origin".
 */
export function allowedHosts(listenHost: string, port: number): ReadonlySet<string> {
  const names = ['127.0.0.1', 'localhost', '[::1]', urlHost(listenHost)];
  return new Set(names.map((name) => `${name.toLowerCase()}:${port}`));
}

/** The listening address as a URL's host: bracketed when IPv6; loopback for "every interface". */
export function urlHost(listenHost: string): string {
  if (WILDCARDS.has(listenHost)) return '127.0.0.1';
  return listenHost.includes(':') ? `[${listenHost}]` : listenHost;
}

/**
 * Refuses what a browser sends on behalf of a page from another origin (another localhost port is
 * another origin, though cookies are shared with it): the Host must be ours, an `Origin` must be
 * ours, and `Sec-Fetch-Site` (sent by every current browser) must say same-origin or none (the
 * user typed or opened the URL). Scripts send neither header and pass.
 */
export function checkSameOrigin(headers: IncomingHttpHeaders, hosts: ReadonlySet<string>): void {
  const host = headers.host?.toLowerCase();
  if (host === undefined || !hosts.has(host))
    throw new Refusal(
      403,
      `This server does not answer to the host ${JSON.stringify(headers.host ?? '')}.`,
      `Open it as http://${[...hosts][0]}/ (the URL \`winnow serve\` printed).`,
    );
  const origin = headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== `http://${host}`)
    throw new Refusal(403, `Requests from pages of another origin (${origin}) are refused.`);
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    throw new Refusal(403, `Requests from pages of another site (Sec-Fetch-Site: ${site}) are refused.`);
}

/**
 * API calls must say they carry JSON. A page on another origin can only send a "simple" request
 * (text/plain, form data) without the browser asking the server first; JSON needs that preflight,
 * which this server never grants.
 */
export function checkJsonBody(headers: IncomingHttpHeaders): void {
  const type = headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json')
    throw new Refusal(
      415,
      `API calls must send JSON (Content-Type: application/json), not ${JSON.stringify(headers['content-type'] ?? 'nothing')}.`,
      'Send the request body as JSON with the header Content-Type: application/json.',
    );
}
