/**
 * `migrate --wait` follows a run through the run store's change notices (Redis pub/sub),
 * not only by polling: with a poll interval far longer than the test, the wait still sees
 * every state and returns when the table is published.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRun } from '../../cli/wait-for-run.js';
import { createRedis, RunStore, TableRun, type Redis, type RunStatus } from '../../queues/index.js';

const TABLE = { schema: 'core', name: 'orders' };
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('waitForRun with a subscriber', () => {
  let redis: Redis;
  let subscriber: Redis;
  let runs: RunStore;
  const prefix = `t-wait-${randomUUID().slice(0, 8)}`;

  beforeAll(() => {
    redis = createRedis(REDIS_URL);
    subscriber = createRedis(REDIS_URL);
    runs = new RunStore(redis, prefix);
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    subscriber.disconnect();
  });

  it('wakes on each change instead of waiting for the next poll, and unsubscribes after', async () => {
    const runId = `r-${randomUUID().slice(0, 8)}`;
    await runs.createRun(runId, [TABLE]);
    const run = new TableRun(runs, runId, TABLE);
    const seen: string[] = [];
    // One poll every 10 minutes: only the notices can move this wait along within the test.
    const waiting = waitForRun(runs, runId, { pollMs: 600_000, subscriber, onUpdate: (r: RunStatus) => seen.push(r.tables[0]!.state) });
    // The first read happens after subscribing; give it a moment before changing the run.
    await expect.poll(() => seen.length).toBeGreaterThan(0);
    await run.exportStarted(1);
    await expect.poll(() => seen.at(-1)).toBe('exporting');
    await run.staged({ rows: 3, bytes: 10, files: 1, exportSeconds: 0.1 });
    await run.published({ verification: 'passed', verifySeconds: 0.1, uris: ['file:///a'], checksums: ['sha256:00'] });
    const done = await waiting;
    expect(done.tables[0]).toMatchObject({ state: 'published', rows: 3, verification: 'passed' });
    expect(seen[0]).toBe('queued');
    expect(seen.at(-1)).toBe('published');
    // Unsubscribed: the connection left pub/sub mode and takes ordinary commands again.
    expect(await subscriber.ping()).toBe('PONG');
  });

  it('an abort ends the wait at once, also with a long poll interval', async () => {
    const runId = `r-${randomUUID().slice(0, 8)}`;
    await runs.createRun(runId, [TABLE]);
    const controller = new AbortController();
    const waiting = waitForRun(runs, runId, { pollMs: 600_000, subscriber, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop waiting')), 50);
    await expect(waiting).rejects.toThrow('stop waiting');
  });
});
