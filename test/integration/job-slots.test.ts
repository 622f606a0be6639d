/**
 * `worker.concurrency` is per process: BullMQ workers of two queues sharing JobSlots never
 * run more jobs at once than the limit, in total, still run every job, and do not sit on
 * jobs another process could run. Real Redis and real BullMQ workers; the jobs only sleep.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { JobSlots } from '../../workers/job-slots.js';
import { TEST_REDIS_URL } from '../helpers/cli.js';

const opened: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

function connection(): Redis {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  opened.push({ close: async () => redis.disconnect() });
  return redis;
}

interface Process {
  slots: JobSlots;
  /** Most jobs running at once in this process. */
  peak: number;
  done: number;
}

/**
 * Queues `export` and `verify` with `jobsPerQueue` jobs each (taking `jobMs`), served by
 * `processes` simulated worker processes: each one Worker per queue (BullMQ concurrency
 * `limit`, as startWorkers sets it) sharing one JobSlots(limit).
 */
async function serve(processes: number, limit: number, jobsPerQueue: number, jobMs: number): Promise<{ procs: Process[]; peakTotal: number; ms: number }> {
  const prefix = `slots-${randomUUID().slice(0, 8)}`;
  let total = 0;
  let peakTotal = 0;
  const queues = ['export', 'verify'];
  for (const name of queues) {
    const queue = new Queue(name, { connection: connection(), prefix });
    opened.push({
      close: async () => {
        await queue.obliterate({ force: true });
        await queue.close();
      },
    });
    await queue.addBulk(Array.from({ length: jobsPerQueue }, (_, i) => ({ name: `j${i}`, data: {} })));
  }
  const procs: Process[] = [];
  const workers: Worker[] = [];
  for (let p = 0; p < processes; p++) {
    const proc: Process = { slots: new JobSlots(limit, 100), peak: 0, done: 0 };
    let now = 0;
    const processor = async (_job: Job): Promise<void> => {
      proc.peak = Math.max(proc.peak, ++now);
      peakTotal = Math.max(peakTotal, ++total);
      await sleep(jobMs);
      now--;
      total--;
      proc.done++;
    };
    const own = queues.map((name) => new Worker(name, proc.slots.wrap(processor), { connection: connection(), prefix, concurrency: limit, autorun: false }));
    for (const w of own) opened.push({ close: () => w.close() });
    proc.slots.attach(own);
    procs.push(proc);
    workers.push(...own);
  }
  const started = Date.now();
  for (const w of workers) void w.run();
  const all = queues.length * jobsPerQueue;
  for (let i = 0; i < 300 && procs.reduce((n, p) => n + p.done, 0) < all; i++) await sleep(20);
  const ms = Date.now() - started;
  for (const p of procs) p.slots.close();
  return { procs, peakTotal, ms };
}

describe('JobSlots: one limit across the queues of a process', () => {
  it('limit 1: one job at a time over both queues; every job runs', async () => {
    const { procs } = await serve(1, 1, 4, 40);
    expect(procs[0]).toMatchObject({ peak: 1, done: 8 });
  });

  it('limit 3: at most 3 at once in total, and 3 are reached', async () => {
    const { procs } = await serve(1, 3, 6, 60);
    expect(procs[0]).toMatchObject({ peak: 3, done: 12 });
  });

  it('a busy process does not hold jobs back: two processes of limit 1 run two at once', async () => {
    const { procs, peakTotal } = await serve(2, 1, 6, 80);
    expect(procs.map((p) => p.peak)).toEqual([1, 1]);
    expect(procs[0]!.done + procs[1]!.done).toBe(12);
    expect(procs[0]!.done).toBeGreaterThan(0);
    expect(procs[1]!.done).toBeGreaterThan(0);
    expect(peakTotal).toBe(2);
  });
});
