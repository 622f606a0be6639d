/**
 * What `corrente doctor` asks Redis: is it reachable, which version, and does it keep
 * every key under memory pressure (`maxmemory-policy noeviction`), which BullMQ needs:
 * an evicting policy silently drops job and lock keys.
 */
import { Redis } from 'ioredis';
import { assertRedisReachable } from './redis-connection.js';

export interface RedisHealth {
  version: string;
  maxmemoryPolicy: string;
  /** Round trip of one PING, ms. */
  pingMs: number;
}

/** Reads `INFO server` and `INFO memory` (works where CONFIG is disabled, e.g. managed Redis). */
export async function inspectRedis(url: string, timeoutMs = 3_000): Promise<RedisHealth> {
  await assertRedisReachable(url, timeoutMs);
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const started = Date.now();
    await redis.ping();
    const pingMs = Date.now() - started;
    const info = `${await redis.info('server')}\n${await redis.info('memory')}`;
    const field = (name: string): string => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? 'unknown';
    return { version: field('redis_version'), maxmemoryPolicy: field('maxmemory_policy'), pingMs };
  } finally {
    redis.disconnect();
  }
}
