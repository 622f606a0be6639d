/**
 * Run status in Redis: one hash per run (a field per table), plus a bounded index of
 * recent runs. Keys expire, so a year of nightly runs does not grow Redis without limit.
 */
import type { Redis } from 'ioredis';
import type { StageSeconds } from '../src/shared/stage-seconds.js';
import { formatTableRef, type TableRef } from '../src/shared/table-schema.js';

/** `skipped`: another run was already exporting the table when this one was enqueued. */
export const TABLE_STATES = ['queued', 'exporting', 'verifying', 'published', 'failed', 'skipped'] as const;
export type TableState = (typeof TABLE_STATES)[number];

/** What `status` and `migrate --wait` show for one table of a run. */
export interface TableStatus {
  table: TableRef;
  state: TableState;
  rows: number;
  estimatedRows: number;
  bytes: number;
  files: number;
  /** Number of chunk jobs, for a chunked export. */
  chunks?: number;
  /** Seconds spent exporting (set when staged). */
  exportSeconds?: number;
  /** Where the export's time went (see the manifest's `timings.stages`). */
  stages?: StageSeconds;
  verifySeconds?: number;
  verification?: 'passed' | 'failed' | 'skipped';
  /** URIs of the published files. */
  uris?: string[];
  checksums?: string[];
  error?: { code: string; message: string };
  updatedAt: string;
  startedAt?: string;
  attempts?: number;
}

export interface RunStatus {
  runId: string;
  createdAt: string;
  tables: TableStatus[];
}

/** Hash fields holding per-chunk row counts: `#chunk<n>:<table>`. */
const CHUNK_FIELD = '#chunk';

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

  #indexKey(): string {
    return `${this.#prefix}:runs`;
  }

  /** Records a new run with every table queued; a second call for the same run keeps what exists. */
  async createRun(runId: string, tables: readonly TableRef[]): Promise<void> {
    const now = new Date().toISOString();
    const key = this.#runKey(runId);
    const multi = this.#redis.multi().hsetnx(key, '_createdAt', now);
    for (const t of tables) {
      const s: TableStatus = { table: t, state: 'queued', rows: 0, estimatedRows: -1, bytes: 0, files: 0, updatedAt: now };
      multi.hsetnx(key, formatTableRef(t), JSON.stringify(s));
    }
    multi.expire(key, RUN_TTL_SECONDS).zadd(this.#indexKey(), 'NX', Date.now(), runId).zremrangebyrank(this.#indexKey(), 0, -MAX_INDEXED_RUNS - 1);
    await multi.exec();
  }

  /** Merges `patch` into a table's status. */
  async update(runId: string, table: TableRef, patch: Partial<TableStatus>): Promise<void> {
    const key = this.#runKey(runId);
    const field = formatTableRef(table);
    const current = await this.#redis.hget(key, field);
    const base: TableStatus = current ? (JSON.parse(current) as TableStatus) : { table, state: 'queued', rows: 0, estimatedRows: -1, bytes: 0, files: 0, updatedAt: '' };
    const next = { ...base, ...patch, updatedAt: new Date().toISOString() };
    // hsetnx: a run whose record was lost (Redis restarted without persistence) stays listable.
    await this.#redis.multi().hsetnx(key, '_createdAt', next.updatedAt).hset(key, field, JSON.stringify(next)).expire(key, RUN_TTL_SECONDS).exec();
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
      .sort((a, b) => formatTableRef(a.table).localeCompare(formatTableRef(b.table)));
    return { runId, createdAt: all._createdAt, tables };
  }

  /** Most recent run ids, newest first. */
  async recent(limit = 10): Promise<string[]> {
    return this.#redis.zrevrange(this.#indexKey(), 0, limit - 1);
  }
}

/** True when every table reached a final state. */
export function isRunFinished(run: RunStatus): boolean {
  return run.tables.every((t) => t.state === 'published' || t.state === 'failed' || t.state === 'skipped');
}
