/**
 * Neutral description of a table and its columns, shared by the Postgres reader, the
 * Parquet writer, the verifier and the manifest. No module-specific types leak in here.
 */
import { CorrenteError } from './errors.js';

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
  | { kind: 'list'; element: ListElementType };

/** Element kinds that arrays keep exactly when mapped to a Parquet LIST. */
export const LIST_ELEMENT_KINDS = ['bool', 'int16', 'int32', 'int64', 'text'] as const;
export type ListElementType = { kind: (typeof LIST_ELEMENT_KINDS)[number] };

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
  const parts: string[] = [];
  let i = 0;
  const s = text.trim();
  while (i <= s.length) {
    let part = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw badRef(text, 'an opening double quote is never closed');
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += s[i++];
      }
    } else {
      while (i < s.length && s[i] !== '.') part += s[i++];
    }
    parts.push(part);
    if (i >= s.length) break;
    if (s[i] !== '.') throw badRef(text, 'expected a dot after a quoted name');
    i++;
    if (i === s.length) parts.push('');
  }
  if (parts.length !== 2 || parts.some((p) => p.length === 0)) {
    throw badRef(text, 'expected exactly two non-empty parts');
  }
  return { schema: parts[0]!, name: parts[1]! };
}

function badRef(text: string, why: string): CorrenteError {
  return new CorrenteError('CONFIG_INVALID', `Invalid table name ${JSON.stringify(text)}: ${why}`, {
    hint: 'Write tables as schema.table, e.g. core.dim_item; double-quote a part that contains dots, e.g. core."a.b"',
  });
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
      return `LIST<${t.element.kind.toUpperCase()}>`;
    default:
      return t.kind.toUpperCase();
  }
}
