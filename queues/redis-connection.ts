/**
 * Redis connections for BullMQ and the run store.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { CorrenteError } from '../src/shared/errors.js';
import { redactUrls } from '../src/shared/redact.js';

export type { Redis };

/**
 * A connection BullMQ can block on. Workers need `maxRetriesPerRequest: null` so commands
 * wait through a Redis restart instead of failing.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
  // Connection errors are retried by ioredis; without a listener they would crash the process.
  redis.on('error', () => {});
  return redis;
}

/**
 * Fails fast with a clear message when Redis is not reachable (ioredis would otherwise
 * retry forever and the command would hang).
 */
export async function assertRedisReachable(url: string, timeoutMs = 3_000): Promise<void> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // ioredis rejects connect() with a generic "Connection is closed"; the reason (refused,
  // wrong password) arrives on the 'error' event.
  let reason: Error | undefined;
  probe.on('error', (e: Error) => {
    reason ??= e;
  });
  try {
    await probe.connect();
    await probe.ping();
  } catch (caught) {
    const err = reason ?? caught;
    const code = (err as NodeJS.ErrnoException).code;
    const auth = /NOAUTH|WRONGPASS|invalid password|invalid username-password/i.test((err as Error).message);
    throw new CorrenteError(auth ? 'CONFIG_INVALID' : 'REDIS_UNREACHABLE', auth ? `Redis at ${where(url)} rejected the credentials` : `Cannot reach Redis at ${where(url)}${code ? ` (${code})` : ''}`, {
      cause: err,
      hint: auth ? 'Fix the password in REDIS_URL' : 'Check Redis is running and REDIS_URL points at it',
    });
  } finally {
    probe.disconnect();
  }
}

function where(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}`;
  } catch {
    return redactUrls(url);
  }
}
