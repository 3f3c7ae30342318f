import { Redis, type RedisOptions } from 'ioredis';
import { WinnowError } from '../errors.ts';

/** The queue's URL as users may print it: any password replaced by `***`. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** Checks a --queue URL's form: redis:// or rediss:// (TLS), a host and a port. */
export function checkQueueUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WinnowError(
      `--queue ${url} is not a URL.`,
      'Give redis://[user:password@]host:port (or rediss:// for TLS), e.g. redis://10.0.0.5:6379.',
    );
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new WinnowError(
      `--queue ${displayUrl(url)} is not a Redis URL.`,
      'Give redis://[user:password@]host:port, or rediss:// for Redis over TLS.',
    );
  return url;
}

/**
 * The connection options BullMQ's clients use: the URL (user, password and TLS with it) and no
 * per-command retry limit (BullMQ's blocking commands wait; it reconnects on its own).
 */
export function queueConnection(url: string): { url: string; maxRetriesPerRequest: null } {
  return { url: checkQueueUrl(url), maxRetriesPerRequest: null };
}

/** What to do when Redis cannot be reached at `url`. */
function unreachableFix(url: string): string {
  return `Start Redis there (e.g. \`redis-server --bind 127.0.0.1 --port ${new URL(url).port || 6379}\`), or fix --queue; a password goes in the URL as redis://:password@host:port.`;
}

/**
 * Connects once and pings, failing fast (a few seconds) with what went wrong: unreachable, refused
 * password, or not Redis. BullMQ's own clients retry forever, which would only hang.
 */
export async function checkRedisReachable(url: string, timeoutMs = 5000): Promise<void> {
  const options: RedisOptions = {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  };
  const client = new Redis(checkQueueUrl(url), options);
  // The socket's own error (ECONNREFUSED, ETIMEDOUT, a TLS failure) says more than connect()'s rejection.
  let socketError: Error | undefined;
  client.on('error', (error: Error) => (socketError ??= error));
  try {
    await client.connect();
    // BullMQ reads the server's version: an ACL user without INFO is refused here, not mid-run.
    await client.info('server');
  } catch (error) {
    const reason = (socketError ?? (error as Error)).message;
    if (/NOPERM/.test(reason))
      throw new WinnowError(
        `The Redis user of ${displayUrl(url)} lacks a permission the queue needs (${reason}).`,
        'Give it the queue\'s keys and commands: ACL SETUSER <user> ~bull:winnow-generate:* ~winnow:* &* +@all -@dangerous +info (see the README, "Securing Redis").',
      );
    if (/NOAUTH|WRONGPASS|invalid password|AUTH/i.test(reason))
      throw new WinnowError(
        `Redis at ${displayUrl(url)} refused the credentials (${reason}).`,
        'Put the right user and password in the URL: redis://user:password@host:port (see the README, "Securing Redis").',
      );
    throw new WinnowError(`Cannot reach Redis at ${displayUrl(url)} (${reason}).`, unreachableFix(url));
  } finally {
    client.disconnect();
  }
}

/** What a coordinator or worker says when it lost Redis for too long mid-run. */
export function lostRedisError(url: string, fix: string): WinnowError {
  return new WinnowError(
    `Lost the connection to Redis at ${displayUrl(url)} mid-run.`,
    `${unreachableFix(url)} Then ${fix}`,
  );
}
