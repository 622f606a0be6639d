/**
 * Reads back everything stored under a Redis key prefix, whatever the key type, so a test
 * can assert what corrente (and BullMQ on its behalf) leaves in Redis.
 */
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from './cli.js';

/** One key and its full value, as raw bytes (BullMQ may store msgpack, not only text). */
export interface RedisEntry {
  key: string;
  type: string;
  /** Every member / field / value / stream entry of the key, in Redis order. */
  parts: Buffer[];
}

/**
 * SCANs `<prefix>:*` and reads every key by type: string, hash, list, set, zset, stream.
 * @throws when a key has a type this helper cannot read (so nothing is silently skipped).
 */
export async function dumpRedisPrefix(prefix: string, url = TEST_REDIS_URL): Promise<RedisEntry[]> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    const keys = new Set<string>();
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      for (const k of batch) keys.add(k);
    } while (cursor !== '0');
    const out: RedisEntry[] = [];
    for (const key of [...keys].sort()) {
      const type = await redis.type(key);
      const parts: Buffer[] = [Buffer.from(key)];
      switch (type) {
        case 'none':
          continue; // expired between SCAN and TYPE
        case 'string': {
          const v = await redis.getBuffer(key);
          if (v) parts.push(v);
          break;
        }
        case 'hash': {
          const h = await redis.hgetallBuffer(key);
          for (const [f, v] of Object.entries(h)) parts.push(Buffer.from(f), v);
          break;
        }
        case 'list':
          parts.push(...(await redis.lrangeBuffer(key, 0, -1)));
          break;
        case 'set':
          parts.push(...(await redis.smembersBuffer(key)));
          break;
        case 'zset':
          parts.push(...(await redis.zrangeBuffer(key, '0', '-1', 'WITHSCORES')));
          break;
        case 'stream': {
          const entries = (await redis.xrangeBuffer(key, '-', '+')) as unknown as [Buffer, Buffer[]][];
          for (const [id, fields] of entries) parts.push(id, ...fields);
          break;
        }
        default:
          throw new Error(`dumpRedisPrefix: key ${key} has type ${type}, which this helper cannot read`);
      }
      out.push({ key, type, parts });
    }
    return out;
  } finally {
    redis.disconnect();
  }
}

/** Keys (with type) whose name or value contains `needle`. */
export function redisEntriesContaining(entries: readonly RedisEntry[], needle: string): string[] {
  const n = Buffer.from(needle);
  return entries.filter((e) => e.parts.some((p) => p.includes(n))).map((e) => `${e.key} (${e.type})`);
}
