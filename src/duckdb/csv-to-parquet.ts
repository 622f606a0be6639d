/**
 * Converts CSV written by Postgres COPY (a file, or a named pipe being written) into
 * Parquet, with every column cast to its exact type. DuckDB does the parsing and encoding in native threads,
 * off the Node event loop.
 */
import { CorrenteError, coerceError } from '../shared/errors.js';
import { describeLogicalType, formatTableRef, listDims, listTravelsAsJsonValues, quoteIdent, quoteLiteral, type ColumnSpec, type ListType, type LogicalType, type ScalarType, type TableSchema } from '../shared/table-schema.js';
import type { DuckSession } from './duckdb-session.js';
import { isOutOfMemory, outOfMemoryError } from './out-of-memory.js';
import { inPartOrder, writtenFileOf, type WrittenParquet } from './written-files.js';

export interface ParquetWriteOptions {
  compression: 'zstd' | 'snappy';
  /** zstd level; ignored for snappy. */
  compressionLevel?: number;
  /** Parquet format version (v2: data page v2 and delta encodings). */
  parquetVersion?: 'v1' | 'v2';
  rowGroupRows: number;
  /** Longest CSV line in the chunk, bytes (sizes DuckDB's read buffer). */
  maxLineBytes: number;
  /**
   * DuckDB's CSV read buffer, bytes (raised to hold the longest line). Reading a pipe
   * alone, 4 MB measured fastest (5M rows: 4.6-5.1 s vs 5.7-5.8 s with 2 or 8 MB, 8.4 s
   * with 16); inside a whole export, where the COPY sets the pace, 3 MB was as fast.
   * @defaultValue 16 MB
   */
  readBufferBytes?: number;
}

/**
 * Runs `search` over a CSV holding the rows a failed conversion read (the same format),
 * and returns its result.
 */
export type WithDiagnosisCsv = <T>(search: (csvPath: string) => Promise<T>) => Promise<T>;

/** Where a conversion writes: one file, or files rolled over at a size into a directory. */
export type ParquetTarget = { file: string } | { dir: string; fileSizeBytes: number };

/** DuckDB type a logical type is stored as. */
export function duckType(t: LogicalType): string {
  switch (t.kind) {
    case 'bool':
      return 'BOOLEAN';
    case 'int16':
      return 'SMALLINT';
    case 'int32':
      return 'INTEGER';
    case 'int64':
      return 'BIGINT';
    case 'float32':
      return 'FLOAT';
    case 'float64':
      return 'DOUBLE';
    case 'decimal':
      return `DECIMAL(${t.precision},${t.scale})`;
    case 'text':
      return 'VARCHAR';
    case 'json':
      return 'JSON';
    case 'uuid':
      return 'UUID';
    case 'bytes':
      return 'BLOB';
    case 'date':
      return 'DATE';
    case 'time':
      return 'TIME';
    case 'timestamp':
      return 'TIMESTAMP';
    case 'timestamptz':
      return 'TIMESTAMPTZ';
    case 'list':
      return `${duckType(t.element)}${'[]'.repeat(listDims(t))}`;
  }
}

/** Kinds DuckDB's CSV reader parses exactly by itself; the rest arrive as VARCHAR. */
const TYPED_IN_CSV = new Set(['bool', 'int16', 'int32', 'int64', 'float32', 'float64', 'decimal', 'text', 'uuid']);

function csvType(col: ColumnSpec): string {
  return TYPED_IN_CSV.has(col.type.kind) ? duckType(col.type) : 'VARCHAR';
}

/**
 * Expression turning the Postgres text `s` of a value of type `t` into the stored value.
 * Postgres writes BC dates with a ` BC` suffix that DuckDB's date cast would silently
 * ignore, so those take the `(BC)` route; BC timestamps are rebuilt as BC date + time of day.
 */
