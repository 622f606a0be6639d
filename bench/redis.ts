/**
 * The little Redis the harness needs: waiting until worker processes have registered on
 * the queues (BullMQ names its worker connections `<prefix>:<base64(queue)>`), and
 * deleting a measurement's keys afterwards.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export function openRedis(url = process.env.REDIS_URL || 'redis://127.0.0.1:6379'): Redis {
  return new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: true, connectTimeout: 5_000 });
}

function clientName(prefix: string, queue: string): string {
  return `${prefix}:${Buffer.from(queue).toString('base64')}`;
}

/** Number of connected BullMQ workers of `queue` under `prefix`. */
export async function countWorkers(redis: Redis, prefix: string, queue: string): Promise<number> {
  const list = (await redis.client('LIST')) as string;
  const want = `name=${clientName(prefix, queue)}`;
  return list.split('\n').filter((line) => line.split(' ').includes(want)).length;
}

/**
 * Resolves once `n` workers serve both the export and the verify queue; rejects after
 * `timeoutMs` or as soon as `stillAlive()` turns false.
 */
export async function waitForWorkers(
  redis: Redis,
  prefix: string,
  n: number,
  stillAlive: () => boolean,
  timeoutMs = 60_000,
): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const [e, v] = await Promise.all([countWorkers(redis, prefix, 'export'), countWorkers(redis, prefix, 'verify')]);
    if (e >= n && v >= n) return (performance.now() - t0) / 1000;
    if (!stillAlive()) throw new Error('a worker process exited before it was ready');
    if (performance.now() - t0 > timeoutMs) {
      throw new Error(`workers not ready after ${timeoutMs / 1000} s (export ${e}/${n}, verify ${v}/${n} connected)`);
    }
    await sleep(100);
  }
}

/** Deletes every key under `prefix:` (SCAN + UNLINK). Returns how many. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) n += await redis.unlink(...keys);
  } while (cursor !== '0');
  return n;
}
