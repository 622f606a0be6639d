/**
 * Compares the source and Parquet fingerprints and says, per column, what differs.
 */
import { APPROX_METRICS, type FingerprintMetric, type TableFingerprint } from '../shared/fingerprint.js';
import type { TableSchema } from '../shared/table-schema.js';

/** Relative tolerance for float sums, whose last bits depend on summation order. */
const FLOAT_SUM_TOLERANCE = 1e-9;

/** `123.4500` and `123.45` are the same number; so are `-0` and `0`. */
function normaliseDecimal(v: string): string {
  let s = v.trim();
  if (/^[+-]?\d+\.\d*$/.test(s)) s = s.replace(/0+$/, '').replace(/\.$/, '');
  if (/^[+-]?0+$/.test(s)) return '0';
  return s.replace(/^\+/, '');
}

function sameValue(metric: FingerprintMetric, float32: boolean, a: string | null | undefined, b: string | null | undefined): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (metric === 'min' || metric === 'max') {
    const x = Number(a);
    const y = Number(b);
    return float32 ? Math.fround(x) === Math.fround(y) : x === y;
  }
  if (APPROX_METRICS.has(metric)) {
    const x = Number(a);
    const y = Number(b);
    return Math.abs(x - y) <= FLOAT_SUM_TOLERANCE * Math.max(1, Math.abs(x), Math.abs(y));
  }
  return normaliseDecimal(a) === normaliseDecimal(b);
}

/** Every difference as a readable line; empty when the fingerprints agree. */
export function compareFingerprints(schema: TableSchema, source: TableFingerprint, parquet: TableFingerprint): string[] {
  const out: string[] = [];
  if (normaliseDecimal(source.rows) !== normaliseDecimal(parquet.rows)) {
    out.push(`row count: source ${source.rows}, parquet ${parquet.rows}`);
  }
  for (const col of schema.columns) {
    const s = source.columns[col.name] ?? {};
    const p = parquet.columns[col.name] ?? {};
    for (const metric of Object.keys(s) as FingerprintMetric[]) {
      if (!sameValue(metric, col.type.kind === 'float32', s[metric], p[metric])) {
        out.push(`column ${JSON.stringify(col.name)} ${metric}: source ${s[metric]}, parquet ${p[metric]}`);
      }
    }
  }
  return out;
}