function fromPgText(t: ScalarType, s: string): string {
  switch (t.kind) {
    case 'json':
      return `${s}::JSON`;
    case 'bytes':
      return `unhex(substr(${s}, 3))`;
    case 'date':
      return `CASE WHEN suffix(${s}, ' BC') THEN (left(${s}, -3) || ' (BC)')::DATE ELSE ${s}::DATE END`;
    case 'timestamp':
      return `CASE WHEN suffix(${s}, ' BC') THEN (split_part(${s}, ' ', 1) || ' (BC)')::DATE + split_part(${s}, ' ', 2)::TIME ELSE ${s}::TIMESTAMP END`;
    case 'timestamptz':
      // With TimeZone=UTC every value ends in +00; a BC value ends in "+00 BC".
      return `CASE WHEN suffix(${s}, ' BC') THEN ((split_part(${s}, ' ', 1) || ' (BC)')::DATE + regexp_replace(split_part(${s}, ' ', 2), '[+-]00$', '')::TIME)::TIMESTAMPTZ ELSE ${s}::TIMESTAMPTZ END`;
    case 'text':
      return s;
    default:
      return `${s}::${duckType(t)}`;
  }
}

/**
 * A list arrives as a JSON array (nested per dimension): of integers or booleans, cast
 * directly, or of each element's Postgres text, converted exactly as a column of its
 * type would be.
 */
function fromJsonList(t: ListType, s: string): string {
  const dims = listDims(t);
  if (listTravelsAsJsonValues(t)) return `${s}::JSON::${duckType(t)}`;
  const texts = `${s}::JSON::VARCHAR${'[]'.repeat(dims)}`;
  if (t.element.kind === 'text') return texts;
  let body = fromPgText(t.element, 'e');
  for (let d = dims; d >= 1; d--) body = `list_transform(${d === 1 ? texts : `l${d - 1}`}, ${d === dims ? 'e' : `l${d}`} -> ${body})`;
  return body;
}

/** Expression turning CSV column `s` into the stored value (kinds typed by the CSV reader pass through). */
function convertExpr(col: ColumnSpec, s: string): string {
  if (col.type.kind === 'list') return fromJsonList(col.type, s);
  return TYPED_IN_CSV.has(col.type.kind) ? s : fromPgText(col.type, s);
}

const MIB = 1024 * 1024;

function lineLimit(opts: ParquetWriteOptions): number {
  return Math.max(2 * MIB, opts.maxLineBytes + 1024);
}

/** DuckDB's CSV buffer must hold a whole line. */
function bufferSize(opts: ParquetWriteOptions): number {
  return Math.max(opts.readBufferBytes ?? 16 * MIB, lineLimit(opts) + MIB);
}

/**
 * Memory a conversion needs: the read buffer plus the widest row's values in flight
 * (measured with 1 thread: v1 converts a 200 MB line in 512 MB and fails in 448 MB; v2's
 * delta encoder holds one more copy: a 100 MB line fails in 400 MB and converts in 450,
 * a 200 MB line fails in 850 MB and converts in 964), or a whole row group of
 * `rowGroupBytes` of CSV being encoded, whichever is more. Below that DuckDB does not fail
 * but spills the row group to disk: 625k rows of 820 bytes (row groups of ~48 MB of CSV)
 * spilled 30 MB at 160 MB, 4 MB at 192 and nothing at 224, and converted 20-30% slower
 * at 136 MB than at 224.
 */
export function memoryNeededMb(opts: Pick<ParquetWriteOptions, 'maxLineBytes' | 'parquetVersion'>, rowGroupBytes = 0): number {
  const copies = opts.parquetVersion === 'v2' ? 4.5 : 3.5;
  return Math.ceil(Math.max(copies * Math.max(opts.maxLineBytes, 16 * MIB), 3.5 * rowGroupBytes) / MIB) + 64;
}

