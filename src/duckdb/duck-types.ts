/**
 * DuckDB result types of SQL models, mapped to the lake's logical types (what the manifest
 * records and verification understands), and the Postgres type a restore would create.
 */
import type { LogicalType } from '../shared/table-schema.js';

const SIMPLE: Record<string, LogicalType> = {
  BOOLEAN: { kind: 'bool' },
  TINYINT: { kind: 'int16' },
  SMALLINT: { kind: 'int16' },
  INTEGER: { kind: 'int32' },
  BIGINT: { kind: 'int64' },
  FLOAT: { kind: 'float32' },
  DOUBLE: { kind: 'float64' },
  VARCHAR: { kind: 'text' },
  JSON: { kind: 'json' },
  UUID: { kind: 'uuid' },
  BLOB: { kind: 'bytes' },
  DATE: { kind: 'date' },
  TIME: { kind: 'time' },
  TIMESTAMP: { kind: 'timestamp' },
  'TIMESTAMP WITH TIME ZONE': { kind: 'timestamptz' },
};

/**
 * Integer types the lake stores in a wider exact type, with the cast that does it: `sum()`
 * of an INTEGER is a HUGEINT in DuckDB, kept exactly as DECIMAL(38,0) (a value beyond 38
 * digits fails the cast loudly instead of being rounded).
 */
const WIDENED: Record<string, string> = {
  HUGEINT: 'DECIMAL(38,0)',
  UBIGINT: 'DECIMAL(20,0)',
  UINTEGER: 'BIGINT',
  USMALLINT: 'INTEGER',
  UTINYINT: 'SMALLINT',
  TINYINT: 'SMALLINT',
};

/** The DuckDB type a model column is written as: itself, or a wider exact type (see above). */
export function storedDuckType(type: string): string {
  return WIDENED[type.trim().toUpperCase()] ?? type;
}

/**
 * The logical type of a DuckDB column type as `DESCRIBE` prints it, or undefined when the
 * lake has no exact form for it (HUGEINT, unsigned, INTERVAL, STRUCT, MAP, nested lists...).
 * TINYINT widens to SMALLINT, which holds it exactly.
 */
export function logicalTypeOfDuck(type: string): LogicalType | undefined {
  const t = type.trim().toUpperCase();
  if (SIMPLE[t]) return SIMPLE[t];
  const dec = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(t);
  if (dec) return { kind: 'decimal', precision: Number(dec[1]), scale: Number(dec[2]) };
  const list = /^(.*)\[\]$/.exec(t);
  if (list) {
    const el = SIMPLE[list[1]!];
    if (el && (el.kind === 'bool' || el.kind === 'int16' || el.kind === 'int32' || el.kind === 'int64' || el.kind === 'text')) return { kind: 'list', element: { kind: el.kind } };
  }
  return undefined;
}

/** The Postgres type that holds a logical type exactly (for manifests and restores). */
export function pgTypeOfLogical(t: LogicalType): string {
  switch (t.kind) {
    case 'bool':
      return 'boolean';
    case 'int16':
      return 'smallint';
    case 'int32':
      return 'integer';
    case 'int64':
      return 'bigint';
    case 'float32':
      return 'real';
    case 'float64':
      return 'double precision';
    case 'decimal':
      return `numeric(${t.precision},${t.scale})`;
    case 'text':
      return 'text';
    case 'json':
      return 'jsonb';
    case 'uuid':
      return 'uuid';
    case 'bytes':
      return 'bytea';
    case 'date':
      return 'date';
    case 'time':
      return 'time without time zone';
    case 'timestamp':
      return 'timestamp without time zone';
    case 'timestamptz':
      return 'timestamp with time zone';
    case 'list':
      return `${pgTypeOfLogical(t.element)}[]`;
  }
}
