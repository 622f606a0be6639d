/**
 * A shared in-memory DuckDB for serving queries: one instance (one memory budget), a few
 * connections so concurrent requests do not queue behind each other, and bound
 * parameters only — callers never splice values into SQL.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { CorrenteError } from '../shared/errors.js';
import { baseSettings } from './duckdb-session.js';

export interface QueryPoolOptions {
  /** Memory budget of the instance, MB. @defaultValue 512 */
  memoryMb?: number;
  /** DuckDB worker threads. @defaultValue 2 */
  threads?: number;
  /** Connections (queries run at once); more wait. @defaultValue 4 */
  connections?: number;
  /** Spill directory for operators that exceed the budget. */
  tempDir?: string;
}

/** A query result with JSON-safe values: exact numbers (BIGINT, DECIMAL) and times as strings. */
export interface QueryResult {
  columns: string[];
  rows: unknown[][];
}

export interface QueryPool {
  /** Runs `sql` with `$1..$n` bound to `params` (as VARCHAR: cast them in SQL). */
  query(sql: string, params?: readonly (string | null)[], signal?: AbortSignal): Promise<QueryResult>;
  /** Runs a statement that returns nothing useful (e.g. `COPY ... TO`), with bound parameters. */
  run(sql: string, params?: readonly (string | null)[], signal?: AbortSignal): Promise<void>;
  /** Waits for running queries, then closes every connection and the instance; idempotent. */
  close(): Promise<void>;
}

/** Opens the instance and its connections. */
export async function openQueryPool(options: QueryPoolOptions = {}): Promise<QueryPool> {
  const settings = {
    ...baseSettings({ memoryMb: options.memoryMb ?? 512, threads: options.threads ?? 2, tempDir: options.tempDir }),
    // Parquet metadata is read once per file, not per request.
    enable_object_cache: 'true',
  };
  const instance = await DuckDBInstance.create(':memory:', settings);
  const idle: DuckDBConnection[] = [];
  const waiting: ((c: DuckDBConnection) => void)[] = [];
  let busy = 0;
  try {
    for (let i = 0; i < (options.connections ?? 4); i++) {
      const c = await instance.connect();
      await c.run(`SET TimeZone = 'UTC'`);
      idle.push(c);
    }
  } catch (err) {
    for (const c of idle) c.closeSync();
    instance.closeSync();
    throw err;
  }
  let closing: Promise<void> | undefined;
  let drained: (() => void) | undefined;

  const acquire = (): Promise<DuckDBConnection> => {
    if (closing) throw new CorrenteError('INTERNAL', 'DuckDB query pool used after close');
    const c = idle.pop();
    if (c) {
      busy++;
      return Promise.resolve(c);
    }
    return new Promise((resolve) => waiting.push((conn) => (busy++, resolve(conn))));
  };
  const release = (c: DuckDBConnection): void => {
    busy--;
    const next = waiting.shift();
    if (next) next(c);
    else idle.push(c);
    if (busy === 0 && drained) drained();
  };
  const withConnection = async <T>(fn: (c: DuckDBConnection) => Promise<T>, signal?: AbortSignal): Promise<T> => {
    signal?.throwIfAborted();
    const c = await acquire();
    const onAbort = (): void => c.interrupt();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await fn(c);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      release(c);
    }
  };
  const values = (params: readonly (string | null)[] | undefined): (string | null)[] | undefined => (params && params.length > 0 ? [...params] : undefined);

  return {
    query: (sql, params, signal) =>
      withConnection(async (c) => {
        const reader = await c.runAndReadAll(sql, values(params));
        return { columns: reader.columnNames(), rows: reader.getRowsJson() as unknown[][] };
      }, signal),
    run: (sql, params, signal) => withConnection(async (c) => void (await c.run(sql, values(params))), signal),
    close: () =>
      (closing ??= (async () => {
        if (busy > 0) await new Promise<void>((resolve) => (drained = resolve));
        for (const c of idle) c.closeSync();
        instance.closeSync();
      })()),
  };
}
