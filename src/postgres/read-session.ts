/**
 * A read-only, repeatable-read transaction: one consistent snapshot of the database for
 * the whole export, shareable with other connections through an exported snapshot id.
 */
import { CorrenteError } from '../shared/errors.js';
import { EXPORT_SESSION_SETTINGS } from './copy-sql.js';
import { describeTarget, mapPgError } from './pg-errors.js';
import type { PgClient, PgPool } from './pool.js';

export interface ReadSessionOptions {
  /** Join this exported snapshot instead of taking a new one. */
  snapshotId?: string;
  /** Export the snapshot so other sessions can join it. @defaultValue false */
  exportSnapshot?: boolean;
  /** Settings for this session's transaction, beside (or over) the export settings every session gets. */
  settings?: Readonly<Record<string, string>>;
  /** The URL the pool uses, for error messages only. */
  target: string;
}

export interface ReadSession {
  readonly client: PgClient;
  /** Set when `exportSnapshot` was asked for (or joined). */
  readonly snapshotId: string | undefined;
  /** Transaction start time (UTC, ISO 8601): the instant the data reflects. */
  readonly snapshotTime: string;
  /**
   * Ends the transaction and returns the connection; idempotent. `discard` drops the
   * connection instead (after a failed or interrupted COPY its state is unknown).
   */
  close(discard?: boolean): Promise<void>;
}

const SNAPSHOT_ID = /^[0-9A-Fa-f]+-[0-9A-Fa-f]+(-[0-9A-Fa-f]+)?$/;

/**
 * Opens the session. Nothing in it can write: the transaction is READ ONLY.
 * @throws CorrenteError from {@link mapPgError} (unreachable, auth, ...).
 */
export async function openReadSession(pool: PgPool, options: ReadSessionOptions): Promise<ReadSession> {
  const target = describeTarget(options.target);
  let client: PgClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw mapPgError(err, target);
  }
  // A terminated backend emits 'error' on the client; the running query rejects too, so
  // the listener only has to keep the process alive.
  const onError = (): void => {};
  client.on('error', onError);
  let closed: Promise<void> | undefined;
  let broken = false;
  const close = (discard = false): Promise<void> =>
    (closed ??= (async () => {
      broken ||= discard;
      try {
        if (!broken) await client.query('ROLLBACK');
      } catch {
        broken = true;
      } finally {
        client.off('error', onError);
        client.release(broken ? true : undefined);
      }
    })());
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    if (options.snapshotId !== undefined) {
      if (!SNAPSHOT_ID.test(options.snapshotId)) {
        throw new CorrenteError('INTERNAL', `Malformed snapshot id ${JSON.stringify(options.snapshotId)}`);
      }
      await client.query(`SET TRANSACTION SNAPSHOT '${options.snapshotId}'`);
    }
    for (const [name, value] of Object.entries({ ...EXPORT_SESSION_SETTINGS, ...options.settings })) {
      await client.query('SELECT set_config($1, $2, true)', [name, value]);
    }
    const exportIt = options.exportSnapshot && options.snapshotId === undefined;
    const res = await client.query<{ ts: string; snap: string | null }>(
      `SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts, ${exportIt ? 'pg_export_snapshot()' : 'NULL::text'} AS snap`,
    );
    const row = res.rows[0]!;
    return { client, snapshotId: row.snap ?? options.snapshotId, snapshotTime: row.ts, close };
  } catch (err) {
    await close(true);
    throw mapPgError(err, target);
  }
}
