/**
 * Decides how each Postgres type is stored in Parquet. A type gets a native Parquet type
 * only where every value of it round-trips exactly; everything else keeps its Postgres
 * text form, and the reason is recorded in the manifest.
 */
import type { LogicalType, ScalarType } from '../shared/table-schema.js';

/** What the catalog says about one column's (base) type. */
export interface PgTypeInfo {
  /** `pg_type.typname` of the column type, or of the domain's base type. */
  typname: string;
  /** Type modifier (`atttypmod`, or the domain's `typtypmod`); -1 when none. */
  typmod: number;
  /** `pg_type.typcategory`, e.g. `A` for arrays. */
  category: string;
  /** For arrays: `typname` of the element type (of its base type, for a domain). */
  elementTypname?: string | null;
  /** For arrays: `typcategory` of the element's (base) type. */
  elementCategory?: string | null;
  /** For arrays: the element's type modifier (`numeric(10,2)[]` carries it on the column). */
  elementTypmod?: number | null;
  /** For arrays: declared dimensions (`attndims`), a hint only: Postgres does not enforce it. */
  declaredDims?: number | null;
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

/** Maps one column type. Never throws: unknown types fall back to text. */
export function mapPgType(info: PgTypeInfo): TypeDecision {
  if (info.typname === 'numeric') return mapNumeric(info.typmod);
  const scalar = SCALARS[info.typname];
  if (scalar) return { type: scalar };
  if (info.category === 'A' && info.elementTypname) return mapArray(info, info.elementTypname);
  return { type: { kind: 'text' }, note: `${info.typname} has no exact Parquet type; kept as Postgres text form` };
}

/**
 * An array becomes a LIST of its element's mapping; elements without an exact Parquet
 * type (enums, composites, intervals...) are kept as their Postgres text form inside the
 * list. The nesting depth given here is the declared one; the export checks the values
 * (`array-layout.ts`) and may keep the whole column as text instead.
 */
function mapArray(info: PgTypeInfo, elementTypname: string): TypeDecision {
  const element = mapPgType({ typname: elementTypname, typmod: info.elementTypmod ?? -1, category: info.elementCategory ?? '' });
  if (element.type.kind === 'list') return { type: { kind: 'text' }, note: `array of ${elementTypname} kept as Postgres array text` };
  const type: LogicalType = { kind: 'list', element: element.type as ScalarType, dims: Math.max(1, info.declaredDims ?? 1) };
  return element.note ? { type, note: `elements: ${element.note}` } : { type };
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
