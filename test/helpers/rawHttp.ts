import { connect } from 'node:net';

export interface RawResponse {
  /** The status code, or undefined when the server closed without answering. */
  readonly status: number | undefined;
  readonly headers: string;
  readonly body: string;
}

/**
 * Sends bytes exactly as given to a server and reads its answer until it closes the connection:
 * what a browser, a script or an attacker can put on the wire, with nothing normalised by an HTTP
 * client (bad methods, raw `%` and NUL in paths, any Host, Origin or Cookie). Requests should say
 * `Connection: close`.
 */
export function rawHttp(port: number, request: string | Buffer, halfClose = false): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer in 20 s to ${String(request).split('\r\n')[0]}`));
    }, 20_000);
    socket.on('data', (chunk) => chunks.push(chunk));
    // A server that answers early (413) and closes while the body is still being sent resets the
    // connection: what it answered is what counts.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const [headers = '', rest = ''] = text.split(/\r\n\r\n(.*)/s);
      const status = headers.match(/^HTTP\/1\.[01] (\d{3})/)?.[1];
      resolve({ status: status === undefined ? undefined : Number(status), headers, body: rest });
    });
    socket.write(request);
    // A request shorter than its Content-Length ends there (instead of waiting for the server's
    // timeout) when the client half-closes; browsers never do, and Node's server then drops its answer.
    if (halfClose) socket.end();
  });
}

/** A request's bytes: request line, headers (with `Connection: close`), blank line, body. */
export function httpText(
  method: string,
  path: string,
  headers: Record<string, string | number>,
  body: string | Buffer = '',
): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const lines = [`${method} ${path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (!('Content-Length' in headers) && !('Transfer-Encoding' in headers) && bytes.length > 0)
    lines.push(`Content-Length: ${bytes.length}`);
  lines.push('Connection: close', '', '');
  return Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), bytes]);
}