/** `read_csv` of a chunk with the given column types (`c0`, `c1`, ...). */
function csvReader(csvPath: string, types: readonly string[], opts: ParquetWriteOptions): string {
  const columns = types.map((t, i) => `${quoteLiteral(`c${i}`)}: ${quoteLiteral(t)}`).join(', ');
  return (
    `read_csv(${quoteLiteral(csvPath)}, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"', ` +
    `new_line = '\\n', nullstr = '', allow_quoted_nulls = false, strict_mode = true, ` +
    `max_line_size = ${lineLimit(opts)}, buffer_size = ${bufferSize(opts)}, columns = {${columns}})`
  );
}

/**
 * `COPY (SELECT ... FROM read_csv(...)) TO ...`: one file, or `part-<i>.parquet` files in a
 * directory, each closed at the first row group that takes it past `fileSizeBytes`, with
 * DuckDB's row count and size per file returned.
 */
export function buildCsvToParquetSql(schema: TableSchema, csvPath: string, target: ParquetTarget, opts: ParquetWriteOptions): string {
  const select = schema.columns.map((c, i) => `${convertExpr(c, `c${i}`)} AS ${quoteIdent(c.name)}`).join(', ');
  const reader = csvReader(csvPath, schema.columns.map(csvType), opts);
  const level = opts.compression === 'zstd' && opts.compressionLevel ? `, COMPRESSION_LEVEL ${opts.compressionLevel}` : '';
  const files = 'dir' in target ? `, FILE_SIZE_BYTES ${target.fileSizeBytes}, FILENAME_PATTERN 'part-{i}', RETURN_STATS true` : '';
  return (
    `COPY (SELECT ${select} FROM ${reader}) TO ${quoteLiteral('dir' in target ? target.dir : target.file)} ` +
    `(FORMAT parquet, COMPRESSION ${opts.compression}${level}, ROW_GROUP_SIZE ${opts.rowGroupRows}, PARQUET_VERSION ${(opts.parquetVersion ?? 'v1').toUpperCase()}${files})`
  );
}

/** Marks the error that {@link findUnconvertible} raises to stop at the row it found. */
const FOUND = 'corrente-unconvertible:';

/**
 * A row of a chunk whose column `index` does not convert: its primary key (as text) and
 * the value's first bytes. Every column is read as text so the CSV reader itself cannot
 * fail, and the conversion is tried per value. The search stops at the row it finds by
 * raising an error, not with `LIMIT 1`, which reading a pipe does not stop: DuckDB went on
 * reading an endless pipe after the row matched (measured).
 */
async function findUnconvertible(session: DuckSession, schema: TableSchema, csvPath: string, opts: ParquetWriteOptions, index: number): Promise<{ key: string; value: string } | undefined> {
  const col = schema.columns[index]!;
  const c = `c${index}`;
  const converted = col.type.kind === 'list' ? fromJsonList(col.type, c) : fromPgText(col.type, c);
  const keys = schema.primaryKey.map((k) => schema.columns.findIndex((x) => x.name === k)).filter((i) => i >= 0);
  const keyText = keys.length > 0 ? keys.map((i) => `${quoteLiteral(`${schema.columns[i]!.name}=`)} || c${i}`).join(` || ', ' || `) : `'(no primary key)'`;
  const reader = csvReader(csvPath, schema.columns.map(() => 'VARCHAR'), opts);
  const found = `error(${quoteLiteral(FOUND)} || to_json(struct_pack(key := ${keyText}, value := left(${c}, 40))))`;
  try {
    await session.rows(`SELECT count(CASE WHEN ${c} IS NOT NULL AND try(${converted}) IS NULL THEN ${found} END) FROM ${reader}`);
    return undefined;
  } catch (err) {
    const message = coerceError(err).message;
    const at = message.indexOf(FOUND);
    if (at < 0) throw err;
    return JSON.parse(message.slice(at + FOUND.length).split('\n')[0]!) as { key: string; value: string };
  }
}

