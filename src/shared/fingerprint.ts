/**
 * Order-independent per-column checksums that Postgres (over the source snapshot) and
 * DuckDB (over the Parquet files) both compute with the same definitions, so the two
 * can be compared value for value. Exact metrics must match exactly; `approx` ones (float
 * sums, whose rounding depends on summation order) within a relative tolerance.
 *
 * What they catch: a missing or extra row (`rows`, `n`), a NULL turned into '' (`n`), a
 * NUMERIC changed in its last digit (`sum` / `hash`), a timestamp moved by 1 µs
 * (`micros`), a changed text or binary value (`hash` where `textChecksum` hashes that
 * kind; otherwise `len`, when the change alters its byte length).
 */
import type { LogicalType } from './table-schema.js';

/** Metrics of a column's values. */
export const SCALAR_METRICS = [
  'n', 'true', 'sum', 'hash', 'len', 'days', 'micros', 'posinf', 'neginf', 'nan', 'negzero', 'min', 'max', 'fsum',
] as const;
export type ScalarMetric = (typeof SCALAR_METRICS)[number];

/**
 * Metrics of a list column's elements (all dimensions flattened): `e_sum` is the sum of
 * every element, `e_n` the count of non-NULL elements, and so on. Per-row subtotals add
 * up, so they stay additive across chunks.
 */
export type ElementMetric = `e_${ScalarMetric}`;
export type FingerprintMetric = ScalarMetric | ElementMetric;

/** The scalar metric an element metric applies to each element (itself for a scalar metric). */
export function baseMetric(metric: FingerprintMetric): ScalarMetric {
  return (metric.startsWith('e_') ? metric.slice(2) : metric) as ScalarMetric;
}

/** Metrics compared with a tolerance rather than exactly. */
export const APPROX_METRICS: ReadonlySet<FingerprintMetric> = new Set(['fsum', 'e_fsum']);

/** Decimals up to this precision are summed; wider ones are hashed (a sum could overflow DECIMAL(38)). */
export const MAX_SUMMED_DECIMAL_PRECISION = 28;

/** Values as decimal strings (`null` when the aggregate has no input, e.g. min of no rows). */
export type ColumnFingerprint = Partial<Record<FingerprintMetric, string | null>>;

/** The fingerprint of a whole table (or of one part of it: all metrics are additive except min/max). */
export interface TableFingerprint {
  rows: string;
  columns: Record<string, ColumnFingerprint>;
}

/** How text-like values are checked: see {@link FingerprintOptions.textChecksum}. */
export const TEXT_CHECKSUMS = ['auto', 'md5', 'length'] as const;
export type TextChecksum = (typeof TEXT_CHECKSUMS)[number];

/** How text-like values are checked. */
export interface FingerprintOptions {
  /**
   * `md5`: an md5-based sum catches any change to a value (costs ~1 µs per value in
   * Postgres, more than the COPY itself). `length`: non-null count and byte-length sum
   * only (catches NULL/'' swaps, truncation, quoting and encoding damage; not a
   * same-length substitution). `auto`: md5 for values DuckDB converts to another
   * representation (uuid, time, bytea), where a same-length error is plausible; `length`
   * for text and JSON, which are stored byte for byte as COPY wrote them.
   * @defaultValue 'md5' (what manifests written before `auto` used)
   */
  textChecksum?: TextChecksum;
}

const TEXT_LIKE = new Set(['text', 'json', 'uuid', 'time', 'bytes']);
/** Kinds stored exactly as the COPY text: their risk is truncation or quoting, which `len` catches. */
const STORED_AS_READ = new Set(['text', 'json']);

function lengthOnly(type: LogicalType, checksum: TextChecksum): boolean {
  if (checksum === 'length') return TEXT_LIKE.has(type.kind);
  return checksum === 'auto' && STORED_AS_READ.has(type.kind);
}

