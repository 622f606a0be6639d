/**
 * `COPY ... FROM STDIN`: sends bytes (CSV, already in Postgres' input form) to the server
 * as CopyData messages, honouring the socket's backpressure, and returns the row count
 * the server reports. A pg "submittable", the mirror of `copy-out.ts`.
 */
import type { Connection } from 'pg';
import type { PgClient } from './pool.js';

/** The parts of pg's connection used while the COPY runs. */
interface PgConnection {
  stream: {
    readonly writableNeedDrain: boolean;
    once(event: 'drain' | 'close', fn: () => void): void;
    removeListener(event: 'drain' | 'close', fn: () => void): void;
  };
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
}

/** Runs one COPY FROM STDIN; pg calls the `handle*` methods as server messages arrive. */
class CopyInQuery {
  /** Resolves with the connection once the server is ready for data. */
  readonly ready: Promise<PgConnection>;
  /** Resolves with the row count when the COPY is over (after ReadyForQuery). */
  readonly done: Promise<number>;
  private resolveReady!: (c: PgConnection) => void;
  private rejectReady!: (e: Error) => void;
  private resolveDone!: (n: number) => void;
  private rejectDone!: (e: Error) => void;
  private rows = 0;
  private error: Error | undefined;

  /** The server reported an error: sending more is pointless. */
  get failed(): boolean {
    return this.error !== undefined;
  }

  constructor(private readonly text: string) {
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // Either may settle without being awaited (an error before the server asked for data).
    this.ready.catch(() => {});
    this.done.catch(() => {});
  }

  submit(connection: Connection): void {
    (connection as unknown as PgConnection).query(this.text);
  }

  handleCopyInResponse(connection: Connection): void {
    this.resolveReady(connection as unknown as PgConnection);
  }

  handleCommandComplete(msg: { text?: string }): void {
    const m = /^COPY (\d+)/.exec(msg.text ?? '');
    if (m) this.rows = Number(m[1]);
  }

  handleError(err: Error): void {
    this.error ??= err;
    this.rejectReady(err);
    // pg calls handleError for a dead connection without a ReadyForQuery to follow.
    this.rejectDone(err);
  }

  handleReadyForQuery(): void {
    if (this.error) this.rejectDone(this.error);
    else this.resolveDone(this.rows);
  }

  // Messages a COPY FROM never produces; pg may still look the handlers up.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}

/**
 * Runs `sql` (a `COPY ... FROM STDIN`) on `client` and streams `source` into it.
 * Aborting sends CopyFail, so the server rolls the statement back and the connection stays
 * usable. Errors are pg's (map them with `mapPgError`).
 * @returns rows the server stored.
 */
export async function copyIn(client: PgClient, sql: string, source: AsyncIterable<Buffer>, signal?: AbortSignal): Promise<number> {
  const query = new CopyInQuery(sql);
  void client.query(query as never);
  const conn = await query.ready;
  try {
    for await (const chunk of source) {
      signal?.throwIfAborted();
      if (query.failed) break;
      conn.sendCopyFromChunk(chunk);
      // pg's send does not return write()'s verdict; the socket says whether to wait.
      if (conn.stream.writableNeedDrain) await drained(conn, query.done);
    }
    signal?.throwIfAborted();
  } catch (err) {
    conn.sendCopyFail(err instanceof Error ? err.message : 'aborted by the client');
    await query.done.catch(() => {});
    throw err;
  }
  conn.endCopyFrom();
  return query.done;
}

/** Waits for the socket to drain, or for the COPY to end early (a server error). */
function drained(conn: PgConnection, done: Promise<number>): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      conn.stream.removeListener('close', onDrain);
      resolve();
    };
    conn.stream.once('drain', onDrain);
    conn.stream.once('close', onDrain);
    done.then(
      () => resolve(),
      (err: unknown) => {
        conn.stream.removeListener('drain', onDrain);
        conn.stream.removeListener('close', onDrain);
        reject(err as Error);
      },
    );
  });
}
