/**
 * Streams the result of a COPY ... TO STDOUT as raw bytes.
 */
import type { Readable } from 'node:stream';
import copyStreams from 'pg-copy-streams';
import type { PgClient } from './pool.js';

/** Starts the COPY; the caller consumes the stream (`for await`) and must destroy it on abort. */
export function copyOut(client: PgClient, sql: string): Readable {
  return client.query(copyStreams.to(sql));
}