/** Which metrics a column of this type gets. */
export function metricsFor(type: LogicalType, options: FingerprintOptions = {}): readonly FingerprintMetric[] {
  if (lengthOnly(type, options.textChecksum ?? 'md5')) return ['n', 'len'];
  switch (type.kind) {
    case 'bool':
      return ['n', 'true'];
    case 'int16':
    case 'int32':
    case 'int64':
      return ['n', 'sum'];
    case 'decimal':
      return type.precision <= MAX_SUMMED_DECIMAL_PRECISION ? ['n', 'sum'] : ['n', 'hash', 'len'];
    case 'float32':
    case 'float64':
      return ['n', 'nan', 'posinf', 'neginf', 'negzero', 'min', 'max', 'fsum'];
    case 'text':
    case 'json':
    case 'uuid':
    case 'time':
    case 'bytes':
      return ['n', 'hash', 'len'];
    case 'date':
      return ['n', 'days', 'posinf', 'neginf'];
    case 'timestamp':
    case 'timestamptz':
      return ['n', 'micros', 'posinf', 'neginf'];
    case 'list': {
      // n: non-NULL lists; len: elements, NULL ones included (so [] and [NULL] differ);
      // then the element type's own metrics over every element (min/max are not additive
      // per row, and the sums already see a changed element).
      const elements = metricsFor(type.element, options).filter((m) => m !== 'min' && m !== 'max');
      return ['n', 'len', ...elements.map((m) => `e_${m}` as ElementMetric)];
    }
  }
}

/** SQL alias of one metric of column number `index` (safe in both engines). */
export function metricAlias(index: number, metric: FingerprintMetric): string {
  return `m${index}_${metric}`;
}

/** Hex digits of md5 that the `hash` metric keeps (48 bits: sums stay exact in int64/numeric). */
export const HASH_HEX_DIGITS = 12;

/** Adds two exact decimal strings (any scale, any sign). */
export function addDecimalStrings(a: string, b: string): string {
  const scale = Math.max(fractionDigits(a), fractionDigits(b));
  const sum = toScaled(a, scale) + toScaled(b, scale);
  if (scale === 0) return sum.toString();
  const neg = sum < 0n;
  const digits = (neg ? -sum : sum).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

function fractionDigits(s: string): number {
  const i = s.indexOf('.');
  return i === -1 ? 0 : s.length - i - 1;
}

function toScaled(s: string, scale: number): bigint {
  const [int, frac = ''] = s.split('.');
  const neg = int!.startsWith('-');
  const v = BigInt(`${neg ? int!.slice(1) : int}${frac.padEnd(scale, '0')}` || '0');
  return neg ? -v : v;
}

/**
 * Combines the fingerprints of disjoint parts of a table (chunks) into the fingerprint of
 * the whole: counts and sums add up, min/max combine.
 */
export function mergeFingerprints(parts: readonly TableFingerprint[]): TableFingerprint {
  const out: TableFingerprint = { rows: '0', columns: {} };
  for (const part of parts) {
    out.rows = addDecimalStrings(out.rows, part.rows);
    for (const [column, fp] of Object.entries(part.columns)) {
      const acc = (out.columns[column] ??= {});
      for (const metric of Object.keys(fp) as FingerprintMetric[]) {
        const v = fp[metric] ?? null;
        const cur = acc[metric];
        if (cur === undefined) {
          acc[metric] = v;
        } else if (v === null || cur === null) {
          acc[metric] = v ?? cur;
        } else if (metric === 'min') {
          acc[metric] = Number(v) < Number(cur) ? v : cur;
        } else if (metric === 'max') {
          acc[metric] = Number(v) > Number(cur) ? v : cur;
        } else if (APPROX_METRICS.has(metric)) {
          acc[metric] = String(Number(cur) + Number(v));
        } else {
          acc[metric] = addDecimalStrings(cur, v);
        }
      }
    }
  }
  return out;
}
