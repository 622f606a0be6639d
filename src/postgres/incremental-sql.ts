/**
 * The Postgres side of incremental exports: the bounds of a window, read inside the
 * export's snapshot with the database's clock, and the row filters that select it. COPY
 * takes no parameters, so every value put in a filter is re-validated here first.
 */
import { CorrenteError } from '../shared/errors.js';
import { formatTableRef, quoteIdent, quoteLiteral, type TableSchema } from '../shared/table-schema.js';
import { qualifiedName, type RowFilter } from './copy-sql.js';
import type { PgClient } from './pool.js';

/** How a watermark column is compared: by time (bounds from `now()`) or as an integer (bounds from `max`). */
export type WatermarkKind = 'time' | 'integer';

const TIME_KINDS = new Set(['timestamptz', 'timestamp', 'date']);
const INTEGER_KINDS = new Set(['int16', 'int32', 'int64']);

/**
 * The watermark column's kind.
 * @throws CorrenteError `CONFIG_INVALID` (one line, naming the option) when the column does
 *   not exist or cannot be ordered as a watermark.
 */
export function watermarkKind(schema: TableSchema, column: string, option: string): WatermarkKind {
  const table = formatTableRef(schema.table);
  const col = schema.columns.find((c) => c.name === column);
  if (!col) {
    throw new CorrenteError('CONFIG_INVALID', `${option}: ${table} has no column ${JSON.stringify(column)}`, {
      table,
      option,
      hint: `Name a timestamp or integer column of ${table} (${schema.columns.map((c) => c.name).join(', ')}), or use { mode: xmin }`,
    });
  }
  if (TIME_KINDS.has(col.type.kind)) return 'time';
  if (INTEGER_KINDS.has(col.type.kind)) return 'integer';
  throw new CorrenteError('CONFIG_INVALID', `${option}: column ${JSON.stringify(column)} of ${table} is ${col.pgType}, which cannot serve as a watermark`, {
    table,
    option,
    hint: 'Use a timestamptz, timestamp, date or integer column that grows with each change, or { mode: xmin }',
  });
}

const TIMESTAMP_TEXT = /^-?\d{4,}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00$/;
const INTEGER_TEXT = /^-?\d{1,20}$/;
const XID8_TEXT = /^\d{1,20}$/;

function checked(text: string, pattern: RegExp, what: string): string {
  if (!pattern.test(text)) throw new CorrenteError('INTERNAL', `Unexpected ${what} ${JSON.stringify(text)} in an incremental bound`);
  return text;
}

/** Transaction start time of the snapshot (`now()`, session zone UTC): the database's clock. */
export async function readSnapshotNow(client: PgClient): Promise<string> {
  const res = await client.query<{ now: string }>('SELECT now()::text AS now');
  return checked(res.rows[0]!.now, TIMESTAMP_TEXT, 'timestamp');
}

/** `bound - overlapMs`, computed by Postgres (exact, UTC text). */
export async function subtractInterval(client: PgClient, bound: string, overlapMs: number): Promise<string> {
  const res = await client.query<{ t: string }>('SELECT ($1::timestamptz - make_interval(secs => $2::float8 / 1000))::text AS t', [bound, overlapMs]);
  return checked(res.rows[0]!.t, TIMESTAMP_TEXT, 'timestamp');
}

/** `max(column)` in the snapshot, as text; undefined for an empty table (or only NULLs). */
export async function readColumnMax(client: PgClient, schema: TableSchema, column: string): Promise<string | undefined> {
  const res = await client.query<{ hi: string | null }>(`SELECT max(${quoteIdent(column)})::text AS hi FROM ${qualifiedName(schema)}`);
  const hi = res.rows[0]?.hi;
  return hi === null || hi === undefined ? undefined : checked(hi, INTEGER_TEXT, 'integer');
}

/** `column >= from` for a time or integer watermark (NULLs never match). */
export function columnWindowFilter(column: string, kind: WatermarkKind, from: string): RowFilter {
  const c = quoteIdent(column);
  if (kind === 'time') return { sql: `${c} >= ${quoteLiteral(checked(from, TIMESTAMP_TEXT, 'timestamp'))}::timestamptz` };
  return { sql: `${c} >= ${checked(from, INTEGER_TEXT, 'integer')}` };
}

/** The export snapshot's `pg_current_snapshot()`, with its xmin and xmax (64-bit). */
export interface XidSnapshot {
  /** `xmin:xmax:xip,...` */
  text: string;
  xmin: bigint;
  xmax: bigint;
}

