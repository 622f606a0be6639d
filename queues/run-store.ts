/**
 * Run status in Redis: one hash per run (a field per table), plus a bounded index of
 * recent runs. Keys expire, so a year of nightly runs does not grow Redis without limit.
 * It stores statuses; the rules for changing them live in run-lifecycle.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { compareCodeUnits } from '../src/shared/compare-code-units.js';
import { CorrenteError } from '../src/shared/errors.js';
import { formatTableRef, type TableRef } from '../src/shared/table-schema.js';
import { initialStatus, type RunStatus, type TableStatus } from './run-lifecycle.js';

/** Hash fields holding per-chunk row counts: `#chunk<n>:<table>`. */
const CHUNK_FIELD = '#chunk';

/**
 * Sets a table's status only if it is still what the writer read (empty: absent), keeps
 * the run listable and expiring, and tells watchers (see {@link RunStore.watch}) that the
 * run changed. KEYS[1] run hash; ARGV field, expected, next, createdAt, ttl, channel.
 * `pcall`: a Redis user without channel rights (ACL) still writes; waiters then poll.
 */
const COMPARE_AND_SET = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (current or '') ~= ARGV[2] then return 0 end
redis.call('HSETNX', KEYS[1], '_createdAt', ARGV[4])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.pcall('PUBLISH', ARGV[6], ARGV[1])
return 1
`;
/** Concurrent writers of one table are few (chunk jobs); this bounds a livelock. */
const MAX_CHANGE_ATTEMPTS = 50;

/** Runs kept in the index and how long their details live. */
const MAX_INDEXED_RUNS = 500;
const RUN_TTL_SECONDS = 30 * 24 * 3600;

export class RunStore {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  #runKey(runId: string): string {
    return `${this.#prefix}:run:${runId}`;
  }

  /** Pub/sub channel of a run's changes (a channel, not a key: nothing to expire or clean up). */
  #changesChannel(runId: string): string {
    return `${this.#prefix}:run-changes:${runId}`;
  }

  #indexKey(): string {
    return `${this.#prefix}:runs`;
  }

  /** Records a new run with every table queued; a second call for the same run keeps what exists. */
  async createRun(runId: string, tables: readonly TableRef[]): Promise<void> {
    const at = new Date();
    const key = this.#runKey(runId);
    const multi = this.#redis.multi().hsetnx(key, '_createdAt', at.toISOString());
    for (const t of tables) multi.hsetnx(key, formatTableRef(t), JSON.stringify(initialStatus(t, at)));
    multi.expire(key, RUN_TTL_SECONDS).zadd(this.#indexKey(), 'NX', Date.now(), runId).zremrangebyrank(this.#indexKey(), 0, -MAX_INDEXED_RUNS - 1);
    await multi.exec();
  }

  /**
   * Changes a table's status atomically: `decide` gets the current status (undefined when
   * there is none) and returns the next one, or undefined to leave it. When another writer
   * changed it in between, `decide` runs again on the new status. Whatever `decide` throws
   * is thrown here and nothing is written. Used by the run lifecycle (run-lifecycle.ts),
   * which owns the state rules.
   */
  async change(runId: string, table: TableRef, decide: (current: TableStatus | undefined) => TableStatus | undefined): Promise<TableStatus | undefined> {
    const key = this.#runKey(runId);
    const field = formatTableRef(table);
    for (let attempt = 0; attempt < MAX_CHANGE_ATTEMPTS; attempt++) {
      const raw = await this.#redis.hget(key, field);
      const current = raw ? (JSON.parse(raw) as TableStatus) : undefined;
      const next = decide(current);
      if (next === undefined) return current;
      // hsetnx of `_createdAt`: a run whose record was lost (Redis restarted without persistence) stays listable.
      const written = await this.#redis.eval(COMPARE_AND_SET, 1, key, field, raw ?? '', JSON.stringify(next), next.updatedAt, RUN_TTL_SECONDS, this.#changesChannel(runId));
      if (written === 1) return next;
      // Lost the race: back off a few ms (random, so racing writers spread out) and re-read.
      await sleep(Math.random() * 5);
    }
    throw new CorrenteError('RUN_STATE', `Status of ${field} in run ${runId} kept changing under ${MAX_CHANGE_ATTEMPTS} attempts to update it`, {
      runId,
      table: field,
      hint: 'Too many writers on one table of a run; retry the job',
      retryable: true,
    });
  }

  /** Rows streamed so far by one chunk of a chunked export (chunks run in parallel). */
  async setChunkRows(runId: string, table: TableRef, chunk: number, rows: number): Promise<void> {
    await this.#redis.hset(this.#runKey(runId), `${CHUNK_FIELD}${chunk}:${formatTableRef(table)}`, String(rows));
  }

  async get(runId: string): Promise<RunStatus | undefined> {
    const all = await this.#redis.hgetall(this.#runKey(runId));
    if (!all._createdAt) return undefined;
    const chunkRows = new Map<string, number>();
    for (const [k, v] of Object.entries(all)) {
      if (!k.startsWith(CHUNK_FIELD)) continue;
      const table = k.slice(k.indexOf(':', CHUNK_FIELD.length) + 1);
      chunkRows.set(table, (chunkRows.get(table) ?? 0) + Number(v));
    }
    const tables = Object.entries(all)
      .filter(([k]) => k !== '_createdAt' && !k.startsWith(CHUNK_FIELD))
      .map(([k, v]) => {
        const t = JSON.parse(v) as TableStatus;
        const streamed = chunkRows.get(k);
        return streamed !== undefined && t.state === 'exporting' ? { ...t, rows: streamed } : t;
      })
      .sort((a, b) => compareCodeUnits(formatTableRef(a.table), formatTableRef(b.table)));
    return { runId, createdAt: all._createdAt, tables };
  }

  /**
   * Calls `onChange` whenever a table of the run changes state or progress (every write of
   * {@link change}), so a waiter need not poll. `subscriber` is a connection of its own:
   * subscribing puts it in pub/sub mode. Messages are not stored, so a waiter still reads
   * the run after subscribing and now and then (a reconnect may drop some). Returns the
   * unsubscribe.
   */
  async watch(subscriber: Redis, runId: string, onChange: () => void): Promise<() => Promise<void>> {
    const channel = this.#changesChannel(runId);
    const listener = (from: string): void => {
      if (from === channel) onChange();
    };
    subscriber.on('message', listener);
    try {
      await subscriber.subscribe(channel);
    } catch (err) {
      subscriber.off('message', listener);
      throw err;
    }
    return async () => {
      subscriber.off('message', listener);
      await subscriber.unsubscribe(channel).catch(() => undefined);
    };
  }

  /** Most recent run ids, newest first. */
  async recent(limit = 10): Promise<string[]> {
    return this.#redis.zrevrange(this.#indexKey(), 0, limit - 1);
  }
}
