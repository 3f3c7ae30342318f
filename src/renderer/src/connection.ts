import { onUnmounted, reactive } from 'vue';

/**
 * Whether the page can reach its engine over `winnow serve` (in Electron it always can):
 * `connected`; `unreachable` (the server stopped, or the tunnel to it dropped: the page probes
 * it with backoff and recovers by itself); `signedOut` (a server answers but no longer knows this
 * page's session: it was restarted, with a new token, so only the URL it printed gets back in).
 */
export type ConnectionState = 'connected' | 'unreachable' | 'signedOut';

export const connection = reactive({ state: 'connected' as ConnectionState });

/** Backoff between probes of an unreachable server: from the first, growing to the last. */
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 4000;

let probing = false;
const reconnected: (() => void)[] = [];

/** Runs `listener` each time the server is reachable again after it was not (to reopen streams); undoes it. */
export function onReconnect(listener: () => void): () => void {
  reconnected.push(listener);
  return () => void reconnected.splice(reconnected.indexOf(listener) >>> 0, 1);
}

/**
 * For a screen: loads its data again each time the server is back, while the screen is shown, so
 * a call that failed during the outage is not left as the screen's state.
 */
export function reloadOnReconnect(load: () => unknown): void {
  onUnmounted(onReconnect(() => void load()));
}

/** The server answered: reachable, and signed in unless it said the session is unknown. */
export function reportAnswer(status: number): void {
  const was = connection.state;
  connection.state = status === 401 ? 'signedOut' : 'connected';
  // A copy: a listener may remove itself, which would skip the next one in the live array.
  if (was === 'unreachable' && connection.state === 'connected') for (const listener of [...reconnected]) listener();
}

/**
 * A call or the event stream failed without an answer: show the page as disconnected, and probe
 * the server until it answers. The probe is a HEAD of the page itself: cheap, and it carries the
 * session cookie like every call, so its status also says whether the session still holds.
 */
export function reportUnreachable(): void {
  if (connection.state === 'signedOut') return;
  connection.state = 'unreachable';
  if (probing) return;
  probing = true;
  let delay = FIRST_DELAY_MS;
  const probe = async () => {
    try {
      const response = await fetch('/', { method: 'HEAD', cache: 'no-store', credentials: 'same-origin' });
      probing = false;
      reportAnswer(response.status);
    } catch {
      delay = Math.min(delay * 2, MAX_DELAY_MS);
      setTimeout(() => void probe(), delay);
    }
  };
  setTimeout(() => void probe(), delay);
}
