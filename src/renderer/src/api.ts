import type { EngineEvent, Request, Responses, Result, WinnowApi, WinnowTransport } from '../../shared/api.ts';
import { METHODS, type Method } from '../../shared/methods.ts';
import { SESSION_KEY_HEADER } from '../../shared/servedSession.ts';
import { onReconnect, reportAnswer, reportUnreachable } from './connection.ts';
import { sessionKey } from './session.ts';

/** An API error as the renderer sees it: the message and the fix to show the user. */
export class ApiCallError extends Error {
  readonly fix: string | undefined;

  constructor(error: string, fix?: string) {
    super(error);
    this.fix = fix;
  }
}

/** What a call answers when the server cannot be reached (the banner says it is retrying). */
const UNREACHABLE = {
  ok: false,
  error: 'The engine is not reachable (winnow serve stopped?).',
  fix: 'The page reconnects by itself when it is back; then try again.',
} as const;

/** One API call over HTTP, as the Result every transport gives; the connection state follows its fate. */
async function post(method: Method, request: unknown, key: string | null): Promise<Result<unknown>> {
  let response: Response;
  try {
    response = await fetch(`/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { [SESSION_KEY_HEADER]: key } : {}) },
      credentials: 'same-origin',
      body: JSON.stringify(request),
    });
  } catch {
    reportUnreachable();
    return UNREACHABLE;
  }
  reportAnswer(response.status);
  try {
    return (await response.json()) as Result<unknown>;
  } catch {
    return { ok: false, error: `The engine answered ${method} with ${response.status} and no JSON.` };
  }
}

/**
 * The engine's events over HTTP (server-sent events). A dropped stream marks the page
 * disconnected; once the server answers again the stream is opened anew.
 */
function subscribe(listener: (event: EngineEvent) => void): () => void {
  let source: EventSource;
  const open = () => {
    source = new EventSource('/api/events');
    source.onmessage = (message) => listener(JSON.parse(message.data as string) as EngineEvent);
    source.onerror = () => {
      source.close();
      reportUnreachable();
    };
  };
  open();
  const stopReopening = onReconnect(() => {
    source.close();
    open();
  });
  return () => {
    stopReopening();
    source.close();
  };
}

/**
 * In Electron the preload's `window.winnow` carries calls over IPC; in a browser opened by
 * `winnow serve` they go over HTTP to the same engine, with the session's key (session.ts).
 */
function transport(): WinnowTransport {
  if (window.winnow) return window.winnow;
  const key = sessionKey();
  const methods = Object.fromEntries(
    METHODS.map((method) => [method, (request: unknown) => post(method, request, key)]),
  );
  return { ...methods, onEvent: subscribe } as unknown as WinnowTransport;
}

/** Subscribes to engine events (run progress) over whichever transport is in use. */
export function onEngineEvent(listener: (event: EngineEvent) => void): () => void {
  return carrier.onEvent(listener);
}

const carrier = transport();

/**
 * A request as plain data, as JSON carries it over HTTP. Electron's IPC copies a request by the
 * structured clone algorithm, which refuses a Proxy ("An object could not be cloned"), and a
 * store's state (an array or object of it in a request) is Vue's reactive Proxy.
 */
const plain = (request: unknown): unknown => (request === undefined ? request : JSON.parse(JSON.stringify(request)));

/** The typed API: each method returns its response or throws an ApiCallError with the fix. */
export const api = Object.fromEntries(
  METHODS.map((method) => [
    method,
    async (request: Request<Method>) => {
      const result = await (carrier[method] as (r: unknown) => Promise<Result<Responses[Method]>>)(plain(request));
      if (!result.ok) throw new ApiCallError(result.error, result.fix);
      return result.value;
    },
  ]),
) as unknown as WinnowApi;

/** What to show for a failed call: the message and, when the engine gave one, the fix. */
export function describeError(error: unknown): string {
  const e = error as Error & { fix?: string };
  return e.fix ? `${e.message} ${e.fix}` : (e.message ?? String(error));
}

/** Runs a store action, clearing the store's error first and putting any failure there. */
export async function guarded(store: { error: string | null }, work: () => Promise<void>): Promise<void> {
  try {
    store.error = null;
    await work();
  } catch (error) {
    store.error = describeError(error);
  }
}
