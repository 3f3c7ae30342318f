import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Sessions beyond this many (each opening of the token URL makes one) push out the oldest. */
const MAX_SESSIONS = 100;

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * The server's secrets: the token (`winnow serve` prints it; scripts send it as a Bearer token)
 * and the sessions browsers trade it for. A session id is random, not derived from the token, so
 * a leaked cookie never reveals the token, and only this process knows which ids are live.
 */
export class Sessions {
  readonly #token: Buffer;
  /** Digests of the live session ids, oldest first: a lookup's timing says nothing about an id. */
  readonly #live = new Set<string>();

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

  /** A new random session id, live until the server stops. */
  open(): string {
    const id = randomBytes(32).toString('hex');
    this.#live.add(digest(id).toString('hex'));
    if (this.#live.size > MAX_SESSIONS) this.#live.delete(this.#live.values().next().value as string);
    return id;
  }

  isLive(id: string | undefined): boolean {
    return id !== undefined && this.#live.has(digest(id).toString('hex'));
  }
}
