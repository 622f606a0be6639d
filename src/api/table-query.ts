/**
 * Turns a data request (column selection, filters, order, page) into one DuckDB SELECT
 * over a run's files. Identifiers come only from the table's catalog entry (the
 * manifest's columns): a name the table does not have is refused, never quoted into SQL.
 * Values are always bound parameters, cast to the column's type.
 */
import { duckType } from '../duckdb/index.js';
import { CorrenteError } from '../shared/errors.js';
import { describeLogicalType, quoteIdent, quoteLiteral, type LogicalType } from '../shared/table-schema.js';

/** A column of a served table. */
export interface ServedColumn {
  name: string;
  type: LogicalType;
  nullable: boolean;
}

/** Comparison operators of a filter: `column=op.value` (PostgREST style). */
export const FILTER_OPS = ['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in', 'is'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

const SQL_OPS: Record<Exclude<FilterOp, 'in' | 'is'>, string> = { eq: '=', neq: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' };

/** Query-string keys that are not filters. */
export const RESERVED_PARAMS = new Set(['select', 'order', 'limit', 'offset', 'cursor', 'format']);

/** What a client asked for, as parsed from the query string. */
export interface TableRequest {
  select?: string;
  order?: string;
  limit?: number;
  offset?: number;
  cursor?: string;
  /** Every other query-string key: a column name and one or more `op.value` strings. */
  filters: Record<string, string | string[]>;
}

/** A page position: the run read, and either the last row's order values or an offset. */
export interface Cursor {
  runId: string;
  after?: (string | null)[];
  offset?: number;
}

export interface BuiltQuery {
  sql: string;
  params: (string | null)[];
  columns: ServedColumn[];
  /** Columns the rows are ordered by (keyset pagination when `keyset`). */
  order: { column: ServedColumn; desc: boolean }[];
  keyset: boolean;
  limit: number;
  offset: number;
}

export interface QueryLimits {
  defaultPageSize: number;
  maxPageSize: number;
}

function badRequest(message: string, hint: string): CorrenteError {
  return new CorrenteError('CONFIG_INVALID', message, { hint });
}

/** Values a filter on this kind accepts, checked before DuckDB sees them. */
const VALUE_PATTERNS: Partial<Record<LogicalType['kind'], RegExp>> = {
  bool: /^(true|false)$/,
  int16: /^-?\d{1,5}$/,
  int32: /^-?\d{1,10}$/,
  int64: /^-?\d{1,19}$/,
  float32: /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/,
  float64: /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/,
  decimal: /^-?(\d+\.?\d*|\.\d+)$/,
  uuid: /^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$/,
  date: /^\d{4}-\d{2}-\d{2}$/,
  time: /^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$/,
  timestamp: /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$/,
  timestamptz: /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/,
};

/** Kinds a filter or order may use (lists, JSON and bytes are not comparable here). */
function comparable(col: ServedColumn): boolean {
  return col.type.kind !== 'list' && col.type.kind !== 'json' && col.type.kind !== 'bytes';
}

function columnByName(columns: readonly ServedColumn[], name: string): ServedColumn {
  const col = columns.find((c) => c.name === name);
  if (!col) {
    throw badRequest(`Unknown column ${JSON.stringify(name.slice(0, 64))}`, `Use one of: ${columns.map((c) => c.name).join(', ')}`);
  }
  return col;
}

/** A bound, typed value: `CAST($n AS TYPE)`, after checking its form. */
function bind(col: ServedColumn, value: string, params: (string | null)[]): string {
  const pattern = VALUE_PATTERNS[col.type.kind];
  if (pattern && !pattern.test(value)) {
    throw badRequest(`Filter value ${JSON.stringify(value.slice(0, 64))} is not a valid ${describeLogicalType(col.type)} for column ${col.name}`, `Example: ${exampleOf(col.type)}`);
  }
  params.push(value);
  return `CAST($${params.length} AS ${duckType(col.type)})`;
}

function exampleOf(t: LogicalType): string {
  switch (t.kind) {
    case 'date':
      return `${'2025-01-31'}`;
    case 'timestamp':
    case 'timestamptz':
      return '2025-01-31T12:00:00Z';
    case 'bool':
      return 'true';
    case 'uuid':
      return 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
    default:
      return t.kind.startsWith('int') || t.kind === 'decimal' || t.kind.startsWith('float') ? '42' : 'text';
  }
}

/** One `column=op.value` condition. */
function condition(col: ServedColumn, raw: string, params: (string | null)[]): string {
  const dot = raw.indexOf('.');
  const op = (dot < 0 ? raw : raw.slice(0, dot)) as FilterOp;
  const value = dot < 0 ? '' : raw.slice(dot + 1);
  if (!FILTER_OPS.includes(op)) {
    throw badRequest(`Unknown filter ${JSON.stringify(raw.slice(0, 64))} on column ${col.name}`, `Write ${col.name}=<op>.<value> with op one of ${FILTER_OPS.join(', ')}, e.g. ${col.name}=eq.${exampleOf(col.type)}`);
  }
  const c = quoteIdent(col.name);
  if (op === 'is') {
    if (value === 'null') return `${c} IS NULL`;
    if (value === 'notnull') return `${c} IS NOT NULL`;
    throw badRequest(`Filter ${col.name}=is.${value.slice(0, 32)} is not valid`, 'Use is.null or is.notnull');
  }
  if (!comparable(col)) throw badRequest(`Column ${col.name} (${describeLogicalType(col.type)}) cannot be filtered by value`, 'Filter it with is.null or is.notnull');
  if (op === 'in') {
    const items = value.split(',');
    if (items.length === 0 || items.length > 1000) throw badRequest(`Filter ${col.name}=in. needs 1 to 1000 values`, `e.g. ${col.name}=in.1,2,3`);
    return `${c} IN (${items.map((v) => bind(col, v, params)).join(', ')})`;
  }
  return `${c} ${SQL_OPS[op]} ${bind(col, value, params)}`;
}

function parseOrder(order: string | undefined, columns: readonly ServedColumn[], primaryKey: readonly string[]): { column: ServedColumn; desc: boolean }[] {
  const out: { column: ServedColumn; desc: boolean }[] = [];
  if (order) {
    for (const part of order.split(',')) {
      const m = /^(.+?)(?:\.(asc|desc))?$/.exec(part.trim());
      const column = columnByName(columns, m?.[1] ?? part);
      if (!comparable(column)) throw badRequest(`Column ${column.name} (${describeLogicalType(column.type)}) cannot be ordered by`, 'Order by a scalar column');
      out.push({ column, desc: m?.[2] === 'desc' });
    }
  }
  // The primary key breaks ties, so pages never overlap or skip rows.
  for (const name of primaryKey) {
    if (!out.some((o) => o.column.name === name)) out.push({ column: columnByName(columns, name), desc: false });
  }
  return out;
}

/** `(a, b) > (x, y)` for mixed directions: a > x OR (a = x AND b > y) ... */
function keysetCondition(order: { column: ServedColumn; desc: boolean }[], after: (string | null)[], params: (string | null)[]): string {
  const ors: string[] = [];
  for (let i = 0; i < order.length; i++) {
    const ands: string[] = [];
    for (let j = 0; j < i; j++) ands.push(`${quoteIdent(order[j]!.column.name)} = ${bindCursor(order[j]!.column, after[j], params)}`);
    ands.push(`${quoteIdent(order[i]!.column.name)} ${order[i]!.desc ? '<' : '>'} ${bindCursor(order[i]!.column, after[i], params)}`);
    ors.push(`(${ands.join(' AND ')})`);
  }
  return `(${ors.join(' OR ')})`;
}

function bindCursor(col: ServedColumn, value: string | null | undefined, params: (string | null)[]): string {
  if (value === null || value === undefined) throw badRequest('The cursor does not match this query', 'Start again without cursor');
  params.push(value);
  return `CAST($${params.length} AS ${duckType(col.type)})`;
}

/** Encodes a cursor for the `next` link. */
export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

/** @throws CorrenteError when the text is not a cursor this server wrote. */
export function decodeCursor(text: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Cursor;
    if (typeof c.runId !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(c.runId)) throw new Error('runId');
    if (c.after !== undefined && !(Array.isArray(c.after) && c.after.every((v) => v === null || typeof v === 'string'))) throw new Error('after');
    if (c.offset !== undefined && !(Number.isInteger(c.offset) && c.offset >= 0)) throw new Error('offset');
    return c;
  } catch {
    throw badRequest('Invalid cursor', 'Use the `next` value of a previous response as is');
  }
}

/**
 * Builds the SELECT for a page. Keyset pagination when every order column is NOT NULL
 * (the primary key always is); otherwise offset pagination.
 * @throws CorrenteError `CONFIG_INVALID` (HTTP 400) naming the bad parameter.
 */
export function buildTableQuery(
  files: readonly string[],
  columns: readonly ServedColumn[],
  primaryKey: readonly string[],
  req: TableRequest,
  limits: QueryLimits,
  cursor?: Cursor,
  /** A download: every matching row (or `req.limit`), no page size bound. */
  whole = false,
): BuiltQuery {
  const limit = req.limit ?? (whole ? Number.MAX_SAFE_INTEGER - 1 : limits.defaultPageSize);
  if (!Number.isInteger(limit) || limit < 1 || (!whole && limit > limits.maxPageSize)) {
    throw badRequest(`limit ${String(req.limit)} is out of range`, `Ask for 1 to ${limits.maxPageSize} rows per page and follow \`next\``);
  }
  const selected = req.select ? req.select.split(',').map((n) => columnByName(columns, n.trim())) : [...columns];
  const params: (string | null)[] = [];
  const where: string[] = [];
  for (const [name, raw] of Object.entries(req.filters)) {
    const col = columnByName(columns, name);
    for (const r of Array.isArray(raw) ? raw : [raw]) where.push(condition(col, r, params));
  }
  const order = parseOrder(req.order, columns, primaryKey);
  const keyset = order.length > 0 && order.every((o) => !o.column.nullable) && primaryKey.length > 0;
  let offset = req.offset ?? 0;
  if (cursor?.after && keyset) where.push(keysetCondition(order, cursor.after, params));
  else if (cursor?.offset !== undefined) offset = cursor.offset;
  // A page also reads its order columns (for the next cursor) even when not selected.
  const read = whole ? selected : [...new Set([...selected, ...order.map((o) => o.column)])];
  const from = `read_parquet([${files.map(quoteLiteral).join(', ')}], hive_partitioning = false)`;
  const sql =
    `SELECT ${read.map((c) => quoteIdent(c.name)).join(', ')} FROM ${from}` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    (order.length > 0 ? ` ORDER BY ${order.map((o) => `${quoteIdent(o.column.name)}${o.desc ? ' DESC' : ''}`).join(', ')}` : '') +
    (whole ? (req.limit ? ` LIMIT ${limit}` : '') : ` LIMIT ${limit + 1}`) +
    (offset > 0 ? ` OFFSET ${offset}` : '');
  return { sql, params, columns: selected, order, keyset, limit, offset };
}
