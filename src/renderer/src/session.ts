import { SESSION_KEY_PARAM } from '../../shared/servedSession.ts';

const STORED = 'winnow-session-key';

/**
 * The key of this page's `winnow serve` session: taken once from the `#session=` fragment the
 * server redirected to (and wiped from the address bar), then kept in this origin's storage so
 * reloads and new tabs keep it. Storage is per origin, port included: pages on other ports,
 * which do get the session cookie, never see the key.
 */
export function sessionKey(): string | null {
  const given = new URLSearchParams(window.location.hash.slice(1)).get(SESSION_KEY_PARAM);
  if (given) {
    window.localStorage.setItem(STORED, given);
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  return window.localStorage.getItem(STORED);
}