/**
 * Writes one Parquet file from one CSV file and returns its row count.
 * @throws CorrenteError `UNSUPPORTED_VALUE` naming the column when a value does not fit
 *   its type (e.g. NaN in a numeric(p,s) column), with the override that fixes it.
 */
export async function writeParquetFromCsv(
  session: DuckSession,
  schema: TableSchema,
  csvPath: string,
  parquetPath: string,
  opts: ParquetWriteOptions,
  signal?: AbortSignal,
): Promise<number> {
  const rows = await convert(session, schema, csvPath, { file: parquetPath }, opts, { signal, withDiagnosisCsv: (search) => search(csvPath) });
  return Number(rows[0]?.Count ?? rows[0]?.count ?? 0);
}

/**
 * Converts a CSV (a file, or a named pipe being written) into Parquet files of about
 * `target.fileSizeBytes` in `target.dir`, and returns them in order. An empty input
 * writes no file. The input of a pipe cannot be read twice: on a conversion error,
 * `withDiagnosisCsv` runs the search for the row to name in the error over a CSV of the
 * same rows (a pipe fed again from the source, say).
 * @throws CorrenteError `UNSUPPORTED_VALUE` as {@link writeParquetFromCsv}.
 */
export async function writeParquetFilesFromCsv(
  session: DuckSession,
  schema: TableSchema,
  csvPath: string,
  target: { dir: string; fileSizeBytes: number },
  opts: ParquetWriteOptions,
  options: { signal?: AbortSignal | undefined; withDiagnosisCsv: WithDiagnosisCsv },
): Promise<WrittenParquet[]> {
  return inPartOrder((await convert(session, schema, csvPath, target, opts, options)).map(writtenFileOf));
}

async function convert(
  session: DuckSession,
  schema: TableSchema,
  csvPath: string,
  target: ParquetTarget,
  opts: ParquetWriteOptions,
  options: { signal?: AbortSignal | undefined; withDiagnosisCsv: WithDiagnosisCsv },
): Promise<Record<string, unknown>[]> {
  const { signal } = options;
  try {
    return await session.rows(buildCsvToParquetSql(schema, csvPath, target, opts), signal);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if (isOutOfMemory(err)) throw outOfMemoryError(err, formatTableRef(schema.table), 'conversion to Parquet');
    const cause = coerceError(err);
    const index = /\bc(\d+)\b/.exec(cause.message);
    const where = index ? await options.withDiagnosisCsv((csv) => findUnconvertible(session, schema, csv, opts, Number(index[1]))).catch(() => undefined) : undefined;
    throw conversionError(schema, cause, where);
  }
}

function conversionError(schema: TableSchema, err: Error, where?: { key: string; value: string }): CorrenteError {
  const table = formatTableRef(schema.table);
  const first = err.message.split('\n')[0] ?? err.message;
  const m = /\bc(\d+)\b/.exec(err.message);
  const col = m ? schema.columns[Number(m[1])] : undefined;
  const named = first.replace(/\bc(\d+)\b/g, (_, i: string) => quoteIdent(schema.columns[Number(i)]?.name ?? `c${i}`));
  if (col) {
    const at = where ? ` at row ${where.key}, value starting ${JSON.stringify(where.value)}` : `: ${named}`;
    return new CorrenteError('UNSUPPORTED_VALUE', `${table}.${quoteIdent(col.name)} (${col.pgType}) holds a value that ${describeLogicalType(col.type)} cannot store exactly${at}. Nothing was published`, {
      table,
      column: col.name,
      cause: err,
      hint: `Keep that column as text: in corrente.yaml, tables: [{ name: ${table}, columns: { ${JSON.stringify(col.name)}: { as: text } } }]`,
    });
  }
  return new CorrenteError('UNSUPPORTED_VALUE', `${table}: DuckDB could not convert a chunk: ${named}`, { table, cause: err });
}