/** The snapshot of the current (repeatable read) transaction. */
export async function readXidSnapshot(client: PgClient): Promise<XidSnapshot> {
  const res = await client.query<{ snap: string; xmin: string; xmax: string }>(
    'SELECT s::text AS snap, pg_snapshot_xmin(s)::text AS xmin, pg_snapshot_xmax(s)::text AS xmax FROM pg_current_snapshot() AS s',
  );
  const row = res.rows[0]!;
  return parseXidSnapshot(row.snap) ?? { text: row.snap, xmin: BigInt(checked(row.xmin, XID8_TEXT, 'xid8')), xmax: BigInt(checked(row.xmax, XID8_TEXT, 'xid8')) };
}

/** Parses `xmin:xmax:xip,...` (the text form of `pg_snapshot`); undefined when malformed. */
export function parseXidSnapshot(text: string): XidSnapshot | undefined {
  const m = /^(\d{1,20}):(\d{1,20}):((?:\d{1,20})(?:,\d{1,20})*)?$/.exec(text);
  return m ? { text, xmin: BigInt(m[1]!), xmax: BigInt(m[2]!) } : undefined;
}

const WRAP = 1n << 32n;
/** xids 0-2 are invalid, bootstrap and frozen: never a change. */
const FIRST_NORMAL_XID = 3n;

/**
 * Rows written by transactions with a 64-bit id in `[from, to)`: `from` is the previous
 * snapshot's xmin (every transaction the previous export could not see has an id at least
 * that; subtransactions included, which `pg_visible_in_snapshot` would get wrong), `to`
 * the current snapshot's xmax. A row's `xmin` is only 32 bits: it is placed in the epoch
 * that puts it at most 2^32 below `to`, which is exact for every id in the window as long
 * as `to - from < 2^32` (the caller checks, with a margin). Rows older than 2^32
 * transactions (frozen long ago) can only land in the window by accident, adding rows to an
 * increment, never losing one.
 */
export function xminWindowFilter(from: bigint, to: bigint): RowFilter {
  if (to - from >= WRAP || from > to) throw new CorrenteError('INTERNAL', `xmin window [${from}, ${to}) is not within one wrap`);
  const lo = from % WRAP;
  const hi = to % WRAP;
  const x = 'xmin::text::bigint';
  const sameEpoch = from / WRAP === to / WRAP;
  // Each epoch's part of the window, in 32-bit ids.
  const sql = sameEpoch ? `(${x} >= ${lo} AND ${x} < ${hi})` : `(${x} >= ${lo} OR ${x} < ${hi})`;
  return { sql: `(${sql} AND ${x} >= ${FIRST_NORMAL_XID})` };
}

/** `pg_class` oid of the table, as text: a dropped and recreated table gets a new one. */
export async function readTableOid(client: PgClient, schema: TableSchema): Promise<string> {
  const res = await client.query<{ oid: string }>(
    'SELECT c.oid::text AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2',
    [schema.table.schema, schema.table.name],
  );
  return res.rows[0]?.oid ?? '';
}

/**
 * Rows of the whole table, and (when asked) rows in the window and rows whose watermark
 * is NULL. Asked for nothing else, Postgres may answer from the primary key index alone.
 */
export async function readWindowCounts(client: PgClient, schema: TableSchema, options: { window?: RowFilter; nullColumn?: string }): Promise<{ total: number; window?: number; nulls: number }> {
  const win = options.window ? `count(*) FILTER (WHERE ${options.window.sql})::text` : 'NULL::text';
  const nulls = options.nullColumn ? `count(*) FILTER (WHERE ${quoteIdent(options.nullColumn)} IS NULL)::text` : `'0'`;
  const res = await client.query<{ total: string; win: string | null; nulls: string }>(`SELECT count(*)::text AS total, ${win} AS win, ${nulls} AS nulls FROM ${qualifiedName(schema)}`);
  const row = res.rows[0]!;
  return { total: Number(row.total), ...(row.win !== null ? { window: Number(row.win) } : {}), nulls: Number(row.nulls) };
}

/** `COPY (SELECT <primary key> FROM t) TO STDOUT (FORMAT csv)`: the source's keys, for `deletes: keydiff`. */
export function buildKeyCopySql(schema: TableSchema): string {
  return `COPY (SELECT ${schema.primaryKey.map(quoteIdent).join(', ')} FROM ${qualifiedName(schema)}) TO STDOUT WITH (FORMAT csv)`;
}
