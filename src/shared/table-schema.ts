/**
 * Neutral description of a table and its columns, shared by the Postgres reader, the
 * Parquet writer, the verifier and the manifest. No module-specific types leak in here.
 */
import { splitQualifiedName } from './qualified-name.js';

/** A fully qualified table name. */
export interface TableRef {
  readonly schema: string;
  readonly name: string;
}

/**
 * How a column is stored in Parquet. Each kind is exact for the Postgres values mapped
 * to it; anything that has no exact Parquet form is `text` (the Postgres text form).
 */
export type LogicalType =
  | { kind: 'bool' }
  | { kind: 'int16' }
  | { kind: 'int32' }
  | { kind: 'int64' }
  | { kind: 'float32' }
  | { kind: 'float64' }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'text' }
  | { kind: 'json' }
  | { kind: 'uuid' }
  | { kind: 'bytes' }
  | { kind: 'date' }
  | { kind: 'time' }
  | { kind: 'timestamp' }
  | { kind: 'timestamptz' }
  | ListType;

/** Every non-list type: what a LIST's elements may be. */
export type ScalarType = Exclude<LogicalType, { kind: 'list' }>;

/**
 * A Postgres array stored as a Parquet LIST: `dims` levels of nesting (a 2-D array is a
 * LIST of LISTs), each value rectangular with every lower bound 1. Arrays that are not
 * (see `src/postgres/array-layout.ts`) keep their Postgres text form instead.
 */
export interface ListType {
  kind: 'list';
  element: ScalarType;
  /** Nesting depth; absent in manifests written before multi-dimensional lists (= 1). */
  dims?: number;
}

/**
 * Whether a list travels from Postgres to DuckDB as JSON numbers/booleans (integers and
 * booleans, which JSON holds exactly) rather than as JSON strings of each element's
 * Postgres text (everything else: DuckDB reads JSON numbers as doubles, which would
 * round decimals and lose -0).
 */
export function listTravelsAsJsonValues(t: ListType): boolean {
  return ['bool', 'int16', 'int32', 'int64'].includes(t.element.kind);
}

/** Nesting depth of a list type (1 for the manifests that predate `dims`). */
export function listDims(t: ListType): number {
  return t.dims ?? 1;
}

export type LogicalKind = LogicalType['kind'];

/** One column of a source table and the decision about how to store it. */
export interface ColumnSpec {
  /** Column name exactly as in Postgres (case and spaces preserved). */
  readonly name: string;
  /** Postgres type as `format_type` prints it, e.g. `numeric(14,3)`. */
  readonly pgType: string;
  readonly nullable: boolean;
  /** The Parquet-side type chosen for this column. */
  readonly type: LogicalType;
  /** Why a lossless fallback (text) was chosen, when it was. */
  readonly note?: string;
}

/** A table as read from the catalog, with its column mapping decided. */
export interface TableSchema {
  readonly table: TableRef;
  readonly columns: readonly ColumnSpec[];
  /** Primary key column names in key order; empty when the table has none. */
  readonly primaryKey: readonly string[];
  /** Planner's row estimate (`reltuples`), for progress bars; -1 when unknown. */
  readonly estimatedRows: number;
  /** User-defined types the columns use, dependencies first (for restore). */
  readonly types?: readonly TypeDefinition[];
  /** An ordinary table (not a view, partitioned parent or foreign table): `COPY <table> TO` reads it. */
  readonly plainTable?: boolean;
}

/** How to recreate one user-defined column type (enum, composite or domain). */
export interface TypeDefinition {
  /** Schema-qualified, quoted where needed, e.g. `core.mood`. */
  readonly name: string;
  readonly kind: 'enum' | 'composite' | 'domain';
  /** The `CREATE TYPE` / `CREATE DOMAIN` statement. */
  readonly sql: string;
}

/** `schema.table` with each part quoted only where needed to stay unambiguous. */
export function formatTableRef(ref: TableRef): string {
  const part = (s: string): string => (/^[a-z_][a-z0-9_$]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`);
  return `${part(ref.schema)}.${part(ref.name)}`;
}

/**
 * Parses `schema.table`. Parts may be double-quoted (`"My Schema"."a.b"`) to hold dots,
 * quotes (doubled) or spaces. Unquoted parts are taken as written (not case-folded), so
 * `Core.Item` names the schema `Core`.
 *
 * @throws CorrenteError `CONFIG_INVALID` when the text is not `schema.table`.
 */
export function parseTableRef(text: string): TableRef {
  const [schema, name] = splitQualifiedName(text);
  return { schema: schema.value, name: name.value };
}

/** Quotes an SQL identifier (Postgres and DuckDB share the rule: double quotes, doubled inside). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes an SQL string literal (single quotes, doubled inside). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Renders a logical type for humans and manifests, e.g. `DECIMAL(14,3)` or `LIST<INT32>`. */
export function describeLogicalType(t: LogicalType): string {
  switch (t.kind) {
    case 'decimal':
      return `DECIMAL(${t.precision},${t.scale})`;
    case 'list':
      return `${'LIST<'.repeat(listDims(t))}${describeLogicalType(t.element)}${'>'.repeat(listDims(t))}`;
    default:
      return t.kind.toUpperCase();
  }
}
