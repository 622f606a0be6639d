/**
 * Decides how each Postgres type is stored in Parquet. A type gets a native Parquet type
 * only where every value of it round-trips exactly; everything else keeps its Postgres
 * text form, and the reason is recorded in the manifest.
 */
import type { ListElementType, LogicalType } from '../shared/table-schema.js';

/** What the catalog says about one column's (base) type. */
export interface PgTypeInfo {
  /** `pg_type.typname` of the column type, or of the domain's base type. */
  typname: string;
  /** Type modifier (`atttypmod`, or the domain's `typtypmod`); -1 when none. */
  typmod: number;
  /** `pg_type.typcategory`, e.g. `A` for arrays. */
  category: string;
  /** For arrays: `typname` of the element type. */
  elementTypname?: string | null;
}

export interface TypeDecision {
  type: LogicalType;
  /** Set when the value is kept as text although the type is not textual. */
  note?: string;
}

/** Widest DECIMAL DuckDB and the common Parquet readers hold. */
export const MAX_DECIMAL_PRECISION = 38;

const SCALARS: Readonly<Record<string, LogicalType>> = {
  bool: { kind: 'bool' },
  int2: { kind: 'int16' },
  int4: { kind: 'int32' },
  int8: { kind: 'int64' },
  float4: { kind: 'float32' },
  float8: { kind: 'float64' },
  text: { kind: 'text' },
  varchar: { kind: 'text' },
  bpchar: { kind: 'text' },
  name: { kind: 'text' },
  citext: { kind: 'text' },
  json: { kind: 'json' },
  jsonb: { kind: 'json' },
  uuid: { kind: 'uuid' },
  bytea: { kind: 'bytes' },
  date: { kind: 'date' },
  time: { kind: 'time' },
  timestamp: { kind: 'timestamp' },
  timestamptz: { kind: 'timestamptz' },
};

const LIST_ELEMENTS: Readonly<Record<string, ListElementType>> = {
  bool: { kind: 'bool' },
  int2: { kind: 'int16' },
  int4: { kind: 'int32' },
  int8: { kind: 'int64' },
  text: { kind: 'text' },
  varchar: { kind: 'text' },
};

/** Maps one column type. Never throws: unknown types fall back to text. */
export function mapPgType(info: PgTypeInfo): TypeDecision {
  if (info.typname === 'numeric') return mapNumeric(info.typmod);
  const scalar = SCALARS[info.typname];
  if (scalar) return { type: scalar };
  if (info.category === 'A' && info.elementTypname) {
    const element = LIST_ELEMENTS[info.elementTypname];
    if (element) return { type: { kind: 'list', element } };
    return {
      type: { kind: 'text' },
      note: `array of ${info.elementTypname} has no exact Parquet LIST form here; kept as Postgres array text`,
    };
  }
  return { type: { kind: 'text' }, note: `${info.typname} has no exact Parquet type; kept as Postgres text form` };
}

/**
 * numeric(p,s) becomes DECIMAL(p,s) when DuckDB can hold it; unconstrained or wider
 * numerics (and NaN/Infinity, which DECIMAL cannot hold) stay text so no digit is lost.
 */
function mapNumeric(typmod: number): TypeDecision {
  if (typmod < 0) {
    return { type: { kind: 'text' }, note: 'numeric without precision may hold any number of digits and NaN/Infinity; kept as exact text' };
  }
  const precision = ((typmod - 4) >> 16) & 0xffff;
  // Postgres 15 stores the scale as an 11-bit signed value (negative scales are allowed).
  const rawScale = (typmod - 4) & 0x7ff;
  const scale = rawScale >= 0x400 ? rawScale - 0x800 : rawScale;
  if (precision > MAX_DECIMAL_PRECISION || scale < 0 || scale > precision) {
    return {
      type: { kind: 'text' },
      note: `numeric(${precision},${scale}) does not fit DECIMAL(<=38, 0<=s<=p); kept as exact text`,
    };
  }
  return { type: { kind: 'decimal', precision, scale } };
}
