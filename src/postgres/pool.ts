/**
 * Creates the pg connection pool used by one process.
 */
import pg from 'pg';
import type { PostgresConfig } from '../config/index.js';
import type { Logger } from '../shared/logger.js';
import { noopLogger } from '../shared/logger.js';
import { describeTarget } from './pg-errors.js';

/** The subset of pg.Pool the rest of the code relies on. */
export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;

/**
 * Opens a pool for the export role. Idle-client errors (server restarts, terminated
 * backends) are logged rather than crashing the process: the query that owns the client
 * sees the failure itself.
 */
export function createPgPool(config: Pick<PostgresConfig, 'url' | 'connectTimeoutMs'>, logger: Logger = noopLogger): PgPool {
  const pool = new pg.Pool({
    connectionString: config.url,
    connectionTimeoutMillis: config.connectTimeoutMs,
    application_name: 'corrente',
    max: 8,
    idleTimeoutMillis: 10_000,
  });
  pool.on('error', (err) => logger.warn({ err: { message: err.message }, target: describeTarget(config.url) }, 'idle postgres client error'));
  return pool;
}
