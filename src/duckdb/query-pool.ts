/**
 * A shared in-memory DuckDB for serving queries: one instance (one memory budget), a few
 * connections so concurrent requests do not queue behind each other, statements prepared
 * once per connection and SQL text, and bound parameters only — callers never splice
 * values into SQL.
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
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

/** Prepared statements kept per connection (least recently used dropped beyond it). */
const STATEMENTS_PER_CONNECTION = 32;

/** A connection and its prepared statements by SQL text (a Map keeps use order: oldest first). */
interface PooledConnection {
  connection: DuckDBConnection;
  prepared: Map<string, DuckDBPreparedStatement>;
}

/** Opens the instance and its connections. */
export async function openQueryPool(options: QueryPoolOptions = {}): Promise<QueryPool> {
  const settings = {
    ...baseSettings({ memoryMb: options.memoryMb ?? 512, threads: options.threads ?? 2, tempDir: options.tempDir }),
    // Parquet metadata is read once per file, not per request.
    enable_object_cache: 'true',
  };
  const instance = await DuckDBInstance.create(':memory:', settings);
  const idle: PooledConnection[] = [];
  const waiting: ((c: PooledConnection) => void)[] = [];
  let busy = 0;
  try {
    for (let i = 0; i < (options.connections ?? 4); i++) {
      const c = await instance.connect();
      await c.run(`SET TimeZone = 'UTC'`);
      idle.push({ connection: c, prepared: new Map() });
    }
  } catch (err) {
    for (const c of idle) c.connection.closeSync();
    instance.closeSync();
    throw err;
  }
  let closing: Promise<void> | undefined;
  let drained: (() => void) | undefined;

  const acquire = (): Promise<PooledConnection> => {
    if (closing) throw new CorrenteError('INTERNAL', 'DuckDB query pool used after close');
    const c = idle.pop();
    if (c) {
      busy++;
      return Promise.resolve(c);
    }
    return new Promise((resolve) => waiting.push((conn) => (busy++, resolve(conn))));
  };
  const release = (c: PooledConnection): void => {
    busy--;
    const next = waiting.shift();
    if (next) next(c);
    else idle.push(c);
    if (busy === 0 && drained) drained();
  };
  const withConnection = async <T>(fn: (c: PooledConnection) => Promise<T>, signal?: AbortSignal): Promise<T> => {
    signal?.throwIfAborted();
    const c = await acquire();
    const onAbort = (): void => c.connection.interrupt();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await fn(c);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      release(c);
    }
  };
  const values = (params: readonly (string | null)[] | undefined): (string | null)[] | undefined => (params && params.length > 0 ? [...params] : undefined);

  /**
   * The statement for `sql` on this connection, prepared once: a request's SQL repeats
   * with the run's files and the query shape (values are bound), so parsing it, and
   * creating and destroying a statement per request, is skipped (measured in
   * bench/README.md, "The API"). DuckDB still plans each execution with its values, so
   * filters keep reaching the Parquet statistics.
   */
  const prepared = async (c: PooledConnection, sql: string): Promise<DuckDBPreparedStatement> => {
    const cached = c.prepared.get(sql);
    if (cached) {
      c.prepared.delete(sql);
      c.prepared.set(sql, cached);
      return cached;
    }
    const statement = await c.connection.prepare(sql);
    c.prepared.set(sql, statement);
    if (c.prepared.size > STATEMENTS_PER_CONNECTION) {
      const [oldest, old] = c.prepared.entries().next().value!;
      c.prepared.delete(oldest);
      old.destroySync();
    }
    return statement;
  };
  /** Drops a statement that failed: its files may be gone (gc), or the connection was interrupted. */
  const forget = (c: PooledConnection, sql: string): void => {
    const statement = c.prepared.get(sql);
    if (!statement) return;
    c.prepared.delete(sql);
    statement.destroySync();
  };

  return {
    query: (sql, params, signal) =>
      withConnection(async (c) => {
        const statement = await prepared(c, sql);
        try {
          const bound = values(params);
          if (bound) statement.bind(bound);
          else statement.clearBindings();
          const reader = await statement.runAndReadAll();
          return { columns: reader.columnNames(), rows: reader.getRowsJson() as unknown[][] };
        } catch (err) {
          forget(c, sql);
          throw err;
        }
      }, signal),
    run: (sql, params, signal) => withConnection(async (c) => void (await c.connection.run(sql, values(params))), signal),
    close: () =>
      (closing ??= (async () => {
        if (busy > 0) await new Promise<void>((resolve) => (drained = resolve));
        // Closing a connection destroys its prepared statements too.
        for (const c of idle) c.connection.closeSync();
        instance.closeSync();
      })()),
  };
}
