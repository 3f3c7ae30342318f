import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Sessions beyond this many (each opening of the token URL makes one) push out the oldest. */
const MAX_SESSIONS = 100;

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
const random = () => randomBytes(32).toString('hex');

/** What opening the token URL gives a browser: two random secrets, neither derived from the token. */
export interface Session {
  /** Sent back in an HttpOnly cookie: lets the browser load the page, images and the event stream. */
  readonly cookie: string;
  /**
   * Handed to the page in the redirect's #fragment (never sent to any server) and kept in its
   * origin's storage: the page sends it with every API call. Cookies ignore ports, so another
   * server on this machine may see the cookie; only this origin's pages ever see the key.
   */
  readonly key: string;
}

/**
 * The server's secrets: the token (`winnow serve` prints it; scripts send it as a Bearer token)
 * and the sessions browsers trade it for. Session secrets are random, so a leaked cookie or key
 * never reveals the token, and only this process knows which are live.
 */
export class Sessions {
  readonly #token: Buffer;
  /** Digests of the live sessions' cookies, oldest first, each with its key's digest (a lookup's timing says nothing of a secret). */
  readonly #live = new Map<string, string>();
  readonly #keys = new Set<string>();

  constructor(token: string) {
    this.#token = digest(token);
  }

  /**
   * Whether `given` is the token. Both sides are hashed first: equal-length buffers for
   * timingSafeEqual whatever was sent (a non-ASCII character has more bytes than characters).
   */
  isToken(given: string | undefined): boolean {
    return given !== undefined && timingSafeEqual(digest(given), this.#token);
  }

  /** A new session, live until the server stops (or MAX_SESSIONS newer ones push it out). */
  open(): Session {
    const session = { cookie: random(), key: random() };
    const key = digest(session.key).toString('hex');
    this.#live.set(digest(session.cookie).toString('hex'), key);
    this.#keys.add(key);
    if (this.#live.size > MAX_SESSIONS) {
      const [oldest, oldestKey] = this.#live.entries().next().value as [string, string];
      this.#live.delete(oldest);
      this.#keys.delete(oldestKey);
    }
    return session;
  }

  hasCookie(cookie: string | undefined): boolean {
    return cookie !== undefined && this.#live.has(digest(cookie).toString('hex'));
  }

  hasKey(key: string | undefined): boolean {
    return key !== undefined && this.#keys.has(digest(key).toString('hex'));
  }
}
