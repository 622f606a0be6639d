/**
 * One row of the results table.
 */
import type { MeasurementName } from './args.js';
import { ChildFailedError } from './proc.js';

export interface Measurement {
  /** Which measurement (`--only` name) produced this row. */
  key: MeasurementName;
  /** Row label, e.g. `scaling 2w`. */
  label: string;
  /** Rows processed. */
  rows: number | null;
  /** The seconds rows/s is computed from (see `notes` for what they cover). */
  seconds: number | null;
  rowsPerSecond: number | null;
  /** Peak RSS of the process doing the work, MB. */
  peakRssMb: number | null;
  /** Where the peak came from: `VmHWM` or `VmRSS-poll`, and whose process it is. */
  peakRssSource?: string;
  /** Bytes written (Parquet files only, no manifests). */
  outputBytes: number | null;
  /** True when `rows` are rows of core.fact_demand_daily, so bytes/row compare with duckdb-ref. */
  factTableOnly: boolean;
  /** Filled in by the report: rows/s divided by limit's rows/s. */
  xLimit?: number | null;
  /** Filled in by the report: bytes per row divided by duckdb-ref's bytes per row. */
  xDuckdbRef?: number | null;
  notes: string[];
  /** Every other figure (wall seconds, export/verify seconds, per-worker RSS, ...). */
  details: Record<string, unknown>;
  /** Set when the measurement failed: the error, and a command to reproduce it. */
  error?: string;
  repro?: string;
}

export function failedMeasurement(key: MeasurementName, label: string, error: string, repro?: string): Measurement {
  return {
    key,
    label,
    rows: null,
    seconds: null,
    rowsPerSecond: null,
    peakRssMb: null,
    outputBytes: null,
    factTableOnly: false,
    notes: [],
    details: {},
    error,
    ...(repro ? { repro } : {}),
  };
}

export function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

/** A failed measurement row from an error (logged; a child's error brings its repro command). */
export function asFailure(key: MeasurementName, label: string, err: unknown): Measurement {
  const message = err instanceof Error ? err.message : String(err);
  log(`${label} FAILED: ${message.split('\n')[0]}`);
  return failedMeasurement(key, label, message, err instanceof ChildFailedError ? err.repro : undefined);
}
